"""Issue 13: several `pqwatch digest` senders on one PostgreSQL share the due digests and send each
mail once. A live sender holds the row it works FOR KEY SHARE, so another sender settling dead
runs' rows (FOR UPDATE SKIP LOCKED) passes it by: never "interrupted", never resent; the rows of a
sender whose connection is gone are still settled, and of two settlers taking one dead claim, one
sends."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

import monitor.notify.digest as digest
from monitor.notify.digest import DigestRun, send_due_digests
from monitor.notify.mail import transport_from_url
from monitor.notify.subscriptions import make_filters, subscribe
from storage.db import open_database
from storage.models import ChangeEvent, OutboxMail
from storage.terms import utcnow
from tests.support.digests import MONDAY_8AM, add_events, add_subscriber, mailer, outbox_rows, pqwatch
from tests.support.helpers import ANSWER
from tests.support.mail import SmtpRecorder, smtp_server
from tests.support.processes import wait_until

TODAY = "daily:2026-11-30"  # the period due at MONDAY_8AM


def smtp_mailer(url: str, outbox: Path) -> digest.Mailer:
    """A mailer sending through the SMTP server at `url`."""
    return mailer(transport_from_url(url, outbox))


class SlowUntilBothSend(SmtpRecorder):
    """Takes 20 ms over each DATA, and holds every DATA until one has come on a second connection
    (at most 10 s), so two senders are sure to overlap; `entered` says the first DATA arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: set[Any] = set()
        self.entered = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.add(session.peer)
        self.entered.set()
        deadline = time.monotonic() + 10
        while len(self.peers) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


