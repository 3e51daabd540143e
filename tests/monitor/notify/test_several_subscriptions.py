"""Issue 12: one address may hold several subscriptions (a department, and a keyword), each with
its own digests, its own one-click unsubscribe link (that ends it alone) and manage link; the same
filters again are the same subscription; a hard bounce stops all of them; the digest's exactly
once (one outbox row per subscription and period) holds with several per address."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from monitor.notify.digest import send_confirmation, send_due_digests
from monitor.notify.mail import PermanentFailure, Scope
from monitor.notify.subscriptions import (
    check_link,
    confirm,
    make_filters,
    read_subscription_link,
    restore,
    subscribe,
    unsubscribe,
    unsubscribe_by_token,
)
from storage.models import OutboxMail, Subscriber
from tests.support.digests import (
    DIGEST_SECRET,
    MONDAY_8AM,
    RecordingTransport,
    add_events,
    add_subscriber,
    mailer,
    outbox_rows,
)
from tests.support.helpers import ANSWER

READER = "reader@example.org"
HOME_OFFICE = replace(ANSWER, uin="HL2472", answering_body="Home Office", question_text="On visas.")
ASYLUM = replace(
    ANSWER, uin="HL2473", answering_body="Ministry of Justice", question_text="On asylum appeals."
)


def statuses(sessions) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {s.id: s.status for s in session.scalars(select(Subscriber).order_by(Subscriber.id))}


def token_in(header: str) -> str:
    """The token of a List-Unsubscribe header's https link."""
    return header.strip("<>").rsplit("/", 1)[1]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def test_other_filters_add_a_subscription_and_the_same_filters_update_the_same_one(sessions):
    with sessions.begin() as session:
        first, _ = subscribe(
            session, READER, filters=make_filters(department="Home Office"), confirmed=True, now=MONDAY_8AM
        )
        second, _ = subscribe(
            session,
            "Reader@Example.org",
            frequency="weekly",
            filters=make_filters(keyword="asylum"),
            confirmed=True,
            now=MONDAY_8AM,
        )
        again, needs = subscribe(
            session,
            READER,
            send_time="09:15",
            filters=make_filters(department="Home Office"),
            confirmed=True,
            now=MONDAY_8AM,
        )
        ids = (first.id, second.id, again.id)
        assert not needs
    assert ids[0] != ids[1] and ids[2] == ids[0]
    with sessions() as session:
        rows = {s.id: (s.frequency, s.send_time, s.filters) for s in session.scalars(select(Subscriber))}
    assert rows == {
        ids[0]: ("daily", "09:15", {"department": "Home Office"}),
        ids[1]: ("weekly", "07:00", {"keyword": "asylum"}),
    }


def test_each_subscription_gets_its_own_digest_saying_what_it_follows_each_sent_once(sessions):
    home = add_subscriber(sessions, READER, department="Home Office")
    asylum = add_subscriber(sessions, READER, keyword="asylum")
    add_events(sessions, HOME_OFFICE, ASYLUM)
    transport = RecordingTransport()
    first = send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    again = send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(minutes=5))
    assert (first.sent, again.sent, again.skipped_already_sent) == (2, 0, 2)
    by_id = {message["Message-ID"].split(".")[1]: message for message in transport.sent}
    assert set(by_id) == {str(home), str(asylum)}
    home_text, asylum_text = text_of(by_id[str(home)]), text_of(by_id[str(asylum)])
    assert "HL2472" in home_text and "HL2473" not in home_text
    assert "HL2473" in asylum_text and "HL2472" not in asylum_text
    assert "This subscription follows: Department: Home Office" in home_text
    assert "This subscription follows: Keyword: asylum" in asylum_text
    with sessions() as session:
        assert sorted(session.scalars(select(OutboxMail.subscriber_id))) == sorted([home, asylum])
    assert outbox_rows(sessions) == [("daily:2026-11-30", "sent")] * 2


