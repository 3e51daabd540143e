"""Issue 12, through the installed `pqwatch` command: `subscribers` prints an aligned table,
`resend-confirmation` sends a pending subscription's confirmation again (at most once an hour),
and `digest --dry-run --show` prints the mails it would send, sending and marking nothing."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from storage.models import OutboxMail, Subscriber
from tests.support.digests import add_events, add_subscriber
from tests.support.helpers import ANSWER

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))
READER = "reader@example.org"


def pqwatch(db_url: str, outbox: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command against `db_url`, mailing into the `outbox` folder."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PQWATCH_OUTBOX_DIR": str(outbox),
        "PQWATCH_BASE_URL": "https://pq.example",
        "PQWATCH_SECRET_KEY": "cli-secret",
    }
    return subprocess.run(
        [PQWATCH, "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=outbox.parent,
    )


def mails(outbox: Path) -> list[email.message.EmailMessage]:
    """The mails written to the outbox folder."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(outbox.glob("*.eml"))
    ]


def test_subscribers_prints_an_aligned_table_with_readable_filters(db_url, sessions, tmp_path):
    empty = pqwatch(db_url, tmp_path / "outbox", "subscribers")
    assert empty.returncode == 0 and empty.stdout == "no subscribers\n"
    add_subscriber(sessions, "reader@example.org", department="Home Office", keyword="asylum")
    add_subscriber(sessions, "a.much.longer.address@example.org")
    done = pqwatch(db_url, tmp_path / "outbox", "subscribers")
    assert done.returncode == 0, done.stderr
    head, *rows = done.stdout.splitlines()
    assert head.split() == ["id", "email", "status", "frequency", "send", "time", "filters", "created"]
    assert len(rows) == 2 and "[" not in done.stdout and "{" not in done.stdout
    longer, reader = rows  # by address
    assert longer.split()[1:6] == [
        "a.much.longer.address@example.org",
        "confirmed",
        "daily",
        "07:00",
        "everything",
    ]
    assert "department=Home Office keyword=asylum" in reader
    # Aligned: every column starts at the same place on every line.
    for column in ("email", "status", "frequency", "send time", "filters", "created"):
        start = head.index(column)
        assert all(row[start - 2 : start] == "  " and row[start] != " " for row in rows), column
    created = reader.split()[-2:]
    assert datetime.strptime(" ".join(created), "%Y-%m-%d %H:%MZ")


def test_resend_confirmation_sends_again_once_an_hour_and_refuses_without_a_pending_one(db_url, tmp_path):
    outbox = tmp_path / "outbox"
    first = pqwatch(db_url, outbox, "subscribe", "new@example.org", "--department", "Home Office")
    assert first.returncode == 0, first.stderr
    assert len(mails(outbox)) == 1
    again = pqwatch(db_url, outbox, "resend-confirmation", "New@Example.org")
    assert again.returncode == 0, again.stderr
    assert (
        again.stdout.startswith("new@example.org (subscription ")
        and "confirmation mail sent again" in again.stdout
    )
    assert "department=Home Office" in again.stdout
    sent = mails(outbox)
    assert len(sent) == 2 and {m["Subject"] for m in sent} == {"pqwatch: confirm your subscription"}
    assert all(m["To"] == "new@example.org" for m in sent)
    third = pqwatch(db_url, outbox, "resend-confirmation", "new@example.org")
    assert third.returncode == 0 and "already sent again within the hour" in third.stdout
    assert len(mails(outbox)) == 2
    for address in ("confirmed@example.org", "nobody@example.org", "not an address"):
        if address == "confirmed@example.org":
            assert pqwatch(db_url, outbox, "subscribe", address, "--confirmed").returncode == 0
        refused = pqwatch(db_url, outbox, "resend-confirmation", address)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith("pqwatch: error:") and len(refused.stderr.strip().splitlines()) == 1
    assert "has no subscription waiting for confirmation" in refused.stderr or "not a valid" in refused.stderr