class HoldsFirstData(SmtpRecorder):
    """Holds the first DATA until `release` is set (`entered` says it arrived); accepts the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.entered.is_set():
            self.entered.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def test_two_digest_senders_on_postgresql_send_each_mail_once(pg_url, tmp_path):
    sessions = open_database(pg_url)
    try:
        with sessions.begin() as session:
            for number in range(40):
                # Immediate digests: their key names the last event, not the clock, so the two
                # processes agree on it whenever they start.
                subscribe(
                    session,
                    f"reader{number}@example.org",
                    frequency="immediate",
                    filters=make_filters(),
                    confirmed=True,
                    now=utcnow() - timedelta(days=1),
                )
        add_events(sessions, ANSWER, at=utcnow() - timedelta(minutes=1))
        handler = SlowUntilBothSend()
        with smtp_server(handler) as url:
            env = {**os.environ, "PQWATCH_SMTP_URL": url, "PQWATCH_OUTBOX_DIR": str(tmp_path)}
            senders = [pqwatch(pg_url, env, "digest")]
            try:
                # The second begins (and settles) while the first is in a hand-over, with a later
                # clock: to the time rule alone that hand-over looks a dead run's.
                assert handler.entered.wait(30), "the first sender never reached DATA"
                senders.append(pqwatch(pg_url, env, "digest"))
                results = [sender.communicate(timeout=60) for sender in senders]
            finally:
                for sender in senders:
                    sender.kill()
                    sender.communicate()
        for sender, (out, err) in zip(senders, results, strict=True):
            assert sender.returncode == 0, (out, err)
            assert "interrupted" not in out and "dead run" not in err, (out, err)
        sent = [int(re.search(r"digests: (\d+) sent", out).group(1)) for out, _ in results]  # type: ignore[union-attr]
        assert sum(sent) == 40 and min(sent) >= 1, sent  # both sent: the runs overlapped
        received = Counter(rcpt for envelope in handler.envelopes for rcpt in envelope.rcpt_tos)
        assert received == Counter(f"reader{number}@example.org" for number in range(40))
        with sessions() as session:
            statuses = Counter(session.scalars(select(OutboxMail.status)))
        assert statuses == Counter({"sent": 40})
    finally:
        sessions.kw["bind"].dispose()


def test_a_live_sender_mid_hand_over_is_not_taken_for_a_dead_one(pg_url, tmp_path):
    # Two senders: each its own engine, as on two machines.
    first_sessions, later_sessions = open_database(pg_url), open_database(pg_url)
    try:
        add_subscriber(first_sessions)
        add_events(first_sessions, ANSWER)
        handler = HoldsFirstData()
        first_run: list[DigestRun] = []
        with smtp_server(handler) as url:
            first = threading.Thread(
                target=lambda: first_run.append(
                    send_due_digests(first_sessions, smtp_mailer(url, tmp_path), MONDAY_8AM)
                )
            )
            first.start()
            try:
                assert handler.entered.wait(10), "the first sender never reached DATA"
                assert outbox_rows(later_sessions) == [(TODAY, "sending")]
                # Begun later: to the time rule alone the first sender's row looks a dead run's.
                later = send_due_digests(
                    later_sessions, smtp_mailer(url, tmp_path), MONDAY_8AM + timedelta(minutes=10)
                )
                assert outbox_rows(later_sessions) == [(TODAY, "sending")]
            finally:
                handler.release.set()
                first.join(10)
        assert (later.interrupted, later.resumed, later.sent, later.skipped_already_sent) == (0, 0, 0, 1)
        assert later.ok
        [run] = first_run
        assert (run.sent, run.ok) == (1, True)
        assert outbox_rows(later_sessions) == [(TODAY, "sent")]
        assert [envelope.rcpt_tos for envelope in handler.envelopes] == [["reader@example.org"]]
    finally:
        first_sessions.kw["bind"].dispose()
        later_sessions.kw["bind"].dispose()


def left_row(sessions, subscriber_id: int, status: str) -> None:  # type: ignore[no-untyped-def]
    """Store the row a sender left in `status` when it died: no lock holds it."""
    with sessions.begin() as session:
        event_ids = list(session.scalars(select(ChangeEvent.id)))
        session.add(
            OutboxMail(
                subscriber_id=subscriber_id,
                period_key=TODAY,
                kind="digest",
                status=status,
                first_event_id=min(event_ids),
                last_event_id=max(event_ids),
                event_count=len(event_ids),
                message_id=f"<pqwatch.{subscriber_id}.daily.2026-11-30@pq.example>",
                attempts=1 if status == "sending" else 0,
                created_at=MONDAY_8AM,
            )
        )


def test_the_rows_of_a_sender_whose_connection_is_gone_are_still_settled(pg_url, tmp_path):
    sessions = open_database(pg_url)
    try:
        mid_send = add_subscriber(sessions, "mid-send@example.org")
        claimed = add_subscriber(sessions, "claimed@example.org")
        add_events(sessions, ANSWER)
        left_row(sessions, mid_send, "sending")
        left_row(sessions, claimed, "claimed")
        handler = SmtpRecorder()
        with smtp_server(handler) as url:
            run = send_due_digests(sessions, smtp_mailer(url, tmp_path), MONDAY_8AM + timedelta(minutes=10))
            again = send_due_digests(sessions, smtp_mailer(url, tmp_path), MONDAY_8AM + timedelta(minutes=20))
        assert (run.interrupted, run.resumed, run.sent, run.ok) == (1, 1, 1, False)
        assert (again.interrupted, again.sent, again.ok) == (0, 0, True)
        assert outbox_rows(sessions) == [(TODAY, "interrupted"), (TODAY, "sent")]
        [envelope] = handler.envelopes
        assert envelope.rcpt_tos == ["claimed@example.org"]
        assert f"Message-ID: <pqwatch.{claimed}.daily.2026-11-30@pq.example>" in envelope.content.decode()
    finally:
        sessions.kw["bind"].dispose()


def test_of_two_settlers_taking_one_dead_claim_one_after_the_other_one_sends(pg_url, tmp_path, monkeypatch):
    first_sessions, second_sessions = open_database(pg_url), open_database(pg_url)
    try:
        claimed = add_subscriber(first_sessions)
        add_events(first_sessions, ANSWER)
        left_row(first_sessions, claimed, "claimed")
        # Each settler resumes the row only once both have taken it (the first's FOR UPDATE was
        # only the probe, ended with its query), so both try to send it.
        took = threading.Barrier(2, timeout=10)
        resume = digest._resume

        def both_took(*args: Any) -> str:
            took.wait()
            return resume(*args)

        monkeypatch.setattr(digest, "_resume", both_took)
        handler = SmtpRecorder()
        runs: list[DigestRun] = []
        with smtp_server(handler) as url:
            settlers = [
                threading.Thread(
                    target=lambda s=s: runs.append(
                        send_due_digests(s, smtp_mailer(url, tmp_path), MONDAY_8AM + timedelta(minutes=10))
                    )
                )
                for s in (first_sessions, second_sessions)
            ]
            settlers[0].start()
            # The second queries only once the first has taken the row (its query has ended).
            assert wait_until(lambda: took.n_waiting == 1, 10), "the first settler never took the row"
            settlers[1].start()
            for settler in settlers:
                settler.join(20)
        assert len(runs) == 2, "a settler never finished"
        assert sorted(run.resumed for run in runs) == [0, 1] and all(run.ok for run in runs)
        assert [envelope.rcpt_tos for envelope in handler.envelopes] == [["reader@example.org"]]
        assert outbox_rows(first_sessions) == [(TODAY, "sent")]
    finally:
        first_sessions.kw["bind"].dispose()
        second_sessions.kw["bind"].dispose()
