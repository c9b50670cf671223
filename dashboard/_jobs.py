"""The dashboard's background work in the web process: the invitation reminder sweep, the "scored" e-mails
to recruiters, and the webhook deliveries. Owns its tasks: ``start()`` in the lifespan, ``aclose()`` on
shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from storage import Database, get_database

from ._invite_delivery import send_due_reminders
from ._mail import Mailer, get_mail_settings
from ._score_notice import send_score_notices
from ._webhooks import get_webhook_settings, run_webhooks

__all__ = ["DashboardJobs"]

logger = logging.getLogger("mockline.dashboard")


class DashboardJobs:
    def __init__(self, *, base_url: str, db: Database | None = None) -> None:
        self.base_url = base_url
        self._db = db
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def db(self) -> Database:
        return self._db or get_database()

    def start(self) -> None:
        mail = get_mail_settings()
        if mail.enabled and mail.reminder_hours_before > 0:
            self._every(mail.reminder_sweep_s, self._remind, "mockline-invitation-reminders")
        if mail.enabled and mail.score_notices:
            self._every(mail.reminder_sweep_s, self._notify, "mockline-score-notices")
        self._every(get_webhook_settings().poll_s, self._webhooks, "mockline-webhooks")

    def _every(self, seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
        async def loop() -> None:
            while True:
                try:
                    await job()
                except Exception:
                    logger.exception("%s failed; retrying at the next interval", name)
                await asyncio.sleep(seconds)

        self._tasks.append(asyncio.create_task(loop(), name=name))

    async def _remind(self) -> None:
        await asyncio.to_thread(send_due_reminders, self.db, Mailer(), self.base_url)

    async def _notify(self) -> None:
        await asyncio.to_thread(send_score_notices, self.db, Mailer(), self.base_url)

    async def _webhooks(self) -> None:
        await run_webhooks(self.db, self.base_url)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
