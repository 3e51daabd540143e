"""Issue 10: digests under faults. A run killed mid-send (a real `pqwatch digest` subprocess,
SIGKILLed while an in-process SMTP server stalls in DATA) is reported by the next run and never
silently counted as sent; a mail claimed but not handed over goes on the next run under the same
Message-ID; late send times (23:55, 23:59) and DST changes are due from the last sent period; a
stored address unfit for a header fails alone and never stops a run."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

import monitor.notify.digest as digest
from monitor.cli.commands import main
from monitor.notify.digest import latest_period, send_due_digests
from monitor.notify.subscriptions import SubscriptionError, make_filters, subscribe
from storage.models import OutboxMail, Subscriber
from storage.terms import utcnow
from tests.support.digests import MONDAY_8AM, RecordingTransport, add_events, mailer, outbox_rows, pqwatch
from tests.support.helpers import ANSWER
from tests.support.mail import free_port


def add(sessions, address, *, send_time="07:00", frequency="daily", at=MONDAY_8AM - timedelta(days=1)):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        subscriber, _ = subscribe(
            session,
            address,
            frequency=frequency,
            send_time=send_time,
            filters=make_filters(),
            confirmed=True,
            now=at,
        )
        return subscriber.id


# --- 1. a run killed mid-send --------------------------------------------------------------------


class StallsFirstData:
    """An SMTP handler that holds the first DATA until released, and accepts the rest."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.stalled = False
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.stalled:
            self.stalled = True
            self.entered.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 too late"
        self.envelopes.append(envelope)
        return "250 2.0.0 OK"


def test_a_digest_killed_mid_send_is_reported_by_the_next_run_and_the_rest_still_go(db_url, tmp_path):
    from storage.db import open_database

    sessions = open_database(db_url)
    first = add(sessions, "first@example.org", send_time="00:00")
    second = add(sessions, "second@example.org", send_time="00:00")
    add_events(sessions, ANSWER, at=utcnow() - timedelta(minutes=1))
    handler = StallsFirstData()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    env = {**os.environ, "PQWATCH_SMTP_URL": f"smtp://127.0.0.1:{port}", "PQWATCH_OUTBOX_DIR": str(tmp_path)}
    try:
        killed = pqwatch(db_url, env, "digest")
        try:
            assert handler.entered.wait(timeout=60), "the digest run never reached DATA"
            with sessions() as session:
                [row] = session.scalars(select(OutboxMail))
                assert (row.subscriber_id, row.status) == (first, "sending")
            killed.send_signal(signal.SIGKILL)
            assert killed.wait(timeout=30) == -signal.SIGKILL
        finally:
            killed.kill()
            killed.communicate()
            handler.release.set()

        after = pqwatch(db_url, env, "digest")
        out, err = after.communicate(timeout=120)
        assert after.returncode == 1, (out, err)
        assert "1 sent" in out and "1 interrupted" in out
        assert "marked interrupted" in err and "first@example.org" in err
        with sessions() as session:
            rows = {r.subscriber_id: r for r in session.scalars(select(OutboxMail))}
        assert rows[first].status == "interrupted" and rows[second].status == "sent"
        [delivered] = handler.envelopes
        assert delivered.rcpt_tos == ["second@example.org"]
        assert f"<pqwatch.{second}." in delivered.content.decode()

        # Settled: the run after that has nothing to report about it, and exits 0.
        third = pqwatch(db_url, env, "digest")
        out, err = third.communicate(timeout=120)
        assert third.returncode == 0, (out, err)
        assert "0 sent, 2 already sent" in out
    finally:
        handler.release.set()
        controller.stop()
        sessions.kw["bind"].dispose()


