"""The reading commands through the installed `pqwatch` command: the filters of `changes` and
`export`, `history` with texts and a wrong --house, and silence when piped into `head`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.helpers import crawl, site_pages

PQWATCH = str(Path(sys.executable).with_name("pqwatch"))


def run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PQWATCH, "--db", db_url, *args], capture_output=True, text=True, timeout=120, check=False
    )


def changed_twice(site, db_url, capfd) -> None:  # type: ignore[no-untyped-def]
    crawl(db_url, site.url + "/", capfd=capfd)
    site.replace(site_pages(site.url, answer1="I will meet the Commissioner tomorrow."))
    crawl(db_url, site.url + "/", capfd=capfd)


def test_changes_filters_by_uin_kind_house_department_and_until(site, db_url, capfd):
    changed_twice(site, db_url, capfd)
    everything = json.loads(run(db_url, "changes", "--format", "json").stdout)
    assert {e["kind"] for e in everything} >= {"new", "answer_text_changed"}
    one = json.loads(run(db_url, "changes", "--format", "json", "--uin", "hl2472").stdout)
    assert {e["uin"] for e in one} == {"HL2472"} and len(one) < len(everything)
    edits = json.loads(run(db_url, "changes", "--format", "json", "--kind", "answer_text_changed").stdout)
    assert [e["uin"] for e in edits] == ["HL2472"]
    text = run(db_url, "changes", "--kind", "answer_text_changed").stdout
    assert "I will meet the Commissioner [-shortly.-] {+tomorrow.+}" in text
    assert json.loads(run(db_url, "changes", "--format", "json", "--house", "Commons").stdout) == []
    fcdo = json.loads(
        run(db_url, "changes", "--format", "json", "--department", "FOREIGN, commonwealth").stdout
    )
    assert {e["uin"] for e in fcdo} == {"HL2500", "HL2501"}
    assert json.loads(run(db_url, "changes", "--format", "json", "--until", "2000-01-01").stdout) == []
    assert len(json.loads(run(db_url, "changes", "--format", "json", "--until", "2999-01-01").stdout)) == len(
        everything
    )
    bad = run(db_url, "changes", "--kind", "answered", "--kind", "nonsense")
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "'nonsense' is not a change kind" in bad.stderr and "answer_text_changed" in bad.stderr
    assert run(db_url, "changes", "--until", "soon").returncode == 2


def test_export_filters_by_house_and_since(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    lords = json.loads(run(db_url, "export", "--house", "Lords").stdout)
    assert [v["uin"] for v in lords] == ["HL2472", "HL2500", "HL2501"]
    assert json.loads(run(db_url, "export", "--house", "Commons").stdout) == []
    assert len(json.loads(run(db_url, "export", "--since", "2000-01-01").stdout)) == 3
    assert json.loads(run(db_url, "export", "--since", "2999-01-01T00:00:00Z").stdout) == []
    assert "observed since" in run(db_url, "export", "--help").stdout


def test_history_shows_the_texts_and_finds_the_uin_in_the_other_house(site, db_url, capfd):
    changed_twice(site, db_url, capfd)
    shown = run(db_url, "history", "HL2472")
    assert shown.returncode == 0 and shown.stderr == ""
    assert "    Answer: I will be meeting the Commissioner shortly." not in shown.stdout
    assert "    Answer: I will meet the Commissioner shortly." in shown.stdout
    assert "    Answer: I will meet the Commissioner tomorrow." in shown.stdout
    wrong = run(db_url, "history", "HL2472", "--house", "Commons")
    assert wrong.returncode == 0 and wrong.stdout == shown.stdout
    assert wrong.stderr == "pqwatch: no Commons question HL2472; showing the Lords one\n"
    absent = run(db_url, "history", "HL9999", "--house", "Commons")
    assert absent.returncode == 2 and absent.stdout == ""
    assert len(absent.stderr.strip().splitlines()) == 1


def test_reading_commands_are_silent_when_piped_into_head(site, db_url, capfd):
    long_answer = " ".join(f"Paragraph {n} of the answer says something long." for n in range(8000))
    crawl(db_url, site.url + "/", capfd=capfd)
    site.replace(site_pages(site.url, answer1=long_answer))
    crawl(db_url, site.url + "/", capfd=capfd)
    for args in (
        ["export"],
        ["export", "--format", "csv"],
        ["changes"],
        ["changes", "--format", "json"],
        ["history", "HL2472"],
        ["history", "HL2472", "--diff"],
    ):
        full = run(db_url, *args)
        assert full.returncode == 0 and len(full.stdout) > 256 * 1024, args
        piped = subprocess.run(
            f"'{PQWATCH}' --db '{db_url}' {' '.join(args)} | head -1",
            shell=True,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert piped.stderr == "", (args, piped.stderr)
        assert piped.stdout == full.stdout.splitlines(keepends=True)[0], args
