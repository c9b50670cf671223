"""Signed outgoing webhooks, delivered from the transactional outbox with retries and backoff.

``interview.finished`` is written by the agent in the transaction that ends an interview, ``report.ready`` by
scoring in the transaction that saves a report (``OutboxEvent``). Delivery runs in two steps, safe to run in
several processes at once:

1. **fan-out**: each outbox event of a subscribed kind, for an interview of an organisation with an active
   endpoint, made after the endpoint was, becomes one ``WebhookDelivery`` (unique per endpoint and event);
2. **deliver**: a due delivery is claimed with a conditional UPDATE (its ``next_attempt_at`` pushed out by a
   lease), POSTed, and then marked delivered (any 2xx), or rescheduled with exponential backoff, or given up
   after ``max_attempts`` (``failed_at``). At-least-once: a receiver dedupes on ``Mockline-Delivery``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from storage import (
    Database,
    Interview,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
    latest_report,
)

from ._webhook_wire import EVENTS, SIGNATURE_HEADER, body_bytes, sign

__all__ = ["WebhookSettings", "backoff_s", "deliver_due", "fan_out", "get_webhook_settings", "run_webhooks"]

logger = logging.getLogger("mockline.dashboard.webhooks")


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_WEBHOOK_", extra="ignore")

    poll_s: float = Field(default=5.0, gt=0)  # how often the web process looks for work
    timeout_s: float = Field(default=10.0, gt=0)  # per request
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_s: float = Field(default=10.0, gt=0)  # 10 s, 20 s, 40 s, … capped
    backoff_cap_s: float = Field(default=3600.0, gt=0)
    lease_s: float = Field(default=60.0, gt=0)  # a claimed delivery is not retried by others before this


@functools.lru_cache(maxsize=1)
def get_webhook_settings() -> WebhookSettings:
    return WebhookSettings()


def backoff_s(attempts: int, settings: WebhookSettings) -> float:
    """Wait after the ``attempts``-th failure (1-based)."""
    return min(settings.backoff_base_s * 2 ** (attempts - 1), settings.backoff_cap_s)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def fan_out(db: Database, *, limit: int = 500) -> int:
    """Create the deliveries outbox events owe to endpoints; returns how many were created."""
    made = 0
    with db.session() as s:
        endpoints = [
            (e.id, e.org_id, list(e.events), e.created_at)
            for e in s.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
        ]
    for endpoint_id, org_id, events, since in endpoints:
        kinds = [k for k in events if k in EVENTS]
        if not kinds:
            continue
        try:
            with db.session() as s:
                owed = s.execute(
                    select(OutboxEvent.id, OutboxEvent.kind)
                    .join(Interview, Interview.id == OutboxEvent.interview_id)
                    .where(
                        Interview.org_id == org_id,
                        OutboxEvent.kind.in_(kinds),
                        OutboxEvent.created_at >= since,
                        ~exists().where(
                            WebhookDelivery.endpoint_id == endpoint_id,
                            WebhookDelivery.event_id == OutboxEvent.id,
                        ),
                    )
                    .order_by(OutboxEvent.id)
                    .limit(limit)
                ).all()
                for event_id, kind in owed:
                    s.add(WebhookDelivery(endpoint_id=endpoint_id, event_id=event_id, kind=kind))
                s.flush()
                made += len(owed)
        except IntegrityError:
            logger.debug("another process fanned out the same events; skipped")
    return made


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: int
    attempts: int
    url: str
    secret: str
    kind: str
    payload: dict[str, Any]


def _iso(dt: datetime | None) -> str | None:
    return _aware(dt).astimezone(UTC).replace(microsecond=0).isoformat() if dt else None


def _payload(s, event: OutboxEvent, base_url: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    iv = s.get(Interview, event.interview_id)
    data: dict[str, Any] = {
        "interview_id": iv.id,
        "plan_id": iv.plan_id,
        "candidate_name": iv.candidate_name,
        "status": iv.status,
        "channel": iv.channel,
        "started_at": _iso(iv.started_at),
        "ended_at": _iso(iv.ended_at),
        "url": f"{base_url.rstrip('/')}/dashboard/interviews/{iv.id}",
    }
    if event.kind == "report.ready":
        report = latest_report(s, iv.id)
        if report is not None:
            data.update(
                overall=report.overall,
                recommendation=report.recommendation,
                report_version=report.version,
                report_url=f"{base_url.rstrip('/')}/api/interviews/{iv.id}/report",
            )
    return {"id": f"evt_{event.id}", "type": event.kind, "created_at": _iso(event.created_at), "data": data}


def _claim_due(
    db: Database, settings: WebhookSettings, base_url: str, now: datetime, limit: int
) -> list[_Job]:
    jobs: list[_Job] = []
    with db.session() as s:
        due = s.execute(
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        ).all()
    for delivery_id, when in due:
        with db.session() as s:
            won = s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at == when)
                .values(next_attempt_at=now + timedelta(seconds=settings.lease_s))
            ).rowcount  # type: ignore[attr-defined]
            if not won:
                continue
            d = s.get(WebhookDelivery, delivery_id)
            ep = s.get(WebhookEndpoint, d.endpoint_id)
            event = s.get(OutboxEvent, d.event_id)
            if ep is None or event is None or not ep.active:
                d.failed_at = now
                d.last_error = "endpoint removed or turned off"
                continue
            jobs.append(_Job(d.id, d.attempts, ep.url, ep.secret, d.kind, _payload(s, event, base_url)))
    return jobs


def _record(
    db: Database, settings: WebhookSettings, job: _Job, status: int | None, error: str | None, now: datetime
) -> None:
    with db.session() as s:
        d = s.get(WebhookDelivery, job.delivery_id)
        if d is None:
            return
        d.attempts = job.attempts + 1
        d.last_status = status
        if error is None:
            d.delivered_at = now
            d.last_error = None
        else:
            d.last_error = error[:1000]
            if d.attempts >= settings.max_attempts:
                d.failed_at = now
            else:
                d.next_attempt_at = now + timedelta(seconds=backoff_s(d.attempts, settings))


async def _post(client: httpx.AsyncClient, job: _Job) -> tuple[int | None, str | None]:
    body = body_bytes(job.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mockline-webhooks/1",
        "Mockline-Event": job.kind,
        "Mockline-Delivery": str(job.delivery_id),
        SIGNATURE_HEADER: sign(job.secret, int(time.time()), body),  # the wall clock, for the receiver
    }
    try:
        r = await client.post(job.url, content=body, headers=headers)
    except httpx.HTTPError as e:
        return None, f"{type(e).__name__}: could not reach the endpoint"
    if 200 <= r.status_code < 300:
        return r.status_code, None
    return r.status_code, f"HTTP {r.status_code}"


async def deliver_due(
    db: Database,
    base_url: str,
    *,
    settings: WebhookSettings | None = None,
    client: httpx.AsyncClient | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> tuple[int, int]:
    """POST every due delivery once; returns ``(delivered, failed_attempts)``."""
    settings = settings or get_webhook_settings()
    now = now or datetime.now(UTC)
    jobs = await asyncio.to_thread(_claim_due, db, settings, base_url, now, limit)
    if not jobs:
        return 0, 0
    own = client is None
    client = client or httpx.AsyncClient(timeout=settings.timeout_s, follow_redirects=False)
    ok = bad = 0
    try:
        for job in jobs:
            status, error = await _post(client, job)
            await asyncio.to_thread(_record, db, settings, job, status, error, now)
            if error is None:
                ok += 1
            else:
                bad += 1
                logger.warning(
                    "webhook delivery failed; will retry",
                    extra={"delivery_id": job.delivery_id, "error": error},
                )
    finally:
        if own:
            await client.aclose()
    if ok:
        logger.info("delivered %d webhook(s)", ok)
    return ok, bad


async def run_webhooks(db: Database, base_url: str) -> None:
    """One cycle: fan out new events, then deliver what is due."""
    await asyncio.to_thread(fan_out, db)
    await deliver_due(db, base_url)