def test_a_mail_claimed_by_a_dead_run_goes_on_the_next_run_with_the_same_message_id(sessions, monkeypatch):
    subscriber_id = add(sessions, "reader@example.org")
    add_events(sessions, ANSWER)

    def dies(*args: object, **kwargs: object) -> None:
        raise SystemExit(9)  # the process dies after claiming, before anything is handed over

    real = digest.build_message
    monkeypatch.setattr(digest, "build_message", dies)
    with pytest.raises(SystemExit):
        send_due_digests(sessions, mailer(RecordingTransport()), MONDAY_8AM)
    assert outbox_rows(sessions) == [("daily:2026-11-30", "claimed")]
    monkeypatch.setattr(digest, "build_message", real)

    transport = RecordingTransport()
    run = send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(minutes=10))
    [message] = transport.sent
    assert message["Message-ID"] == f"<pqwatch.{subscriber_id}.daily.2026-11-30@pq.example>"
    assert "HL2472" in message.get_body(("plain",)).get_content()
    assert (run.sent, run.resumed, run.ok) == (1, 1, True)
    assert outbox_rows(sessions) == [("daily:2026-11-30", "sent")]


def test_a_run_never_takes_over_a_row_claimed_at_its_own_start(sessions):
    add(sessions, "reader@example.org")
    add_events(sessions, ANSWER)
    with sessions.begin() as session:
        session.add(
            OutboxMail(
                subscriber_id=1,
                period_key="daily:2026-11-30",
                kind="digest",
                status="sending",
                first_event_id=1,
                last_event_id=1,
                event_count=1,
                created_at=MONDAY_8AM,  # a live run that began with this one
            )
        )
    run = send_due_digests(sessions, mailer(RecordingTransport()), MONDAY_8AM)
    assert (run.interrupted, run.skipped_already_sent) == (0, 1)
    assert outbox_rows(sessions) == [("daily:2026-11-30", "sending")]


# --- 2. due-ness from the last sent period ---------------------------------------------------------


@pytest.mark.parametrize("send_time", ["23:55", "23:59"])
def test_a_late_daily_send_time_is_sent_once_even_when_no_tick_falls_after_it(sessions, send_time):
    add(sessions, "reader@example.org", send_time=send_time, at=datetime(2026, 11, 28, 12))
    add_events(sessions, ANSWER, at=datetime(2026, 11, 29, 20))
    transport = RecordingTransport()
    send_due_digests(sessions, mailer(transport), datetime(2026, 11, 29, 23, 59, 30))  # the 29th's
    add_events(sessions, replace(ANSWER, answer_text="Later."), at=datetime(2026, 11, 30, 20))
    for tick in (datetime(2026, 11, 30, 23, 50), datetime(2026, 12, 1, 0, 0), datetime(2026, 12, 1, 0, 10)):
        send_due_digests(sessions, mailer(transport), tick)
    assert outbox_rows(sessions) == [("daily:2026-11-29", "sent"), ("daily:2026-11-30", "sent")]
    assert "Later." in transport.sent[-1].get_body(("plain",)).get_content()


def test_a_late_weekly_send_time_is_sent_once_after_midnight(sessions):
    add(sessions, "reader@example.org", send_time="23:55", frequency="weekly", at=datetime(2026, 11, 20))
    add_events(sessions, ANSWER, at=datetime(2026, 11, 23, 20))
    transport = RecordingTransport()
    send_due_digests(sessions, mailer(transport), datetime(2026, 11, 24, 9))  # the week of the 23rd
    add_events(sessions, replace(ANSWER, answer_text="Later."), at=datetime(2026, 11, 30, 20))
    for tick in (datetime(2026, 11, 30, 23, 50), datetime(2026, 12, 1, 0, 0), datetime(2026, 12, 2, 9, 0)):
        send_due_digests(sessions, mailer(transport), tick)
    assert outbox_rows(sessions) == [("weekly:2026-W48", "sent"), ("weekly:2026-W49", "sent")]
    assert len(transport.sent) == 2 and "Later." in transport.sent[1].get_body(("plain",)).get_content()


