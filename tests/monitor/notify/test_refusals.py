"""Issue 10: SMTP refusals classified by RFC 3463 enhanced status codes, against a real in-process
aiosmtpd server. Only a permanent address failure suppresses that one address; a policy, security,
system or network refusal stops the run and suppresses nobody; a full mailbox fails that mail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.notify.digest import Mailer, send_due_digests
from monitor.notify.mail import PermanentFailure, Scope, SmtpTransport, TemporaryFailure, reply_scope
from storage.models import Subscriber
from tests.support.digests import DIGEST_SECRET, MONDAY_8AM, add_events, add_subscriber
from tests.support.helpers import ANSWER
from tests.support.mail import RELAYING_DENIED, FakeSleep, Replies, message, smtp_server

GMAIL_NO_USER = (
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
    "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
    "550 5.1.1 unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser"
)
GMAIL_DISABLED = "550 5.2.1 The email account that you tried to reach is disabled."
MS_UNABLE_TO_RELAY = "550 5.7.1 Unable to relay"
SPAMHAUS = (
    "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org;"
    " https://www.spamhaus.org/query/ip/192.0.2.7"
)
RATE_LIMITED = "451 4.7.1 Please try again later"
MAILBOX_FULL = "452 4.2.2 Mailbox full"
MAILBOX_FULL_5XX = "552 5.2.2 Mailbox full, quota exceeded"
AUTH_REQUIRED = "530 5.7.0 Authentication required"
CLOSING = "421 4.7.0 Too many connections, closing transmission channel"
BARE_550 = "550 Requested action not taken: mailbox unavailable"
BARE_554 = "554 Transaction failed"
SENDER_DOMAIN = "550 5.1.8 Sender address rejected: Domain not found"

# (reply, stage, scope, permanent)
CASES = [
    (GMAIL_NO_USER, "rcpt", Scope.ADDRESS, True),
    (GMAIL_DISABLED, "rcpt", Scope.ADDRESS, True),
    ("553 5.1.3 Bad recipient address syntax", "rcpt", Scope.ADDRESS, True),
    (BARE_550, "rcpt", Scope.ADDRESS, True),
    ("551 User not local; please try <x@elsewhere.example>", "rcpt", Scope.ADDRESS, True),
    (MS_UNABLE_TO_RELAY, "rcpt", Scope.POLICY, True),
    (RELAYING_DENIED, "rcpt", Scope.POLICY, True),
    (SPAMHAUS, "rcpt", Scope.POLICY, True),
    (BARE_554, "rcpt", Scope.POLICY, True),
    ("550 5.4.1 Recipient address rejected: Access denied", "rcpt", Scope.POLICY, True),
    ("554 5.3.0 Mail system error", "rcpt", Scope.POLICY, True),
    (RATE_LIMITED, "rcpt", Scope.POLICY, False),
    (CLOSING, "rcpt", Scope.POLICY, False),
    (MAILBOX_FULL, "rcpt", Scope.MAILBOX, False),
    (MAILBOX_FULL_5XX, "rcpt", Scope.MAILBOX, True),
    (AUTH_REQUIRED, "mail", Scope.POLICY, True),
    (SENDER_DOMAIN, "mail", Scope.POLICY, True),
    ("550 5.5.1 Protocol error", "data", Scope.POLICY, True),
    ("554 5.6.0 Message content rejected", "data", Scope.MESSAGE, True),
    ("552 5.3.4 Message size exceeds fixed limit", "data", Scope.POLICY, True),
]


@pytest.mark.parametrize(("reply", "stage", "scope", "permanent"), CASES)
def test_a_real_servers_reply_is_classified_by_its_enhanced_status_code(reply, stage, scope, permanent):
    with smtp_server(Replies(reply, stage)) as url:
        transport = SmtpTransport(url, sleep=FakeSleep(), attempts=2, timeout=5)
        with pytest.raises((PermanentFailure, TemporaryFailure)) as raised:
            transport.send(message())
        transport.close()
    assert raised.value.scope == scope
    assert isinstance(raised.value, PermanentFailure) == permanent
    assert raised.value.recipient_rejected == (scope == Scope.ADDRESS)
    assert len(str(raised.value).splitlines()) == 1


def test_bare_codes_follow_rfc_5321_only_at_rcpt():
    assert reply_scope(550, "Mailbox unavailable", "rcpt") == Scope.ADDRESS
    assert reply_scope(550, "Mailbox unavailable", "data") == Scope.POLICY
    assert reply_scope(552, "Too much mail", "rcpt") == Scope.POLICY
    assert reply_scope(550, "4.1.1 mismatched class", "rcpt") == Scope.ADDRESS  # the code, not the text
    assert reply_scope(450, "4.2.2 full", "rcpt") == Scope.MAILBOX


def mailer_for_url(url: str) -> Mailer:
    transport = SmtpTransport(url, sleep=FakeSleep(), attempts=2, timeout=5)
    return Mailer(
        transport=transport,
        sender="pqwatch <pq@example.org>",
        base_url="https://pq.example",
        secret=DIGEST_SECRET,
    )


def statuses(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {s.email: s.status for s in session.scalars(select(Subscriber))}


# (reply, stage, who is suppressed, how many sent, whether the run stopped)
RUNS = [
    (GMAIL_NO_USER, "rcpt", {"reader@example.org"}, 2, False),
    (MS_UNABLE_TO_RELAY, "rcpt", set(), 0, True),
    (RELAYING_DENIED, "rcpt", set(), 0, True),
    (SPAMHAUS, "rcpt", set(), 0, True),
    (RATE_LIMITED, "rcpt", set(), 0, True),
    (AUTH_REQUIRED, "mail", set(), 0, True),
    (MAILBOX_FULL, "rcpt", set(), 2, False),
    (MAILBOX_FULL_5XX, "rcpt", set(), 2, False),
]


@pytest.mark.parametrize(("reply", "stage", "suppressed", "sent", "stopped"), RUNS)
def test_only_an_address_failure_suppresses_and_a_policy_refusal_stops_the_run(
    sessions, reply, stage, suppressed, sent, stopped
):
    for address in ("reader@example.org", "second@example.org", "third@example.org"):
        add_subscriber(sessions, address)
    add_events(sessions, ANSWER)
    handler = Replies(reply, stage)
    with smtp_server(handler) as url:
        run = send_due_digests(sessions, mailer_for_url(url), MONDAY_8AM)
    assert {email for email, status in statuses(sessions).items() if status == "suppressed"} == suppressed
    assert (run.sent, bool(run.stopped)) == (sent, stopped)
    assert len(handler.envelopes) == sent
    assert run.ok == (not stopped and not (run.failed))
    if stopped:
        assert run.failed == 1 and not run.ok and "nobody was suppressed" in (run.stopped or "")
