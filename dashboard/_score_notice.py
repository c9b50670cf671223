""" "Kay Kim's interview is scored": an e-mail to the recruiter who invited the candidate, with the overall
score, the recommendation and a link to the interview page. Swept from the web process like the reminders;
claiming and sending happen in one transaction, so an unreachable mail server leaves the notice due."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from sqlalchemy import desc, select

from storage import (
    Database,
    Interview,
    Invitation,
    ScoreOverride,
    User,
    claim_score_notice,
    due_score_notices,
    latest_report,
)

from ._invitation_mail import _html_env, _text_env
from ._labels import human
from ._mail import Mailer, MailError, MailSettings, compose

__all__ = ["score_notice_message", "send_score_notices"]

logger = logging.getLogger("mockline.dashboard.mail")


def score_notice_message(
    settings: MailSettings,
    *,
    to: str,
    to_name: str,
    candidate: str,
    plan_title: str,
    overall: float | None,
    recommendation: str | None,
    link: str,
) -> EmailMessage:
    ctx = {
        "recruiter": to_name,
        "candidate": candidate or "A candidate",
        "plan_title": plan_title,
        "overall": "–" if overall is None else f"{overall:.1f}",
        "recommendation": human(recommendation) if recommendation else "",
        "link": link,
    }
    text = _text_env.get_template("scored.txt").render(ctx)
    html = _html_env.get_template("scored.html").render(ctx)
    subject = f"Scored: {ctx['candidate']} for {plan_title}"
    return compose(settings, to=to, to_name=to_name, subject=subject, text=text, html=html)


def _message(s, mailer: Mailer, base_url: str, iv: Interview) -> EmailMessage | None:  # type: ignore[no-untyped-def]
    inv = s.get(Invitation, iv.invitation_id) if iv.invitation_id else None
    user = s.get(User, inv.created_by) if inv is not None and inv.created_by else None
    if user is None:
        return None
    report = latest_report(s, iv.id)
    overall = report.overall if report is not None else iv.overall_score
    if report is not None:
        override = s.scalar(
            select(ScoreOverride.new_score)
            .where(ScoreOverride.report_id == report.id, ScoreOverride.target == "overall")
            .order_by(desc(ScoreOverride.id))
            .limit(1)
        )
        overall = override if override is not None else overall
    return score_notice_message(
        mailer.settings,
        to=user.email,
        to_name=user.name,
        candidate=iv.candidate_name,
        plan_title=iv.plan.title,
        overall=overall,
        recommendation=report.recommendation if report is not None else None,
        link=f"{base_url.rstrip('/')}/dashboard/interviews/{iv.id}",
    )


def send_score_notices(db: Database, mailer: Mailer, base_url: str, *, limit: int = 100) -> int:
    """E-mail the recruiters of recently scored interviews, once each; returns how many were sent. Safe to
    run from several processes at once."""
    if not mailer.enabled or not mailer.settings.score_notices:
        return 0
    with db.session() as s:
        due = due_score_notices(s, limit=limit)
    sent = 0
    for interview_id in due:
        try:
            with db.session() as s:
                if not claim_score_notice(s, interview_id):
                    continue  # another sweeper has it
                iv = s.get(Interview, interview_id)
                msg = _message(s, mailer, base_url, iv) if iv is not None else None
                if msg is None:
                    continue  # the recruiter has left the team: nobody to tell (the claim stays)
                problem = mailer.send([msg])[0]
            if problem is None:
                sent += 1
            else:  # refused for good (a bad address): the claim stays, no retry
                logger.warning(
                    "score notice refused by the mail server", extra={"interview_id": interview_id}
                )
        except MailError:
            logger.warning("score notice not sent: mail server unreachable; the next sweep tries again")
            return sent
    if sent:
        logger.info("sent %d score notice(s)", sent)
    return sent
