"""Issue 10: the notify commands — `digest` exits non-zero on a policy refusal, `restore` brings
back a suppressed subscriber, `bounces` reads an mbox or a Maildir and prints one line."""

from __future__ import annotations

import mailbox
import subprocess
import sys

from sqlalchemy import select

from monitor.cli.commands import main
from storage.models import Subscriber
from tests.support.digests import add_events, add_subscriber
from tests.support.helpers import ANSWER
from tests.support.mail import DSN, RELAYING_DENIED, Replies, smtp_server


def statuses(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {s.email: s.status for s in session.scalars(select(Subscriber))}


def test_digest_stops_with_a_non_zero_exit_on_a_policy_refusal_and_suppresses_nobody(
    db_url, sessions, capfd, monkeypatch
):
    for address in ("reader@example.org", "second@example.org"):
        add_subscriber(sessions, address)
    add_events(sessions, ANSWER)
    with smtp_server(Replies(RELAYING_DENIED, "rcpt")) as url:
        monkeypatch.setenv("PQWATCH_SMTP_URL", url)
        assert main(["--db", db_url, "digest"]) == 1
    out = capfd.readouterr().out
    assert "stopped: the mail server refuses" in out and "0 suppressed" in out
    assert set(statuses(sessions).values()) == {"confirmed"}


def test_restore_brings_a_suppressed_subscriber_back_and_refuses_others(db_url, sessions, capfd):
    add_subscriber(sessions, "reader@example.org")
    add_subscriber(sessions, "other@example.org")
    with sessions.begin() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == "reader@example.org"))
        found.status = "suppressed"
    assert main(["--db", db_url, "restore", "Reader@Example.org"]) == 0
    out = capfd.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and out.startswith("reader@example.org: restored")
    assert statuses(sessions)["reader@example.org"] == "confirmed"
    for address in ("other@example.org", "nobody@example.org", "reader@example.org"):
        assert main(["--db", db_url, "restore", address]) == 2
        err = capfd.readouterr().err.strip()
        assert err.startswith("pqwatch: error:") and len(err.splitlines()) == 1


def test_bounces_reads_an_mbox_and_a_maildir_and_prints_one_line(db_url, sessions, capfd, tmp_path):
    add_subscriber(sessions, "gone@example.net")
    add_subscriber(sessions, "left.the.firm@contoso.com")
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    for name in ("postfix_hard.eml", "out_of_office.eml", "postfix_delayed.eml"):
        box.add((DSN / name).read_bytes())
    box.close()
    assert main(["--db", db_url, "bounces", str(tmp_path / "bounces.mbox")]) == 0
    out = capfd.readouterr().out.strip()
    assert out == (
        "bounces: 3 messages read, 1 hard, 1 soft, 1 ignored (not a delivery report), "
        "0 already recorded, 1 addresses suppressed"
    )
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    folder.add((DSN / "m365_hard.eml").read_bytes())
    folder.add((DSN / "postfix_hard.eml").read_bytes())  # read before: recorded once
    folder.close()
    assert main(["--db", db_url, "bounces", str(tmp_path / "Maildir")]) == 0
    out = capfd.readouterr().out
    assert "2 messages read, 1 hard" in out and "1 already recorded" in out
    assert statuses(sessions) == {"gone@example.net": "suppressed", "left.the.firm@contoso.com": "suppressed"}


def test_bounces_with_a_bad_path_is_a_one_line_error_and_exit_2(tmp_path):
    (tmp_path / "not-a-maildir").mkdir()
    for path in (tmp_path / "missing", tmp_path / "not-a-maildir"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor.cli",
                "--db",
                f"sqlite:///{tmp_path}/x.sqlite3",
                "bounces",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert done.stderr.startswith("pqwatch: error:") and len(done.stderr.strip().splitlines()) == 1
