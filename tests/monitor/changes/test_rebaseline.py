"""A parser upgrade is a re-baseline, never a mail: a new parser's reading of a stored raw body says
nothing new, on a crawl and on `reparse`; a real change read by a new parser still speaks."""

from __future__ import annotations

from datetime import datetime

from monitor.changes.detect import detect_changes
from monitor.changes.reparse import reparse
from monitor.queries.views import change_events, question_history
from spiders.sources.blog import parse
from storage.record import record_page
from tests.support.rebaseline import BODY, POST_URL, post_body, record_crawl, upgrade_parser

T = [datetime(2026, 11, d, 9, 0) for d in range(1, 6)]


def _mailable(sessions) -> list[str]:
    with sessions() as s:
        return [e.kind.value for e in change_events(s)]


def test_a_new_normaliser_on_a_recrawl_is_a_rebaseline_not_a_change(sessions, monkeypatch):
    assert record_crawl(sessions, BODY, T[0]) == 1
    upgrade_parser(monkeypatch)
    assert record_crawl(sessions, BODY, T[1]) == 0  # a new version, and nothing to say
    assert _mailable(sessions) == ["new"]
    with sessions() as s:
        [history] = question_history(s, "HL2472")
    first, second = history.versions
    assert "’" in (second.answer_text or "") and second.parser == "upgraded-normaliser"
    assert (first.rebaseline, second.rebaseline) == (False, True)
    assert second.as_json()["rebaseline"] is True


def test_a_real_change_read_by_a_new_parser_is_compared_with_the_old_body_read_anew(sessions, monkeypatch):
    record_crawl(sessions, BODY, T[0])
    upgrade_parser(monkeypatch)
    # The page changed and the parser changed: only the page's change speaks.
    assert record_crawl(sessions, post_body("The Government's view is clear: we will."), T[1]) == 1
    with sessions() as s:
        [event] = [e for e in change_events(s) if e.kind != "new"]
    assert event.kind == "answer_text_changed"
    assert event.old == "The Government’s view is clear: we won’t."  # the old body, read anew
    assert [op for op, _ in event.diff or ()].count("-") == 1  # one real word, not the apostrophes


def test_a_new_parser_on_a_different_body_with_no_stored_old_body_compares_as_before(sessions, monkeypatch):
    with sessions.begin() as s:  # a version stored before bodies and parsers were recorded
        record_page(
            s, source_kind="blog", url=POST_URL, answers=parse.parse_body(BODY, POST_URL), observed_at=T[0]
        )
    with sessions.begin() as s:
        detect_changes(s, now=T[0])
    upgrade_parser(monkeypatch)
    # Cannot be explained away (no old body to read anew, and not the same body): not lost.
    assert record_crawl(sessions, post_body("The Government's view is clear: we will."), T[1]) == 2
    assert _mailable(sessions) == ["new", "answer_text_changed", "question_text_changed"]


def test_reparse_records_the_new_reading_and_detection_says_nothing(sessions, monkeypatch):
    record_crawl(sessions, BODY, T[0])
    upgrade_parser(monkeypatch)
    result = reparse(sessions)
    assert (result.sources, result.versions, result.unreadable) == (1, 1, 0)
    with sessions.begin() as s:
        assert detect_changes(s, now=T[1]) == 0
    assert _mailable(sessions) == ["new"]
    with sessions() as s:
        [history] = question_history(s, "HL2472")
    assert [v.rebaseline for v in history.versions] == [False, True]
    again = reparse(sessions)
    assert (again.versions, again.current) == (0, 1)  # already read by the current parser
    # A real change after the upgrade still makes its event.
    assert record_crawl(sessions, post_body("The Government’s view is clear: we will."), T[2]) == 1
    assert _mailable(sessions) == ["new", "answer_text_changed"]


def test_reparse_counts_a_body_the_parser_cannot_read(sessions, monkeypatch):
    record_crawl(sessions, BODY, T[0])

    def unreadable(body: bytes, url: str, content_type: str | None = None):
        raise ValueError("not a post")

    monkeypatch.setattr(parse, "parse_body", unreadable)
    monkeypatch.setattr(parse, "PARSER_ID", "broken")
    result = reparse(sessions)
    assert (result.unreadable, result.versions) == (1, 0)
    assert "1 unreadable" in result.summary()
