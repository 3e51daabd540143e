"""Benchmark digests: build and render the digests of N subscribers over M change events, then
send them to a local SMTP server (aiosmtpd) and measure the rate.

    python -m bench.bench_digest [--subscribers 10000] [--events 2000] [--send 2000]

Prints figures and writes bench/out/digest.json. Not a test."""

from __future__ import annotations

import argparse
import json
import random
import resource
import socket
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import update

from monitor.changes.detect import detect_changes
from monitor.notify.digest import Mailer, send_due_digests
from monitor.notify.mail import SmtpTransport
from monitor.notify.subscriptions import make_filters, subscribe
from spiders.records import AnswerRecord
from storage.db import open_database
from storage.models import Subscriber
from storage.record import record_page

OUT = Path(__file__).with_name("out")
NOW = datetime(2026, 11, 30, 8, 0)
BODIES = [
    "Home Office",
    "Department for Education",
    "Foreign, Commonwealth and Development Office",
    "Department of Health and Social Care",
    "Cabinet Office",
    "HM Treasury",
    "Ministry of Justice",
]
MINISTERS = [
    "Lord Hanson of Flint",
    "Baroness Smith of Malvern",
    "Lord Collins of Highbury",
    "Baroness Merron",
    "Baroness Twycross",
    "Lord Livermore",
    "Lord Timpson",
]
# Topics a keyword filter looks for; an answer mentions two of them, from a hundred.
WORDS = [
    f"{topic}{n}"
    for n in range(10)
    for topic in (
        "prisons",
        "schools",
        "hospitals",
        "sanctions",
        "railways",
        "housing",
        "asylum",
        "floods",
        "courts",
        "ports",
    )
]


class Sink:
    """An SMTP handler that counts what arrives."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # aiosmtpd's names
        self.count += 1
        return "250 OK"


def populate(sessions, n_events: int, n_subscribers: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """Store n_events new answers (one event each) and n_subscribers confirmed subscribers."""
    with sessions.begin() as session:
        for number in range(n_subscribers):
            choice = number % 100
            if choice == 0:
                filters = make_filters()  # follows everything
            elif choice < 40:
                filters = make_filters(department=rng.choice(BODIES))
            elif choice < 60:
                filters = make_filters(member=rng.choice(MINISTERS).split()[1])
            elif choice < 80:
                filters = make_filters(keyword=rng.choice(WORDS))
            elif choice < 95:
                filters = make_filters(uin=f"HL{rng.randrange(n_events)}")
            else:
                filters = make_filters(house="Lords", kinds=["corrected", "sources_disagree"])
            subscribe(session, f"reader{number}@example.org", filters=filters, confirmed=True, now=NOW)
        # Subscribed before the events, so every event is news to them.
        session.execute(update(Subscriber).values(start_event_id=0))
    base = AnswerRecord(
        house="Lords", uin="HL0", date_tabled=date(2026, 11, 2), question_text="", answer_text=""
    )
    for number in range(n_events):
        answer = replace(
            base,
            uin=f"HL{number}",
            date_tabled=date(2026, 11, 2) + timedelta(days=number % 20),
            question_text=f"To ask His Majesty's Government about {rng.choice(WORDS)} ({number}).",
            answer_text=f"The Government keeps {rng.choice(WORDS)} and {rng.choice(WORDS)} under review. "
            * 6,
            answering_member=rng.choice(MINISTERS),
            answering_body=rng.choice(BODIES),
            date_answered=date(2026, 11, 29),
        )
        with sessions.begin() as session:
            record_page(
                session,
                source_kind="api",
                url=f"https://api.example/q/{number}",
                answers=[answer],
                observed_at=NOW - timedelta(hours=2),
            )
    with sessions.begin() as session:
        detect_changes(session, now=NOW - timedelta(hours=2))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    """Populate, then time a dry run (build + render) and a real send to aiosmtpd."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--send", type=int, default=2000, help="how many of the digests to send")
    args = parser.parse_args()
    rng = random.Random(2472)
    figures: dict[str, object] = {"subscribers": args.subscribers, "events": args.events}
    with tempfile.TemporaryDirectory(prefix="pqwatch-bench-") as folder:
        sessions = open_database(f"sqlite:///{folder}/digest.sqlite3")
        started = time.perf_counter()
        populate(sessions, args.events, args.subscribers, rng)
        figures["populate_s"] = round(time.perf_counter() - started, 1)
        sink = Sink()
        port = _free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
            mailer = Mailer(transport, "pqwatch <pq@example.org>", "https://pq.example", "bench-secret")
            started, cpu = time.perf_counter(), time.process_time()
            dry = send_due_digests(sessions, mailer, NOW, dry_run=True)
            figures["build_and_render"] = {
                "digests": len(dry.previews),
                "nothing_to_report": dry.nothing_to_report,
                "wall_s": round(time.perf_counter() - started, 2),
                "cpu_s": round(time.process_time() - cpu, 2),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
            # Send to the first --send subscribers only: the rate is what matters.
            with sessions.begin() as session:
                session.execute(
                    update(Subscriber).where(Subscriber.id > args.send).values(status="unsubscribed")
                )
            started = time.perf_counter()
            sent = send_due_digests(sessions, mailer, NOW)
            wall = time.perf_counter() - started
            figures["send"] = {
                "sent": sent.sent,
                "received": sink.count,
                "wall_s": round(wall, 2),
                "mails_per_s": round(sent.sent / wall, 1),
            }
        finally:
            controller.stop()
    OUT.mkdir(exist_ok=True)
    (OUT / "digest.json").write_text(json.dumps(figures, indent=2))
    b, s = figures["build_and_render"], figures["send"]
    assert isinstance(b, dict) and isinstance(s, dict)
    print(
        f"build + render: {b['digests']} digests for {args.subscribers} subscribers "
        f"over {args.events} events "
        f"in {b['wall_s']} s ({b['cpu_s']} s CPU), peak RSS {b['peak_rss_mib']} MiB"
    )
    print(
        f"send to aiosmtpd: {s['sent']} mails in {s['wall_s']} s = {s['mails_per_s']} mails/s "
        f"({s['received']} received)"
    )


if __name__ == "__main__":
    main()