def test_digest_dry_run_show_prints_the_mails_and_sends_and_marks_nothing(db_url, sessions, tmp_path):
    outbox = tmp_path / "outbox"
    add_subscriber(sessions, "reader@example.org")
    add_subscriber(sessions, "lords@example.org", house="Commons")  # nothing matches: no mail
    add_events(sessions, ANSWER)
    done = pqwatch(db_url, outbox, "digest", "--dry-run", "--show")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "To: reader@example.org\nSubject: pqwatch: 1 first seen already answered: Lords HL2472" in out
    assert "To: lords@example.org" not in out
    assert f"  Answer: {ANSWER.answer_text}\n" in out and "/unsubscribe/" in out
    assert "1 would be sent (dry run)" in out
    assert not outbox.exists() or not list(outbox.iterdir())
    with sessions() as session:
        assert session.scalars(select(OutboxMail)).all() == []
    # The real run afterwards sends what the dry run showed.
    sent = pqwatch(db_url, outbox, "digest")
    assert sent.returncode == 0 and "1 sent" in sent.stdout
    [mail] = mails(outbox)
    assert (
        mail["To"] == "reader@example.org" and ANSWER.answer_text in mail.get_body(("plain",)).get_content()
    )
    refused = pqwatch(db_url, outbox, "digest", "--show")
    assert refused.returncode == 2 and "--show needs --dry-run" in refused.stderr
    with sessions() as session:
        assert len(session.scalars(select(Subscriber)).all()) == 2


def test_subscribing_to_a_uin_never_seen_says_so_and_still_subscribes(db_url, sessions, tmp_path):
    outbox = tmp_path / "outbox"
    add_events(sessions, ANSWER)  # HL2472, in the Lords
    unseen = pqwatch(db_url, outbox, "subscribe", "follow@example.org", "--uin", "1234")
    assert unseen.returncode == 0, unseen.stderr
    assert (
        "follow@example.org: no question UIN 1234 is stored yet; you will hear when it is\n" in unseen.stdout
    )
    assert "confirmation mail sent" in unseen.stdout
    wrong_house = pqwatch(
        db_url, outbox, "subscribe", "follow@example.org", "--uin", "HL2472", "--house", "Commons"
    )
    assert "no question UIN HL2472 in the Commons is stored yet" in wrong_house.stdout
    stored = pqwatch(db_url, outbox, "subscribe", "other@example.org", "--uin", "hl2472", "--confirmed")
    assert stored.returncode == 0 and "stored yet" not in stored.stdout
    with sessions() as session:
        uins = {(s.email, (s.filters or {}).get("uin")) for s in session.scalars(select(Subscriber))}
    # Every one of them subscribed, the unseen UINs too: they may come.
    assert uins == {
        ("follow@example.org", "1234"),
        ("follow@example.org", "HL2472"),
        ("other@example.org", "HL2472"),
    }


def test_subscribe_again_adds_or_updates_and_unsubscribe_says_what_it_removed(db_url, sessions, tmp_path):
    outbox = tmp_path / "outbox"
    dept = ("--department", "Home Office", "--confirmed")
    first = pqwatch(db_url, outbox, "subscribe", READER, *dept)
    assert first.returncode == 0 and ": subscribed (daily)" in first.stdout
    second = pqwatch(db_url, outbox, "subscribe", READER, "--keyword", "asylum", "--confirmed")
    assert "(keyword=asylum): subscribed" in second.stdout
    same = pqwatch(db_url, outbox, "subscribe", READER, *dept)
    assert same.stdout.strip().endswith("(department=Home Office): already subscribed")
    moved = pqwatch(db_url, outbox, "subscribe", READER, *dept, "--frequency", "weekly")
    assert moved.stdout.strip().endswith("(department=Home Office): updated to weekly at 07:00")
    with sessions() as session:
        rows = {
            s.filters.get("keyword") or s.filters.get("department"): s
            for s in session.scalars(select(Subscriber))
        }
    assert set(rows) == {"Home Office", "asylum"} and rows["Home Office"].frequency == "weekly"
    one = pqwatch(db_url, outbox, "unsubscribe", READER, "--id", str(rows["asylum"].id))
    assert one.stdout == f"{READER}: unsubscribed from subscription {rows['asylum'].id} (keyword=asylum)\n"
    missing = pqwatch(db_url, outbox, "unsubscribe", READER, "--id", "999")
    assert missing.returncode == 2 and f"{READER} has no subscription 999" in missing.stderr
    rest = pqwatch(db_url, outbox, "unsubscribe", READER)
    assert rest.stdout == (
        f"{READER}: unsubscribed from subscription {rows['Home Office'].id} (department=Home Office)\n"
    )
    assert pqwatch(db_url, outbox, "unsubscribe", READER).stdout == f"{READER}: was not subscribed\n"