def test_latest_period_gives_one_period_a_day_across_the_clock_changes():
    # Spring: 29 Mar 2026 01:00 GMT -> 02:00 BST. 07:00 London is 06:00 UTC from that day on.
    assert latest_period("daily", "07:00", datetime(2026, 3, 29, 5, 59)).key == "daily:2026-03-28"
    assert latest_period("daily", "07:00", datetime(2026, 3, 29, 6, 0)).key == "daily:2026-03-29"
    # 01:30 does not exist that day: it goes an hour later (01:30 UTC = 02:30 BST), once.
    assert latest_period("daily", "01:30", datetime(2026, 3, 29, 1, 29)).key == "daily:2026-03-28"
    assert latest_period("daily", "01:30", datetime(2026, 3, 29, 1, 30)).key == "daily:2026-03-29"
    # Autumn: 25 Oct 2026 02:00 BST -> 01:00 GMT; 01:30 happens twice, the period begins at the first.
    assert latest_period("daily", "01:30", datetime(2026, 10, 25, 0, 30)).start == datetime(
        2026, 10, 25, 0, 30
    )
    assert latest_period("daily", "01:30", datetime(2026, 10, 25, 1, 45)).key == "daily:2026-10-25"
    assert latest_period("daily", "07:00", datetime(2026, 10, 25, 6, 59)).key == "daily:2026-10-24"
    assert latest_period("daily", "07:00", datetime(2026, 10, 25, 7, 0)).key == "daily:2026-10-25"
    # Weekly: Monday 07:00 London; the Sunday before, the week before's period is the latest.
    assert latest_period("weekly", "07:00", datetime(2026, 3, 29, 23, 0)).key == "weekly:2026-W13"
    assert latest_period("weekly", "07:00", datetime(2026, 3, 30, 6, 0)).key == "weekly:2026-W14"


def test_ticks_every_ten_minutes_across_both_clock_changes_send_one_digest_a_day(sessions):
    add(sessions, "reader@example.org", send_time="01:30", at=datetime(2026, 3, 27))
    transport = RecordingTransport()
    for start in (datetime(2026, 3, 28), datetime(2026, 10, 24)):
        tick = start
        while tick < start + timedelta(days=3):
            if tick.minute == 0 and tick.hour % 6 == 0:
                add_events(sessions, replace(ANSWER, answer_text=f"At {tick}."), at=tick)
            send_due_digests(sessions, mailer(transport), tick)
            tick += timedelta(minutes=10)
    keys = [key for key, _ in outbox_rows(sessions)]
    # Each tick run's latest begun period: the day before's at midnight, then one a day, never two.
    days = ["03-27", "03-28", "03-29", "03-30", "10-23", "10-24", "10-25", "10-26"]
    assert keys == [f"daily:2026-{day}" for day in days]


# --- 4. addresses that cannot be put in a header -------------------------------------------------------


@pytest.mark.parametrize("address", ["a=?x?=b@example.org", "=?utf-8?q?a?=@example.org"])
def test_an_address_with_an_encoded_word_is_refused_at_subscribe_time(sessions, address):
    with sessions.begin() as session, pytest.raises(SubscriptionError) as refused:
        subscribe(session, address, confirmed=True, now=MONDAY_8AM)
    assert "cannot be put in a mail header" in str(refused.value)
    assert len(str(refused.value).splitlines()) == 1


def test_the_cli_refuses_an_address_unfit_for_a_header_in_one_line(db_url, capfd):
    assert main(["--db", db_url, "subscribe", "a=?x?=b@example.org", "--confirmed"]) == 2
    err = capfd.readouterr().err.strip()
    assert err.startswith("pqwatch: error:") and len(err.splitlines()) == 1


@pytest.mark.parametrize("stored", ["a=?x?=b@example.org", "a\x01b@example.org", "a\u2028b@example.org"])
def test_a_bad_stored_address_fails_alone_and_the_run_goes_on(sessions, stored, caplog):
    add(sessions, "before@example.org")
    with sessions.begin() as session:  # stored before subscribe-time validation existed
        session.add(
            Subscriber(
                email=stored,
                status="confirmed",
                frequency="daily",
                send_time="07:00",
                filters={},
                created_at=MONDAY_8AM - timedelta(days=1),
                start_event_id=0,
            )
        )
    add(sessions, "after@example.org")
    add_events(sessions, ANSWER)
    transport = RecordingTransport()
    run = send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    assert sorted(m["To"] for m in transport.sent) == ["after@example.org", "before@example.org"]
    assert (run.sent, run.failed, run.ok) == (2, 1, False)
    assert "cannot be put in a mail header" in caplog.text
    with sessions() as session:
        bad = session.scalar(select(OutboxMail).where(OutboxMail.subscriber_id == 2))
        assert bad is not None and bad.status == "failed" and "header" in (bad.error or "")
