"""Subscribers and digests: double opt-in, filters, one mail per period, exactly once, failures,
catch-up after downtime, and the scheduler's lock and wiring."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from monitor.cli.commands import main
from monitor.config import load_settings
from monitor.notify.digest import latest_period, send_confirmation, send_due_digests
from monitor.notify.mail import OutboxTransport, PermanentFailure, TemporaryFailure
from monitor.notify.subscriptions import confirm, make_token, subscribe
from monitor.scheduler import LockHeld, build_scheduler, leader_lock
from storage.models import Subscriber
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


def test_periods_follow_london_time_and_give_one_catch_up():
    def key(frequency: str, now: datetime) -> str | None:
        period = latest_period(frequency, "07:00", now)
        return period.key if period else None

    # Before the day's send time the latest begun period is yesterday's.
    assert key("daily", datetime(2026, 11, 30, 6, 59)) == "daily:2026-11-29"
    assert key("daily", datetime(2026, 11, 30, 7, 0)) == "daily:2026-11-30"
    # In summer London is UTC+1: 07:00 London is 06:00 UTC.
    assert key("daily", datetime(2026, 7, 1, 6, 0)) == "daily:2026-07-01"
    assert key("weekly", datetime(2026, 11, 30, 6, 0)) == "weekly:2026-W48"  # Monday, too early
    assert key("weekly", datetime(2026, 11, 30, 7, 0)) == "weekly:2026-W49"
    assert key("weekly", datetime(2026, 12, 3, 1, 0)) == "weekly:2026-W49"  # catch-up
    assert key("immediate", datetime(2026, 12, 3, 1, 0)) is None


def test_a_digest_goes_out_once_per_period_with_every_matching_event(sessions):
    add_subscriber(sessions)
    add_events(sessions, ANSWER, replace(ANSWER, uin="HL2473"))
    transport = RecordingTransport()
    first = send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    again = send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(hours=1))
    assert (first.sent, again.sent, again.skipped_already_sent) == (1, 0, 1)
    [message] = transport.sent
    assert message["To"] == "reader@example.org"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<https://pq.example/unsubscribe/")
    body = message.get_body(("plain",)).get_content()
    assert "HL2472" in body and "HL2473" in body
    assert outbox_rows(sessions) == [("daily:2026-11-30", "sent")]


def test_the_next_period_has_only_what_is_new_and_nothing_new_means_no_mail(sessions):
    add_subscriber(sessions)
    add_events(sessions, ANSWER)
    transport = RecordingTransport()
    send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    tuesday = MONDAY_8AM + timedelta(days=1)
    assert send_due_digests(sessions, mailer(transport), tuesday).nothing_to_report == 1
    add_events(sessions, replace(ANSWER, answer_text="Edited."), at=tuesday - timedelta(minutes=5))
    assert send_due_digests(sessions, mailer(transport), tuesday).sent == 1
    body = transport.sent[-1].get_body(("plain",)).get_content()
    assert "Edited." in body and len(transport.sent) == 2


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"HL2472", "HL2473", "4120"}),
        ({"house": "Commons"}, {"4120"}),
        ({"department": "home office"}, {"HL2472"}),
        ({"member": "Ahmad"}, {"HL2473"}),
        ({"keyword": "railways"}, {"4120"}),
        ({"uin": "hl2473"}, {"HL2473"}),
        ({"kinds": ["corrected"]}, set()),
    ],
)
def test_filters_choose_the_events_a_subscriber_gets(sessions, filters, expected):
    add_subscriber(sessions, **filters)
    add_events(
        sessions,
        ANSWER,
        replace(ANSWER, uin="HL2473", answering_member="Lord Ahmad of Wimbledon", answering_body="FCDO"),
        replace(
            ANSWER,
            house="Commons",
            uin="4120",
            answering_body="Department for Transport",
            question_text="To ask about railways.",
        ),
    )
    transport = RecordingTransport()
    send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    body = transport.sent[0].get_body(("plain",)).get_content() if transport.sent else ""
    assert {uin for uin in ("HL2472", "HL2473", "4120") if uin in body} == expected


def test_double_opt_in_sends_one_confirmation_and_nothing_else_until_confirmed(sessions):
    with sessions.begin() as session:
        subscriber, needs = subscribe(session, "New@Example.org", now=MONDAY_8AM - timedelta(days=1))
        subscriber_id = subscriber.id
    assert needs
    transport = RecordingTransport()
    assert send_confirmation(sessions, mailer(transport), subscriber_id, MONDAY_8AM)
    assert not send_confirmation(sessions, mailer(transport), subscriber_id, MONDAY_8AM)  # never twice
    assert len(transport.sent) == 1 and "/confirm/" in transport.sent[0].get_body(("plain",)).get_content()
    add_events(sessions, ANSWER)
    assert send_due_digests(sessions, mailer(transport), MONDAY_8AM).sent == 0
    with sessions.begin() as session:
        confirm(session, DIGEST_SECRET, make_token(DIGEST_SECRET, "new@example.org", "confirm"), MONDAY_8AM)
    add_events(sessions, replace(ANSWER, answer_text="After confirming."), at=MONDAY_8AM)
    assert send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(minutes=1)).sent == 1


def test_a_crash_during_the_hand_over_is_reported_never_resent_and_its_changes_carried(sessions):
    add_subscriber(sessions)
    add_events(sessions, ANSWER)

    class CrashAfterSending(RecordingTransport):
        def send(self, message: EmailMessage) -> None:
            super().send(message)
            raise KeyboardInterrupt  # the process dies before it can record "sent"

    crashing = CrashAfterSending()
    with pytest.raises(KeyboardInterrupt):
        send_due_digests(sessions, mailer(crashing), MONDAY_8AM)
    assert len(crashing.sent) == 1 and outbox_rows(sessions) == [("daily:2026-11-30", "sending")]
    after = RecordingTransport()
    later = send_due_digests(sessions, mailer(after), MONDAY_8AM + timedelta(minutes=10))
    assert after.sent == []  # not again today: it may have arrived
    assert (later.interrupted, later.ok) == (1, False) and "1 interrupted" in later.summary()
    assert outbox_rows(sessions) == [("daily:2026-11-30", "interrupted")]
    # Issue 10: only "sent" rows count, so tomorrow's digest carries the interrupted changes.
    send_due_digests(sessions, mailer(after), MONDAY_8AM + timedelta(days=1))
    [carried] = after.sent
    assert "HL2472" in carried.get_body(("plain",)).get_content()


def test_a_temporary_failure_is_recorded_and_its_events_go_in_the_next_digest(sessions):
    add_subscriber(sessions)
    add_events(sessions, ANSWER)
    failed = send_due_digests(
        sessions, mailer(RecordingTransport(TemporaryFailure("451 try later"))), MONDAY_8AM
    )
    assert failed.failed == 1 and outbox_rows(sessions) == [("daily:2026-11-30", "failed")]
    transport = RecordingTransport()
    assert send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(days=1)).sent == 1
    assert "HL2472" in transport.sent[0].get_body(("plain",)).get_content()


def test_a_rejected_recipient_is_suppressed(sessions):
    subscriber_id = add_subscriber(sessions)
    add_events(sessions, ANSWER)
    run = send_due_digests(
        sessions,
        mailer(RecordingTransport(PermanentFailure("550 no such user", recipient_rejected=True))),
        MONDAY_8AM,
    )
    assert run.suppressed == 1
    with sessions() as session:
        assert session.get(Subscriber, subscriber_id).status == "suppressed"


def test_after_days_of_downtime_exactly_one_catch_up_digest_goes_out(sessions):
    add_subscriber(sessions)
    add_events(sessions, ANSWER)
    transport = RecordingTransport()
    back = MONDAY_8AM + timedelta(days=3, hours=2)
    for minutes in (0, 10, 20):  # the scheduler's ticks after the restart
        send_due_digests(sessions, mailer(transport), back + timedelta(minutes=minutes))
    assert len(transport.sent) == 1 and outbox_rows(sessions) == [("daily:2026-12-03", "sent")]


def test_two_senders_racing_send_each_digest_once(sessions):
    for number in range(5):
        add_subscriber(sessions, f"reader{number}@example.org")
    add_events(sessions, ANSWER)
    transport = RecordingTransport()
    threads = [
        threading.Thread(target=send_due_digests, args=(sessions, mailer(transport), MONDAY_8AM))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["To"] for m in transport.sent) == [f"reader{n}@example.org" for n in range(5)]


def test_only_one_scheduler_holds_the_lock(db_url):
    with leader_lock(db_url):
        with pytest.raises(LockHeld), leader_lock(db_url):
            pass
    with leader_lock(db_url):  # released: the next scheduler gets it
        pass


def test_the_scheduler_registers_crawl_and_digest_jobs_coalesced(db_url, monkeypatch):
    monkeypatch.setenv("PQWATCH_DB_URL", db_url)
    for _restart in range(2):  # jobs persist in the database and are replaced, not doubled
        scheduler = build_scheduler(load_settings(), BackgroundScheduler)
        scheduler.start(paused=True)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "crawl:parliament",
        "crawl:statements",
        "crawl:davidalton.net",
        "digest:immediate",
        "digest:daily",
        "digest:weekly",
    }
    assert all(
        job.coalesce and job.max_instances == 1 and job.misfire_grace_time == 3600 for job in jobs.values()
    )
    assert str(jobs["crawl:parliament"].trigger).startswith("cron[")


def test_the_outbox_folder_gets_one_eml_per_mail(sessions, tmp_path):
    add_subscriber(sessions)
    add_events(sessions, ANSWER)
    send_due_digests(sessions, mailer(OutboxTransport(tmp_path / "outbox")), MONDAY_8AM)
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes())
    assert message["To"] == "reader@example.org" and message.is_multipart()


def test_cli_subscribe_digest_and_unsubscribe(db_url, tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("PQWATCH_OUTBOX_DIR", str(tmp_path / "outbox"))
    assert (
        main(["--db", db_url, "subscribe", "someone@example.org", "--kind", "corrected", "--house", "Lords"])
        == 0
    )
    assert "confirmation mail sent" in capfd.readouterr().out
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert main(["--db", db_url, "subscribers"]) == 0
    assert "someone@example.org  pending" in capfd.readouterr().out
    assert main(["--db", db_url, "digest", "--dry-run"]) == 0
    assert "0 sent" in capfd.readouterr().out
    assert main(["--db", db_url, "unsubscribe", "someone@example.org"]) == 0
    assert "unsubscribed" in capfd.readouterr().out
    for bad in (
        ["subscribe", "not-an-address"],
        ["subscribe", "a@b.org\r\nBcc: x@y.org"],
        ["subscribe", "a@example.org", "--kind", "nonsense"],
        ["subscribe", "a@example.org", "--send-time", "25:00"],
    ):
        assert main(["--db", db_url, *bad]) == 2
        err = capfd.readouterr().err.strip()
        assert err.startswith("pqwatch: error:") and len(err.splitlines()) == 1


def test_the_daemon_stops_cleanly_on_sigterm(tmp_path):
    config = tmp_path / "pqwatch.toml"
    config.write_text('[parliament]\napi_base = "http://127.0.0.1:9"\nschedule = "0 3 * * *"\n')
    env = {
        **os.environ,
        "PQWATCH_DB_URL": f"sqlite:///{tmp_path}/d.sqlite3",
        "PQWATCH_CONFIG": str(config),
        "PQWATCH_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run"], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    started = False
    assert daemon.stderr is not None
    while time.monotonic() < deadline:
        line = daemon.stderr.readline()
        if "scheduler running" in line:
            started = True
            break
    assert started
    second = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 2 and "another pqwatch scheduler is running" in second.stderr
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0
    log = daemon.stderr.read()
    assert "stopped" in log
    assert "crawl parliament: crawl finished with errors" in log  # it crawled at start (nothing there)
    assert Path(f"{tmp_path}/d.sqlite3").exists()


def test_a_refusal_that_is_not_about_the_address_stops_the_run(sessions):
    for number in range(3):
        add_subscriber(sessions, f"reader{number}@example.org")
    add_events(sessions, ANSWER)
    transport = RecordingTransport(PermanentFailure("535 authentication failed"))
    run = send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    assert run.failed == 1 and run.sent == 0
    assert outbox_rows(sessions) == [("daily:2026-11-30", "failed")]  # the other two wait for a fix
    with sessions() as session:
        assert {s.status for s in session.scalars(select(Subscriber))} == {"confirmed"}


def test_a_long_digest_shows_the_first_fifty_of_a_kind_and_counts_the_rest(sessions):
    add_subscriber(sessions)
    add_events(sessions, *[replace(ANSWER, uin=f"HL{3000 + n}") for n in range(60)])
    transport = RecordingTransport()
    send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    [message] = transport.sent
    text = message.get_body(("plain",)).get_content()
    assert "First seen, already answered (60)" in text and "... and 10 more" in text
    assert text.count("* Lords HL30") == 50 and "60 first seen already answered" in message["Subject"]


def test_immediate_subscribers_get_one_mail_per_batch_of_new_changes(sessions):
    with sessions.begin() as session:
        subscribe(session, "now@example.org", frequency="immediate", confirmed=True, now=MONDAY_8AM)
    transport = RecordingTransport()
    add_events(sessions, ANSWER, at=MONDAY_8AM + timedelta(minutes=1))
    assert send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(minutes=2)).sent == 1
    assert send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(minutes=3)).sent == 0
    add_events(sessions, replace(ANSWER, uin="HL2473"), at=MONDAY_8AM + timedelta(minutes=4))
    assert send_due_digests(sessions, mailer(transport), MONDAY_8AM + timedelta(minutes=5)).sent == 1
    assert [row[0].split(":")[0] for row in outbox_rows(sessions)] == ["immediate", "immediate"]
    assert "HL2472" not in transport.sent[1].get_body(("plain",)).get_content()


def test_a_scheduled_crawl_job_crawls_detects_and_mails_immediate_subscribers(
    site, db_url, tmp_path, monkeypatch
):
    from monitor.jobs import crawl_job

    config = tmp_path / "pqwatch.toml"
    config.write_text(f'[[blog]]\nname = "local"\nstart_urls = ["{site.url}/"]\n')
    for name, value in {
        "PQWATCH_DB_URL": db_url,
        "PQWATCH_CONFIG": str(config),
        "PQWATCH_DOWNLOAD_DELAY": "0",
        "PQWATCH_OUTBOX_DIR": str(tmp_path / "outbox"),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["subscribe", "now@example.org", "--frequency", "immediate", "--confirmed"]) == 0
    counts = crawl_job("local")
    assert counts["answers_new"] == 3 and counts["errors"] == 0
    [mail] = list((tmp_path / "outbox").glob("*.eml"))
    message = email.message_from_bytes(mail.read_bytes())
    assert message["To"] == "now@example.org" and "3 first seen already answered" in message["Subject"]
