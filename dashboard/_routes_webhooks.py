"""Webhook endpoints of the organisation (admins): add one (its signing secret is shown once), turn one off,
remove one, and see the latest deliveries with their attempts and errors."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import desc, select

from storage import Database, WebhookDelivery, WebhookEndpoint

from ._deps import DatabaseDep
from ._errors import NotFound
from ._roles import ADMIN
from ._sessions import Viewer
from ._web import SignedForm, edit_form, need, render
from ._webhook_wire import EVENTS

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()


def _page(
    request: Request,
    db: Database,
    viewer: Viewer,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    new_secret: str | None = None,
    status_code: int = 200,
) -> Response:
    with db.session() as s:
        endpoints = list(
            s.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.org_id == viewer.org_id)
                .order_by(WebhookEndpoint.created_at)
            )
        )
        deliveries = s.execute(
            select(WebhookDelivery, WebhookEndpoint.url)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookEndpoint.org_id == viewer.org_id)
            .order_by(desc(WebhookDelivery.id))
            .limit(20)
        ).all()
    return render(
        request,
        "webhooks.html",
        {
            "title": "Webhooks",
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "endpoints": endpoints,
            "deliveries": deliveries,
            "events": EVENTS,
            "errors": errors or {},
            "form": form or {},
            "new_secret": new_secret,
        },
        status_code=status_code,
    )


@router.get("/dashboard/webhooks", name="webhooks")
def webhooks(request: Request, db: DatabaseDep, viewer: Viewer = Depends(need(ADMIN))) -> Response:
    return _page(request, db, viewer)


@router.post("/dashboard/webhooks", name="webhook_create")
def webhook_create(
    request: Request, db: DatabaseDep, form: SignedForm = Depends(edit_form(ADMIN))
) -> Response:
    viewer = form.viewer
    url = form.get("url")
    events = [e for e in form.data.getlist("events") if e in EVENTS]
    errors: dict[str, str] = {}
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(url) > 2000:
        errors["url"] = "Enter the full address of your receiver, e.g. https://hooks.example.com/mockline."
    if not events:
        errors["events"] = "Choose at least one event."
    if errors:
        return _page(request, db, viewer, errors=errors, form={"url": url}, status_code=422)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with db.session() as s:
        s.add(WebhookEndpoint(org_id=viewer.org_id, url=url, secret=secret, events=events))
    logger.info("webhook endpoint added", extra={"user_id": viewer.user_id})
    return _page(request, db, viewer, new_secret=secret)


def _endpoint(s, viewer: Viewer, endpoint_id: str) -> WebhookEndpoint:  # type: ignore[no-untyped-def]
    ep = s.get(WebhookEndpoint, endpoint_id) if len(endpoint_id) <= 64 else None
    if ep is None or ep.org_id != viewer.org_id:
        raise NotFound("No such webhook.")
    return ep


@router.post("/dashboard/webhooks/{endpoint_id}/toggle", name="webhook_toggle")
def webhook_toggle(
    endpoint_id: str, db: DatabaseDep, form: SignedForm = Depends(edit_form(ADMIN))
) -> Response:
    with db.session() as s:
        ep = _endpoint(s, form.viewer, endpoint_id)
        ep.active = not ep.active
    return RedirectResponse("/dashboard/webhooks", status_code=303)


@router.post("/dashboard/webhooks/{endpoint_id}/delete", name="webhook_delete")
def webhook_delete(
    endpoint_id: str, db: DatabaseDep, form: SignedForm = Depends(edit_form(ADMIN))
) -> Response:
    with db.session() as s:
        s.delete(_endpoint(s, form.viewer, endpoint_id))
    logger.info("webhook endpoint removed", extra={"user_id": form.viewer.user_id})
    return RedirectResponse("/dashboard/webhooks", status_code=303)
