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
from enum import StrEnum
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


class Scope(StrEnum):
    """What a refusal is about, which says what the caller does next."""

    ADDRESS = "address"  # the recipient address is bad for good (RFC 3463 5.1.x, 5.2.1): suppress it
    MAILBOX = "mailbox"  # the recipient's mailbox for now (full, 4.2.2 / 5.2.2): this mail fails
    MESSAGE = "message"  # this one message (its content, its size): this mail fails, others go
    POLICY = "policy"  # the server, its policy or our set-up (5.7.x, 4.7.x, 421, 5.3/5.4/5.5.x):
    # every mail would fail alike, so the run stops and nobody is suppressed


class MailError(Exception):
    """A message could not be handed over; the message is one line, `scope` says what it is about."""

    default_scope = Scope.MESSAGE

    def __init__(self, message: str, *, scope: Scope | None = None, recipient_rejected: bool = False) -> None:
        super().__init__(message)
        self.scope = Scope.ADDRESS if recipient_rejected else (scope or self.default_scope)

    @property
    def recipient_rejected(self) -> bool:
        """True when the server refused the recipient address itself, for good."""
        return self.scope == Scope.ADDRESS


class TemporaryFailure(MailError):
    """Trying the same message again later may work (a 4xx reply, a connection refused or dropped)."""


class PermanentFailure(MailError):
    """Trying the same message again will not work (a 5xx reply); see `scope`."""

    default_scope = Scope.POLICY  # a refusal nobody classified is taken as the server's, not an address's


