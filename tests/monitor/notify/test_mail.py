"""Mail: messages are multipart with one-click unsubscribe headers and no injectable header; the SMTP
transport talks to a real in-process server (aiosmtpd on 127.0.0.1), retries 4xx with back-off
through an injected sleeper, fails 5xx at once, flags a refused recipient; the outbox writes one
.eml per Message-ID."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.notify.mail import (
    OutboxTransport,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    build_message,
    sanitize_header,
    transport_from_url,
)
from monitor.notify.render import render_digest
from tests.support.helpers import one_item_context
from tests.support.mail import (
    MAIL,
    SENDER,
    TO,
    UNSUBSCRIBE,
    FakeSleep,
    SmtpRecorder,
    free_port,
    message,
    smtp_server,
)

# --- SMTP handlers that refuse ---------------------------------------------------------------------


class BusyFirst(SmtpRecorder):
    """Answers 451 to the first `failures` DATA commands, then accepts."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_attempts < self.failures:
            self.data_attempts += 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


class RejectsData(SmtpRecorder):
    """Answers 554 to every message."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        return "554 5.6.0 Message content rejected"


class RejectsRecipient(SmtpRecorder):
    """Answers 550 on RCPT for one address."""

    def __init__(self, rejected: str) -> None:
        super().__init__()
        self.rejected = rejected
        self.rcpt_attempts = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.rcpt_attempts += 1
        if address == self.rejected:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"


def body(received: EmailMessage, subtype: str) -> str:
    """The decoded text of one part, with the wire's CRLF line ends as LF."""
    part = received.get_body((subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def check_password(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    """Accepts user "pq@watch" with password "p:ss w@rd" only."""
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"pq@watch", b"p:ss w@rd")
    return AuthResult(success=ok, handled=False)


def transport(url: str, sleep: FakeSleep, attempts: int = 4) -> SmtpTransport:
    """An SMTP transport with a short timeout and the fake sleeper."""
    return SmtpTransport(url, sleep=sleep, attempts=attempts, base_delay=2.0, timeout=5)


# --- SMTP transport -------------------------------------------------------------------------------


def test_message_arrives_multipart_with_both_parts_and_one_click_unsubscribe_headers() -> None:
    handler, sleep = SmtpRecorder(), FakeSleep()
    with smtp_server(handler) as url:
        transport(url, sleep).send(message())
    raw, received = handler.received()
    assert handler.envelopes[0].rcpt_tos == [TO]
    assert handler.envelopes[0].mail_from == "pqwatch@example.org"
    assert received.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in received.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert body(received, "plain") == "Plain £ text\n"
    assert body(received, "html") == "<p>HTML £ text</p>\n"
    assert all(part.get_content_charset() == "utf-8" for part in received.iter_parts())
    assert f"List-Unsubscribe: <{UNSUBSCRIBE}>".encode() in raw
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Message-ID"] == "<digest-1@pqwatch.example.org>"
    assert received["Date"] == "Mon, 30 Nov 2026 06:00:00 +0000"
    assert sleep.delays == []


def test_4xx_is_retried_with_exponential_back_off_then_succeeds() -> None:
    handler, sleep = BusyFirst(failures=2), FakeSleep()
    with smtp_server(handler) as url:
        transport(url, sleep).send(message())
    assert sleep.delays == [2.0, 4.0]
    assert handler.data_attempts == 3 and len(handler.envelopes) == 1


def test_4xx_on_every_attempt_raises_temporary_failure_after_the_last() -> None:
    handler, sleep = BusyFirst(failures=99), FakeSleep()
    with smtp_server(handler) as url, pytest.raises(TemporaryFailure) as failure:
        transport(url, sleep, attempts=4).send(message())
    assert sleep.delays == [2.0, 4.0, 8.0]
    assert handler.data_attempts == 4 and handler.envelopes == []
    assert "451" in str(failure.value) and "\n" not in str(failure.value)


def test_5xx_raises_permanent_failure_without_retry() -> None:
    handler, sleep = RejectsData(), FakeSleep()
    with smtp_server(handler) as url, pytest.raises(PermanentFailure) as failure:
        transport(url, sleep).send(message())
    assert sleep.delays == [] and handler.data_attempts == 1
    assert failure.value.recipient_rejected is False
    assert "554" in str(failure.value)


def test_recipient_refused_with_5xx_is_permanent_and_flags_the_recipient() -> None:
    handler, sleep = RejectsRecipient(TO), FakeSleep()
    with smtp_server(handler) as url, pytest.raises(PermanentFailure) as failure:
        transport(url, sleep).send(message())
    assert failure.value.recipient_rejected is True
    assert TO in str(failure.value) and "550" in str(failure.value)
    assert sleep.delays == [] and handler.rcpt_attempts == 1


def test_server_down_raises_temporary_failure_after_retries() -> None:
    sleep = FakeSleep()
    with pytest.raises(TemporaryFailure) as failure:
        transport(f"smtp://127.0.0.1:{free_port()}", sleep, attempts=4).send(message())
    assert sleep.delays == [2.0, 4.0, 8.0]
    assert "cannot reach" in str(failure.value)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_url_decoded_credentials_when_the_server_requires_auth() -> None:
    handler, sleep = SmtpRecorder(), FakeSleep()
    options = {"authenticator": check_password, "auth_required": True, "auth_require_tls": False}
    with smtp_server(handler, **options) as url:
        credentialed = url.replace("smtp://", "smtp://pq%40watch:p%3Ass%20w%40rd@")
        transport(credentialed, sleep).send(message())
    assert len(handler.envelopes) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("credentials", ["", "pq%40watch:wrong@"])
def test_missing_or_wrong_credentials_are_a_permanent_failure(credentials: str) -> None:
    handler, sleep = SmtpRecorder(), FakeSleep()
    options = {"authenticator": check_password, "auth_required": True, "auth_require_tls": False}
    with smtp_server(handler, **options) as url, pytest.raises(PermanentFailure) as failure:
        transport(url.replace("smtp://", f"smtp://{credentials}"), sleep).send(message())
    assert handler.envelopes == [] and sleep.delays == []
    assert failure.value.recipient_rejected is False
    assert "wrong" not in str(failure.value)  # a password never reaches a message


def test_starttls_requested_but_not_offered_is_permanent() -> None:
    handler, sleep = SmtpRecorder(), FakeSleep()
    with smtp_server(handler) as url, pytest.raises(PermanentFailure, match="STARTTLS"):
        transport(url + "?starttls=1", sleep).send(message())
    assert handler.envelopes == []


# --- header injection -----------------------------------------------------------------------------


def header_lines(raw: bytes) -> list[str]:
    """The header lines of a raw message (continuation lines joined)."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
    return head.replace("\n ", " ").replace("\n\t", " ").split("\n")


@pytest.mark.parametrize(
    "subject",
    [
        "Changes\r\nBcc: victim@example.org",
        "Changes\nBcc: victim@example.org\n\nInjected body",
        "Changes\rBcc: victim@example.org",
        "=?utf-8?q?a=0D=0ABcc:_victim@example.org?=",
        "=?utf-8?b?YQ0KQmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=",
        "x =?utf-8?q?=3D=3Futf-8=3Fq=3Fa=3D0D=3D0ABcc:_victim@example.org=3F=3D?= y",
        "Changes\u2028Bcc: victim@example.org\x85X-Evil: 1",
    ],
)
def test_no_subject_creates_an_extra_header_at_the_server(subject: str) -> None:
    handler, sleep = SmtpRecorder(), FakeSleep()
    with smtp_server(handler) as url:
        transport(url, sleep).send(message(replace(MAIL, subject=subject)))
    raw, received = handler.received()
    names = [line.split(":", 1)[0] for line in header_lines(raw)]
    assert "Bcc" not in names and "X-Evil" not in names
    assert sorted(names) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "Auto-Submitted",
            "MIME-Version",
            "Content-Type",
        ]
    )
    assert handler.envelopes[0].rcpt_tos == [TO]
    assert "\n" not in str(received["Subject"]) and "\r" not in str(received["Subject"])
    assert body(received, "plain") == "Plain £ text\n"


def test_an_encoded_newline_in_a_scraped_heading_never_reaches_the_server_as_a_header() -> None:
    heading = "Schools =?utf-8?q?a=0D=0ABcc:_victim@example.org?="
    mail = render_digest(one_item_context(heading=heading))
    handler, sleep = SmtpRecorder(), FakeSleep()
    with smtp_server(handler) as url:
        transport(url, sleep).send(message(mail))
    raw, received = handler.received()
    assert not any(line.startswith("Bcc") for line in header_lines(raw))
    assert received["Bcc"] is None and handler.envelopes[0].rcpt_tos == [TO]
    assert "Bcc:" in str(received["Subject"])  # still there, but as text on the subject line


@pytest.mark.parametrize(
    "to",
    [
        "",
        "not-an-address",
        "Reader <reader@example.org>",
        "reader@example.org, other@example.org",
        "reader@example.org\r\nBcc: victim@example.org",
        "reader@example.org\nBcc: victim@example.org",
        " reader@example.org",
        "=?utf-8?q?a=0D=0A?=@example.org",
        "reader@@example.org",
        "reader@example.org\x00",
    ],
)
def test_build_message_refuses_anything_but_one_plain_address(to: str) -> None:
    with pytest.raises(ValueError):
        build_message(MAIL, to, SENDER, UNSUBSCRIBE, "<a@b>")


@pytest.mark.parametrize(
    "url", ["https://x.example/u\r\nBcc: v@example.org", "javascript:alert(1)", "https://x/<a>"]
)
def test_build_message_refuses_an_unsubscribe_url_unfit_for_a_header(url: str) -> None:
    with pytest.raises(ValueError):
        build_message(MAIL, TO, SENDER, url, "<a@b>")


def test_a_long_unsubscribe_url_is_not_folded_into_encoded_words() -> None:
    url = "https://pqwatch.example.org/unsubscribe?token=" + "Ab1_-" * 40
    raw = build_message(MAIL, TO, SENDER, url, "<a@b>").as_bytes()
    assert f"List-Unsubscribe: <{url}>".encode() in raw


def test_sender_display_name_is_sanitised_and_a_sender_list_refused() -> None:
    built = build_message(MAIL, TO, '"pq\r\nBcc: v@example.org" <pq@example.org>', UNSUBSCRIBE, "<a@b>")
    assert built["From"].addresses[0].addr_spec == "pq@example.org"
    assert "Bcc" not in [line.split(":", 1)[0] for line in header_lines(built.as_bytes())]
    with pytest.raises(ValueError, match="PQWATCH_MAIL_FROM"):
        build_message(MAIL, TO, "pq\r\nBcc: v@example.org <pq@example.org>", UNSUBSCRIBE, "<a@b>")


def test_sanitize_header_collapses_whitespace_strips_controls_and_caps_length() -> None:
    assert sanitize_header("  a\t\tb \r\n c\x00d\x7fe ") == "a b c d e"
    assert sanitize_header("=?utf-8?q?a=0D=0ABcc:x?=") == "a Bcc:x"
    assert sanitize_header("Caf =?utf-8?q?=C3=A9?=") == "Caf é"
    capped = sanitize_header("word " * 100)
    assert len(capped) == 200 and capped.endswith("…")
    assert sanitize_header("=?bogus-charset?q?a=0D=0Ab?=").count("=?") == 0


# --- outbox ---------------------------------------------------------------------------------------


def test_outbox_writes_one_eml_per_message_id_and_is_idempotent(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    outbox.send(message())
    outbox.send(message())
    outbox.send(message(message_id="<digest-2@pqwatch.example.org>"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]
    assert outbox.path_for("<digest-1@pqwatch.example.org>") in files
    received = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert received["Subject"] == "pqwatch: 1 answer corrected"
    assert received["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert received.get_content_type() == "multipart/alternative"


def test_outbox_file_names_are_safe_and_distinct_for_hostile_message_ids(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    paths = [
        outbox.path_for(f"<{local}@pqwatch.example.org>") for local in ("../../etc/x", ".._.._etc_x", "a/b")
    ]
    assert len(set(paths)) == 3
    assert all(path.parent == tmp_path / "outbox" and not path.name.startswith(".") for path in paths)
    outbox.send(message(message_id="<../../escape@pqwatch.example.org>"))
    assert [path.parent for path in (tmp_path / "outbox").iterdir()] == [tmp_path / "outbox"]
    assert not (tmp_path / "escape@pqwatch.example.org").exists()


def test_outbox_leaves_no_temporary_files(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    outbox.send(message())
    assert [path.name.endswith(".eml") for path in tmp_path.iterdir()] == [True]


# --- choosing a transport -------------------------------------------------------------------------


def test_transport_from_url_is_smtp_with_a_url_and_the_outbox_without(tmp_path: Path) -> None:
    assert isinstance(transport_from_url("smtp://127.0.0.1:2525", tmp_path), SmtpTransport)
    assert isinstance(transport_from_url("smtps://u:p@mail.example.org", tmp_path), SmtpTransport)
    assert isinstance(transport_from_url(None, tmp_path), OutboxTransport)
    assert isinstance(transport_from_url("", tmp_path), OutboxTransport)


@pytest.mark.parametrize(
    "url",
    ["http://u:secret@mail.example.org", "mailto:x@example.org", "smtp://", "smtp://h:port", "smtp://h?x=1"],
)
def test_transport_from_url_rejects_other_urls_naming_the_setting(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PQWATCH_SMTP_URL") as error:
        transport_from_url(url, tmp_path)
    assert "secret" not in str(error.value)


def test_smtps_to_a_plain_text_server_fails_without_sending_in_clear() -> None:
    handler, sleep = SmtpRecorder(), FakeSleep()
    with smtp_server(handler) as url, pytest.raises(TemporaryFailure, match="SSL"):
        transport(url.replace("smtp://", "smtps://"), sleep, attempts=2).send(message())
    assert handler.envelopes == [] and sleep.delays == [2.0]