def test_a_subscriptions_unsubscribe_link_ends_it_alone(sessions):
    home = add_subscriber(sessions, READER, department="Home Office")
    asylum = add_subscriber(sessions, READER, keyword="asylum")
    add_events(sessions, HOME_OFFICE, ASYLUM)
    transport = RecordingTransport()
    send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    links = {m["Message-ID"].split(".")[1]: token_in(m["List-Unsubscribe"]) for m in transport.sent}
    assert read_subscription_link(DIGEST_SECRET, links[str(home)], "unsubscribe")[3] == home
    with sessions.begin() as session:
        assert unsubscribe_by_token(session, DIGEST_SECRET, links[str(home)]) == READER
    assert statuses(sessions) == {home: "unsubscribed", asylum: "confirmed"}
    with sessions.begin() as session:  # a mail client repeating the POST changes nothing more
        unsubscribe_by_token(session, DIGEST_SECRET, links[str(home)])
        assert check_link(session, DIGEST_SECRET, links[str(asylum)], "unsubscribe").id == asylum
    assert statuses(sessions) == {home: "unsubscribed", asylum: "confirmed"}


def test_unsubscribe_ends_all_of_an_address_or_the_one_named(sessions):
    home = add_subscriber(sessions, READER, department="Home Office")
    asylum = add_subscriber(sessions, READER, keyword="asylum")
    other = add_subscriber(sessions, "other@example.org")
    with sessions.begin() as session:
        assert [s.id for s in unsubscribe(session, READER, asylum)] == [asylum]
    assert statuses(sessions) == {home: "confirmed", asylum: "unsubscribed", other: "confirmed"}
    with sessions.begin() as session:
        assert [s.id for s in unsubscribe(session, READER)] == [home]
        assert unsubscribe(session, READER) == []
    assert statuses(sessions) == {home: "unsubscribed", asylum: "unsubscribed", other: "confirmed"}


def test_a_hard_bounce_suppresses_every_subscription_of_the_address_and_restore_brings_them_back(sessions):
    home = add_subscriber(sessions, READER, department="Home Office")
    asylum = add_subscriber(sessions, READER, keyword="asylum")
    other = add_subscriber(sessions, "other@example.org", department="Home Office")
    add_events(sessions, HOME_OFFICE)
    bounce = PermanentFailure("550 5.1.1 no such user", scope=Scope.ADDRESS)

    class BounceReader(RecordingTransport):
        def send(self, message: EmailMessage) -> None:
            if message["To"] == READER:
                raise bounce
            super().send(message)

    send_due_digests(sessions, mailer(BounceReader()), MONDAY_8AM)
    assert statuses(sessions) == {home: "suppressed", asylum: "suppressed", other: "confirmed"}
    with sessions.begin() as session:
        restore(session, READER, MONDAY_8AM)
    assert statuses(sessions) == {home: "confirmed", asylum: "confirmed", other: "confirmed"}


def test_each_pending_subscription_has_its_own_confirmation_naming_it(sessions):
    transport = RecordingTransport()
    with sessions.begin() as session:
        home, _ = subscribe(session, READER, filters=make_filters(department="Home Office"), now=MONDAY_8AM)
        asylum, _ = subscribe(session, READER, filters=make_filters(keyword="asylum"), now=MONDAY_8AM)
        ids = (home.id, asylum.id)
    for subscription_id in ids:
        assert send_confirmation(sessions, mailer(transport), subscription_id, MONDAY_8AM)
    home_mail, asylum_mail = (text_of(m) for m in transport.sent)
    assert "Follows: Department: Home Office" in home_mail and "Follows: Keyword: asylum" in asylum_mail
    token = home_mail.split("/confirm/")[1].split()[0]
    with sessions.begin() as session:
        assert confirm(session, DIGEST_SECRET, token, MONDAY_8AM).id == ids[0]
    assert statuses(sessions) == {ids[0]: "confirmed", ids[1]: "pending"}