class Transport(Protocol):
    """Hands one finished message to wherever mail goes.

    Contract: `send` returns only once the message is accepted whole (by the SMTP server for every
    recipient, or written to the outbox). It raises TemporaryFailure when the same message may go
    through later (a 4xx reply, the server unreachable or dropping the connection, after the
    transport's own retries), and PermanentFailure when it will not (a 5xx reply, a TLS certificate
    that does not verify). Each failure's `scope` (classified by RFC 3463 enhanced status codes) says
    what it is about: ADDRESS only when the server refused the recipient address itself for good,
    so the caller can stop mailing that address; MAILBOX or MESSAGE when this one mail failed;
    POLICY when the server or the set-up refuses (relaying denied, authentication required, rate
    limited, unreachable), so every mail would fail alike. A transport never deduplicates:
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
                    raise TemporaryFailure(
                        f"{failure} (gave up after {self.attempts} attempts)", scope=failure.scope
                    ) from None
            self.sleep(self.base_delay * 2**attempt)

    def _send_once(self, message: EmailMessage) -> None:
        reused = self._client is not None
        try:
            refused = self._connection().send_message(message)
        except smtplib.SMTPServerDisconnected:
            self.close()
            if not reused:
                raise TemporaryFailure("server disconnected", scope=Scope.POLICY) from None
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


# RFC 3463 §2: an enhanced status code class.subject.detail opens the reply text (after the
# basic code); smtplib hands over the text of each reply line without its basic code.
_ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# RFC 3463 §3.2: 5.1.7 and 5.1.8 are about the *sender's* address, never the recipient's.
_SENDER_DETAILS = {7, 8}


def enhanced_status(text: str) -> tuple[int, int, int] | None:
    """The RFC 3463 enhanced status code (class, subject, detail) opening a reply text, if any."""
    match = _ENHANCED.match(text)
    if not match:
        return None
    klass, subject, detail = (int(part) for part in match.groups())
    return klass, subject, detail


def reply_scope(code: int, text: str, stage: str) -> Scope:
    """What an SMTP reply is about. `stage` is the command it answered: "rcpt", "data", "mail"
    or "other".

    With an enhanced code (RFC 3463 §3): only 5.1.x (bad destination mailbox, system or syntax)
    and 5.2.1 (mailbox disabled) are about the recipient address for good; other X.1.x and X.2.x
    are about the mailbox for now (4.2.2 / 5.2.2 mailbox full), 5.2.3 and X.6.x about this
    message; X.0.x, X.3.x (mail system), X.4.x (network), X.5.x (protocol) and X.7.x (security
    and policy: relaying denied, authentication required, blocked, rate limited) are the server's.
    Without one, a 550, 551 or 553 at RCPT is about the address (RFC 5321 §4.2.2); a 421 or
    any other bare 5xx is not."""
    status = enhanced_status(text)
    if status and status[0] == code // 100:  # a code that contradicts its reply is no guide
        klass, subject, detail = status
        recipient = stage in ("rcpt", "data")
        if subject == 1 and detail in _SENDER_DETAILS:
            return Scope.POLICY
        if subject == 1:
            return Scope.ADDRESS if klass == 5 and recipient else Scope.MAILBOX
        if subject == 2:
            if (klass, detail) == (5, 1) and recipient:
                return Scope.ADDRESS
            return Scope.MESSAGE if detail == 3 else Scope.MAILBOX
        if subject == 6:
            return Scope.MESSAGE
        return Scope.POLICY
    if code == 421:  # the server is closing the connection: nothing about this mail
        return Scope.POLICY
    if stage == "rcpt" and code in (550, 551, 553):
        return Scope.ADDRESS
    if 400 <= code < 500:
        return Scope.MAILBOX if stage == "rcpt" else Scope.MESSAGE
    return Scope.POLICY


def classify(error: BaseException) -> MailError:
    """Turn an smtplib or socket error into TemporaryFailure or PermanentFailure, with a one-line
    message and the scope of what was refused."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return _refused(error)
    if isinstance(error, smtplib.SMTPResponseException):
        text = _reply_text(error.smtp_error)
        reply = f"server replied {error.smtp_code} {_one_line(text)}"
        stage = (
            "mail"
            if isinstance(error, smtplib.SMTPSenderRefused)
            else "data"
            if isinstance(error, smtplib.SMTPDataError)
            else "other"
        )
        scope = reply_scope(error.smtp_code, text, stage)
        if 500 <= error.smtp_code < 600:
            return PermanentFailure(reply, scope=scope)
        return TemporaryFailure(reply, scope=scope)  # 4xx, and the odd non-standard code: worth another try
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TemporaryFailure(f"server disconnected: {_one_line(error)}", scope=Scope.POLICY)
    # SMTPException is an OSError too, so it is told apart before the network errors.
    if isinstance(error, smtplib.SMTPException):  # STARTTLS or AUTH not offered: set-up, not luck
        return PermanentFailure(f"SMTP error: {_one_line(error)}", scope=Scope.POLICY)
    if isinstance(error, ssl.SSLCertVerificationError):
        return PermanentFailure(f"TLS certificate not trusted: {_one_line(error)}", scope=Scope.POLICY)
    if isinstance(error, OSError):  # refused, reset, timed out, unreachable, name not resolved
        return TemporaryFailure(f"cannot reach the mail server: {_one_line(error)}", scope=Scope.POLICY)
    return PermanentFailure(f"{type(error).__name__}: {_one_line(error)}", scope=Scope.POLICY)


def _refused(error: smtplib.SMTPRecipientsRefused) -> MailError:
    replies = [
        f"{address} {code} {_one_line(_reply_text(text))}"
        for address, (code, text) in sorted(error.recipients.items())
    ]
    message = "recipient refused: " + "; ".join(replies)
    scopes = {reply_scope(code, _reply_text(text), "rcpt") for code, text in error.recipients.values()}
    # One refusal that is the server's speaks for all: nobody is suppressed for a policy.
    scope = next((s for s in (Scope.POLICY, Scope.MESSAGE, Scope.MAILBOX) if s in scopes), Scope.ADDRESS)
    if error.recipients and all(500 <= code < 600 for code, _ in error.recipients.values()):
        return PermanentFailure(message, scope=scope)
    return TemporaryFailure(message, scope=Scope.POLICY if scope == Scope.POLICY else Scope.MAILBOX)


def _reply_text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


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
            raise TemporaryFailure(
                f"cannot write to the outbox {self.folder}: {_one_line(error)}", scope=Scope.POLICY
            ) from error

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
