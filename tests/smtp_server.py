"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping every message it accepts.

Messages are stored before the server answers the client's DATA, so once ``smtplib`` returns, the message
is here — no waiting needed. ``refuse`` makes the server reject those recipients (550).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    """Starts the server and points ``MOCKLINE_SMTP_*`` at it (plain SMTP on loopback)."""
    from dashboard._mail import get_mail_settings

    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MOCKLINE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MOCKLINE_SMTP_PORT", str(port))
    monkeypatch.setenv("MOCKLINE_SMTP_SECURITY", "none")
    monkeypatch.setenv("MOCKLINE_SMTP_FROM_ADDRESS", "talent@acme.test")
    get_mail_settings.cache_clear()
    try:
        yield inbox
    finally:
        controller.stop()
        get_mail_settings.cache_clear()
