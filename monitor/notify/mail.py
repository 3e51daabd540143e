"""Mail: build a multipart message from a RenderedMail, and hand it to a transport (SMTP or an outbox
folder of .eml files). Header values are sanitised: no CR/LF from scraped text reaches a header."""

from __future__ import annotations

import email.policy
import hashlib
import os
import re
import smtplib
import ssl
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from monitor.notify.model import RenderedMail

HEADER_LIMIT = 200
SMTP_SETTING = "PQWATCH_SMTP_URL"
# Python 3.11's folder turns a long header without spaces (a List-Unsubscribe URL) into RFC 2047
# encoded words, which breaks the URL; headers are written unfolded up to RFC 5322's 998 instead.
HEADER_POLICY = email.policy.default.clone(max_line_length=998)
# A plain addr-spec: no display name, no list, no comments, no whitespace or control characters.
_PLAIN_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+")
_MESSAGE_ID = re.compile(r"<?([^\s<>@]+@[^\s<>@]+)>?")


class MailError(Exception):
    """A message could not be handed over; the message is one line."""


class TemporaryFailure(MailError):
    """Trying the same message again later may work (a 4xx reply, a connection refused or dropped)."""


class PermanentFailure(MailError):
    """Trying the same message again will not work (a 5xx reply); see `recipient_rejected`."""

    def __init__(self, message: str, *, recipient_rejected: bool = False) -> None:
        super().__init__(message)
        self.recipient_rejected = recipient_rejected


