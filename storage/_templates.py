"""An organisation's own e-mail wording (``EmailTemplate`` rows): read, save (insert or replace), reset."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ._models import EmailTemplate, utcnow

__all__ = ["delete_email_template", "get_email_template", "save_email_template"]


def get_email_template(s: Session, *, org_id: str | None, kind: str) -> EmailTemplate | None:
    """The organisation's template of ``kind``, or None (the built-in wording)."""
    if org_id is None:
        return None
    return s.scalar(select(EmailTemplate).where(EmailTemplate.org_id == org_id, EmailTemplate.kind == kind))


def save_email_template(
    s: Session, *, org_id: str, kind: str, subject: str, body: str, user_id: str | None
) -> EmailTemplate:
    row = get_email_template(s, org_id=org_id, kind=kind)
    if row is None:
        row = EmailTemplate(org_id=org_id, kind=kind, subject=subject, body=body, updated_by=user_id)
        s.add(row)
    else:
        row.subject, row.body, row.updated_by, row.updated_at = subject, body, user_id, utcnow()
    s.flush()
    return row


def delete_email_template(s: Session, *, org_id: str, kind: str) -> None:
    s.execute(delete(EmailTemplate).where(EmailTemplate.org_id == org_id, EmailTemplate.kind == kind))
