"""In-process SMTP servers (aiosmtpd on 127.0.0.1), finished test messages and SMTP replies for mail tests."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from monitor.notify.mail import build_message
from monitor.notify.model import RenderedMail

TO = "reader@example.org"
SENDER = "pqwatch <pqwatch@example.org>"
UNSUBSCRIBE = "https://pqwatch.example.org/unsubscribe/tok-123"
MAIL = RenderedMail(subject="pqwatch: 1 answer corrected", text="Plain £ text\n", html="<p>HTML £ text</p>\n")
RELAYING_DENIED = "550 5.7.1 Relaying denied"
# Delivery status notifications (RFC 3464) as Postfix, Exim, Gmail and Microsoft 365 send them.
DSN = Path(__file__).parents[1] / "monitor" / "notify" / "dsn"


def message(mail: RenderedMail = MAIL, message_id: str = "<digest-1@pqwatch.example.org>") -> EmailMessage:
    """A finished message to TO with a fixed date."""
    date = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    return build_message(mail, TO, SENDER, UNSUBSCRIBE, message_id, date=date)


class FakeSleep:
    """Records the delays a transport asks for instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class SmtpRecorder:
    """An SMTP handler that accepts everything and keeps each envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.data_attempts = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        self.envelopes.append(envelope)
        return "250 2.0.0 OK"

    def received(self) -> tuple[bytes, EmailMessage]:
        """The one message received: raw bytes and parsed."""
        assert len(self.envelopes) == 1
        raw = self.envelopes[0].content
        return raw, email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


class Replies(SmtpRecorder):
    """Replies `reply` at one stage (MAIL, RCPT for one address, or DATA); accepts the rest."""

    def __init__(self, reply: str, stage: str, refused: str = "reader@example.org") -> None:
        super().__init__()
        self.reply, self.stage, self.refused = reply, stage, refused

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.stage == "mail":
            return self.reply
        envelope.mail_from = address
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.stage == "rcpt" and address == self.refused:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stage == "data" and self.refused in envelope.rcpt_tos:
            return self.reply
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(handler: SmtpRecorder, **options: Any) -> Iterator[str]:
    """Run an aiosmtpd server on 127.0.0.1 for the block; yield its smtp:// URL (no credentials)."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