class Transport(Protocol):
    """Hands one finished message to wherever mail goes.

    Contract: `send` returns only once the message is accepted whole (by the SMTP server for every
    recipient, or written to the outbox). It raises TemporaryFailure when the same message may go
    through later (a 4xx reply, the server unreachable or dropping the connection, after the
    transport's own retries), and PermanentFailure when it will not (a 5xx reply, a TLS certificate
    that does not verify). `PermanentFailure.recipient_rejected` is True when the server refused the
    recipient address itself, so the caller can stop mailing that address; other permanent failures
    are about the message or the server set-up, not the subscriber. A transport never deduplicates:
    the caller's outbox rows make sure one digest is sent once.
    """

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` or raise TemporaryFailure / PermanentFailure."""
        ...


def sanitize_header(value: str, limit: int = HEADER_LIMIT) -> str:
    """Make a value safe for one header line: encoded words decoded, control characters and
    newlines gone, whitespace collapsed, length capped with an ellipsis."""
    text = _decode_words(value)
    text = "".join(" " if _is_control(char) else char for char in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _decode_words(value: str) -> str:
    # The email package decodes RFC 2047 words when a header is set, so "=?utf-8?q?a=0D=0ABcc:x?="
    # would become a raw CRLF on the wire: decode them here (nested ones too), before stripping.
    text = value
    for _ in range(5):
        try:
            decoded = str(make_header(decode_header(text)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            break
        if decoded == text:
            return text
        text = decoded
    # Undecodable or still nesting: break every "=?" so nothing downstream reads an encoded word.
    return text.replace("=?", "= ?")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def build_message(
    mail: RenderedMail,
    to: str,
    sender: str,
    unsubscribe_url: str,
    message_id: str,
    *,
    date: datetime | None = None,
) -> EmailMessage:
    """Build a multipart/alternative (text + HTML) UTF-8 message with one-click unsubscribe headers."""
    message = EmailMessage()
    message["From"] = _sender(sender)
    message["To"] = Address(addr_spec=plain_address(to))
    message["Subject"] = sanitize_header(mail.subject)
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = _message_id(message_id)
    message["List-Unsubscribe"] = f"<{_header_url(unsubscribe_url)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    # Quoted-printable keeps both parts 7-bit clean for any relay while staying readable raw.
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.policy = HEADER_POLICY
    _check_headers(message)
    return message


def plain_address(address: str) -> str:
    """Return `address` if it is one plain addr-spec (user@host); ValueError otherwise."""
    if (
        not _PLAIN_ADDRESS.fullmatch(address)
        or "=?" in address  # never let an address carry an encoded word
        or any(_is_control(char) for char in address)
    ):
        raise ValueError(f"{address!r} is not a single plain e-mail address")
    return address


def _sender(sender: str) -> Address:
    pairs = getaddresses([sanitize_header(sender)])
    if len(pairs) != 1 or not pairs[0][1]:
        raise ValueError(f"sender {sender!r} is not a single address (PQWATCH_MAIL_FROM)")
    name, addr = pairs[0]
    return Address(display_name=name, addr_spec=plain_address(addr))


def _message_id(message_id: str) -> str:
    match = _MESSAGE_ID.fullmatch(message_id.strip())
    if not match:
        raise ValueError(f"{message_id!r} is not a Message-ID (id@domain)")
    return f"<{match.group(1)}>"


def _header_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http", "mailto") or re.search(r"[\s<>]", url) or "=?" in url:
        raise ValueError(f"{url!r} is not an unsubscribe URL for a header")
    return url


def _check_headers(message: EmailMessage) -> None:
    # Defence in depth: whatever slipped through, no header value may carry a line break.
    for name, value in message.items():
        if "\r" in str(value) or "\n" in str(value):
            raise ValueError(f"header {name} would contain a line break")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach an SMTP server, read from PQWATCH_SMTP_URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read smtp://user:pass@host:port[?starttls=1] or smtps://...; ValueError naming the setting."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"{SMTP_SETTING} must start with smtp:// or smtps://, not {parts.scheme or '?'}://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{SMTP_SETTING} has a malformed port") from None
    if not parts.hostname:
        raise ValueError(f"{SMTP_SETTING} names no host")
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"{SMTP_SETTING} has unknown options: {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes")
    if starttls and parts.scheme == "smtps":
        raise ValueError(f"{SMTP_SETTING}: smtps:// is TLS already; starttls=1 is for smtp://")
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls,
    )


class SmtpTransport:
    """Send through an SMTP server, retrying temporary failures with exponential back-off."""

    def __init__(
        self,
        url: str,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 4,
        base_delay: float = 2.0,
        timeout: float = 30,
    ) -> None:
        self.settings = parse_smtp_url(url)
        self.sleep = sleep
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        """Deliver `message`; TemporaryFailure after the last attempt, PermanentFailure at once."""
        for attempt in range(self.attempts):
            try:
                self._send_once(message)
                return
            except TemporaryFailure as failure:
                if attempt == self.attempts - 1:
                    raise TemporaryFailure(f"{failure} (gave up after {self.attempts} attempts)") from None
            self.sleep(self.base_delay * 2**attempt)

    def _send_once(self, message: EmailMessage) -> None:
        reused = self._client is not None
        try:
            refused = self._connection().send_message(message)
        except smtplib.SMTPServerDisconnected:
            self.close()
            if not reused:
                raise TemporaryFailure("server disconnected") from None
            # Why: servers drop idle connections; a kept one that died is no reason to wait.
            refused = self._send_fresh(message)
        except MailError:
            raise
        except Exception as error:
            self.close()
            raise classify(error) from error
        if refused:
            # Only some recipients refused: retrying would send the others a second copy.
            raise classify(smtplib.SMTPRecipientsRefused(refused))

    def _send_fresh(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        try:
            return self._connection().send_message(message)
        except MailError:
            raise
        except Exception as error:
            self.close()
            raise classify(error) from error

    def _connection(self) -> smtplib.SMTP:
        """The open connection, opened (and logged in) on first use and kept for the next mail."""
        if self._client is None:
            try:
                client = self._connect()
                if self.settings.starttls:
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.settings.username:
                    client.login(self.settings.username, self.settings.password or "")
            except Exception as error:
                raise classify(error) from error
            self._client = client
        return self._client

    def close(self) -> None:
        """Close the kept connection (the next send opens a new one)."""
        if self._client is not None:
            _close_quietly(self._client)
            self._client = None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.settings.host, self.settings.port
        if self.settings.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=self.timeout)
        client.ehlo()
        return client


def classify(error: BaseException) -> MailError:
    """Turn an smtplib or socket error into TemporaryFailure or PermanentFailure, with a one-line message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return _refused(error)
    if isinstance(error, smtplib.SMTPResponseException):
        reply = f"server replied {error.smtp_code} {_one_line(error.smtp_error)}"
        if 500 <= error.smtp_code < 600:
            return PermanentFailure(reply)
        return TemporaryFailure(reply)  # 4xx, and the odd non-standard code: worth another try
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TemporaryFailure(f"server disconnected: {_one_line(error)}")
    # SMTPException is an OSError too, so it is told apart before the network errors.
    if isinstance(error, smtplib.SMTPException):  # STARTTLS or AUTH not offered: set-up, not luck
        return PermanentFailure(f"SMTP error: {_one_line(error)}")
    if isinstance(error, ssl.SSLCertVerificationError):
        return PermanentFailure(f"TLS certificate not trusted: {_one_line(error)}")
    if isinstance(error, OSError):  # refused, reset, timed out, unreachable, name not resolved
        return TemporaryFailure(f"cannot reach the mail server: {_one_line(error)}")
    return PermanentFailure(f"{type(error).__name__}: {_one_line(error)}")


def _refused(error: smtplib.SMTPRecipientsRefused) -> MailError:
    replies = [
        f"{address} {code} {_one_line(text)}" for address, (code, text) in sorted(error.recipients.items())
    ]
    message = "recipient refused: " + "; ".join(replies)
    if error.recipients and all(500 <= code < 600 for code, _ in error.recipients.values()):
        return PermanentFailure(message, recipient_rejected=True)
    return TemporaryFailure(message)


def _one_line(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return sanitize_header(text, limit=300) or type(value).__name__


def _close_quietly(client: smtplib.SMTP) -> None:
    # QUIT is a courtesy; after a failure the server may be gone, which must not hide the failure.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


class OutboxTransport:
    """Write each message to a folder as <Message-ID>.eml instead of sending it (the dry run)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        """Write `message` atomically; the same Message-ID always lands in the same file."""
        message_id = message.get("Message-ID")
        if not message_id:
            raise ValueError("an outbox message needs a Message-ID: its file is named after it")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.path_for(str(message_id)), message.as_bytes())
        except OSError as error:
            raise TemporaryFailure(f"cannot write to the outbox {self.folder}: {_one_line(error)}") from error

    def path_for(self, message_id: str) -> Path:
        """Return the file a message with this Message-ID is written to."""
        return self.folder / outbox_filename(message_id)


def outbox_filename(message_id: str) -> str:
    """Name an .eml file after a Message-ID: safe characters only, plus a hash so no two ids collide."""
    bare = message_id.strip().strip("<>")
    safe = re.sub(r"[^A-Za-z0-9._@+-]", "_", bare).lstrip(".")[:120] or "message"
    digest = hashlib.sha256(bare.encode("utf-8")).hexdigest()[:10]
    return f"{safe}-{digest}.eml"


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader of the outbox never sees half a message: write a temporary file, then rename over.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def transport_from_url(
    smtp_url: str | None, outbox_dir: Path, sleep: Callable[[float], None] = time.sleep
) -> Transport:
    """Return SMTP when PQWATCH_SMTP_URL is set, else the outbox folder."""
    if smtp_url:
        return SmtpTransport(smtp_url, sleep=sleep)
    return OutboxTransport(outbox_dir)
