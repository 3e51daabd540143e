"""Full-text search over every version (monitor.queries.search), on SQLite (FTS5) and PostgreSQL:
the syntax a user types, past versions found as "ever said", the filters (on detected and on
not-yet-detected questions alike), hostile input, and the index the migration keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from alembic import command
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from monitor.changes.detect import detect_changes
from monitor.changes.lifecycle import Lifecycle
from monitor.queries.search import SearchError, SearchFilters, parse_query, search, split_marks
from spiders.records import AnswerRecord
from storage.db import alembic_config, create_db_engine, open_database
from storage.models import QuestionCurrent, Version
from storage.record import record_page

TODAY = date(2024, 2, 1)
HOME = "Home Office"


def _q(uin: str, **fields: object) -> AnswerRecord:
    defaults: dict[str, object] = {
        "house": "Commons",
        "uin": uin,
        "date_tabled": date(2024, 1, 5),
        "question_text": "",
        "answer_text": "",
        "answering_body": HOME,
    }
    return AnswerRecord(**{**defaults, **fields})  # type: ignore[arg-type]


Q1 = _q(
    "7926",
    heading="Surveillance: Hikvision",
    question_text="To ask the Secretary of State for the Home Department, how many Hikvision cameras"
    " are in use.",
    answer_text="Knife crime fell by 4 per cent, and Hikvision cameras were removed.",
    asking_member="Jim Shannon",
    answering_member="Chris Philp",
    date_answered=date(2024, 1, 10),
)
Q1_LATER = replace(Q1, answer_text="Knife crime figures are under review; Hikvision cameras were removed.")
Q2 = _q(
    "7927",
    heading="Asylum: Hotels",
    question_text="To ask the Secretary of State for the Home Department, how many asylum seekers are"
    " in hotels.",
    answer_text="Asylum seekers are housed in 200 hotels and two former barracks.",
    asking_member="Caroline Lucas",
    answering_member="Chris Philp",
    date_answered=date(2024, 1, 11),
)
Q3 = _q(
    "HL500",
    house="Lords",
    date_tabled=date(2024, 1, 8),
    heading="Dental Services",
    question_text="To ask His Majesty's Government what access to NHS dentistry people living in"
    " hotels have.",
    answer_text="Crime involving a knife is not recorded by NHS dental services in Sinn Féin's view.",
    asking_member="Baroness Cox",
    answering_member="Lord Markham",
    answering_body="Department of Health and Social Care",
    date_answered=date(2024, 1, 15),
)
Q4 = _q(
    "8000",
    date_tabled=date(2024, 1, 8),
    heading="Police: Recruitment",
    question_text="To ask the Secretary of State for the Home Department, how many police officers"
    " guard asylum hotels.",
    asking_member="Jim Shannon",
    date_for_answer=date(2024, 1, 12),
)
Q5 = _q(
    "HL501",
    house="Lords",
    date_tabled=date(2024, 1, 9),
    heading="Prisons",
    question_text="To ask His Majesty's Government what steps they are taking on prison overcrowding.",
    asking_member="Baroness Sheehan",
    answering_body="Ministry of Justice",
    is_withdrawn=True,
)


def _store(sessions: sessionmaker[Session], answer: AnswerRecord, number: int, seen: datetime) -> None:
    with sessions.begin() as session:
        record_page(
            session,
            source_kind="api",
            url=f"https://api.example/{number}",
            answers=[answer],
            observed_at=seen,
        )


def _load(sessions: sessionmaker[Session], detected: bool = True) -> None:
    for number, answer in enumerate((Q1, Q2, Q3, Q4, Q5), start=1):
        _store(sessions, answer, number, datetime(2024, 1, 20, 9, number))
    _store(sessions, Q1_LATER, 1, datetime(2024, 1, 25, 9, 0))
    if detected:
        with sessions.begin() as session:
            detect_changes(session, now=datetime(2024, 1, 25, 10, 0))


def _uins(sessions: sessionmaker[Session], query: str, filters: SearchFilters | None = None) -> list[str]:
    with sessions() as session:
        return sorted(hit.uin for hit in search(session, query, filters, today=TODAY).hits)


@pytest.fixture
def corpus(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    _load(sessions)
    return sessions


def test_words_phrases_or_and_exclusion_mean_the_same_on_both_engines(corpus: sessionmaker[Session]) -> None:
    assert _uins(corpus, "hotels") == ["7927", "8000", "HL500"]
    assert _uins(corpus, "HOTEL") == ["7927", "8000", "HL500"]  # any case, stemmed
    assert _uins(corpus, "knife crime") == ["7926", "HL500"]
    assert _uins(corpus, '"knife crime"') == ["7926"]  # HL500 says "crime involving a knife"
    assert _uins(corpus, "Hikvision OR barracks") == ["7926", "7927"]
    # OR binds tighter than the words around it: asylum and (hotels or overcrowding).
    assert _uins(corpus, "asylum hotels OR overcrowding") == ["7927", "8000"]
    assert _uins(corpus, "hotels -barracks") == ["8000", "HL500"]
    assert _uins(corpus, 'hotels -"former barracks" -police') == ["HL500"]
    assert _uins(corpus, "Féin") == ["HL500"]
    assert _uins(corpus, "nowhere") == []


def test_a_past_versions_text_is_found_as_ever_said_and_current_only_leaves_it_out(
    corpus: sessionmaker[Session],
) -> None:
    with corpus() as session:
        past = search(session, '"fell by 4 per cent"')
        now = search(session, '"under review"')
    assert [(hit.uin, hit.current) for hit in past.hits] == [("7926", False)]
    assert past.hits[0].observed_at == datetime(2024, 1, 20, 9, 1)  # when that text was stored
    assert "fell" in {text.lower() for text, matched in past.hits[0].snippet if matched} | {
        word.lower() for text, matched in past.hits[0].snippet if matched for word in text.split()
    }
    assert [(hit.uin, hit.current) for hit in now.hits] == [("7926", True)]
    assert _uins(corpus, '"fell by 4 per cent"', SearchFilters(current_only=True)) == []
    assert _uins(corpus, "hikvision", SearchFilters(current_only=True)) == ["7926"]
    with corpus() as session:  # said before and now: the hit quotes the current text
        both = search(session, "knife")
    assert {hit.uin: hit.current for hit in both.hits} == {"7926": True, "HL500": True}
    quoted = "".join(text for text, _ in next(h for h in both.hits if h.uin == "7926").snippet)
    assert "under review" in quoted


def test_hits_are_ranked_paged_and_counted(corpus: sessionmaker[Session]) -> None:
    with corpus() as session:
        first = search(session, "hotels", limit=1)
        second = search(session, "hotels", limit=1, offset=1)
        beyond = search(session, "hotels", limit=5, offset=3)
    # Hotels in its heading, question and answer: the best match on both engines.
    assert [hit.uin for hit in first.hits] == ["7927"] and first.total == 3 and first.more
    assert len(second.hits) == 1 and second.hits[0].uin != "7927"
    assert beyond.hits == () and beyond.total == 3 and not beyond.more
    hit = first.hits[0]
    assert (hit.house, hit.heading, hit.answering_body, hit.asking_member) == (
        "Commons",
        "Asylum: Hotels",
        HOME,
        "Caroline Lucas",
    )
    assert any(matched and text.lower().startswith("hotel") for text, matched in hit.snippet)
    assert hit.as_json()["matched"] == "current"


@pytest.mark.parametrize("state", ["detected", "not-yet-detected", "rows-missing"])
def test_filters_narrow_by_house_department_member_status_and_dates(
    sessions: sessionmaker[Session], state: str
) -> None:
    _load(sessions, detected=state != "not-yet-detected")
    if state == "rows-missing":  # detected, then the derived rows lost: read from the versions
        with sessions.begin() as session:
            session.execute(delete(QuestionCurrent).where(QuestionCurrent.question_id.in_([1, 4, 5])))
    wide = "hotels OR overcrowding OR hikvision"
    assert _uins(sessions, wide) == ["7926", "7927", "8000", "HL500", "HL501"]
    cases: list[tuple[SearchFilters, list[str]]] = [
        (SearchFilters(house="Lords"), ["HL500", "HL501"]),
        (SearchFilters(department="home OFFICE"), ["7926", "7927", "8000"]),
        (SearchFilters(department="justice"), ["HL501"]),
        (SearchFilters(member="shannon"), ["7926", "8000"]),  # asked
        (SearchFilters(member="Chris Philp"), ["7926", "7927"]),  # answered
        (SearchFilters(member="Philp Chris"), []),  # a name is a phrase
        (SearchFilters(status=Lifecycle.ANSWERED), ["7926", "7927", "HL500"]),
        (SearchFilters(status=Lifecycle.OVERDUE), ["8000"]),
        (SearchFilters(status=Lifecycle.WITHDRAWN), ["HL501"]),
        (SearchFilters(status=Lifecycle.HOLDING), []),
        (SearchFilters(tabled_from=date(2024, 1, 8)), ["8000", "HL500", "HL501"]),
        (SearchFilters(tabled_to=date(2024, 1, 5)), ["7926", "7927"]),
        (SearchFilters(answered_from=date(2024, 1, 11)), ["7927", "HL500"]),
        (SearchFilters(answered_to=date(2024, 1, 10)), ["7926"]),
        (
            SearchFilters(house="Commons", department="home", member="shannon", status=Lifecycle.OVERDUE),
            ["8000"],
        ),
    ]
    for filters, expected in cases:
        assert _uins(sessions, wide, filters) == expected, filters
    with sessions() as session:
        counted = search(session, wide, SearchFilters(house="Commons"), limit=1, today=TODAY)
    assert counted.total == 3 and len(counted.hits) == 1


def test_a_search_matching_more_than_it_ranks_says_so(
    corpus: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.queries.search as module

    monkeypatch.setattr(module, "RANK_LIMIT", 2)
    with corpus() as session:
        capped = search(session, "hotels")
        narrow = search(session, "hotels", SearchFilters(house="Lords"))
    assert not capped.complete and capped.total == 3  # the newest 3 documents: 2 and one more
    assert narrow.complete and [hit.uin for hit in narrow.hits] == ["HL500"]


def test_bad_filters_and_pages_are_refused_with_a_reason(corpus: sessionmaker[Session]) -> None:
    with pytest.raises(SearchError, match="not Commons or Lords"):
        SearchFilters(house="Senate")
    with pytest.raises(SearchError, match="wrong way round"):
        SearchFilters(tabled_from=date(2024, 2, 1), tabled_to=date(2024, 1, 1))
    with corpus() as session, pytest.raises(SearchError, match="a page holds"):
        search(session, "hotels", limit=0)


HOSTILE = [
    '"',
    '""',
    '"hotels',
    "hotels\"'",
    "NEAR(hotels barracks",
    "NEAR(",
    "hot*",
    "*hotels*",
    "'; DROP TABLE versions; --",
    "hotels AND OR NOT",
    "{heading}: hotels",
    "heading:hotels",
    "^hotels",
    "hotels) OR (barracks",
    "hotels & !barracks | <->",
    "-",
    "--hotels",
    "OR OR hotels OR",
    "日本語 の 質問",
    "Ünïcödé ＦＵＬＬＷＩＤＴＨ",
    "hotels\x00barracks",
    "x" * 400,
    "a " * 20,
]


@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_input_is_never_a_syntax_error(corpus: sessionmaker[Session], typed: str) -> None:
    with corpus() as session:
        try:
            results = search(session, typed)
        except SearchError as error:
            assert str(error)  # nothing to look for: a reason, not an SQL error
        else:
            assert results.total == len(results.hits) <= 5
        assert session.scalar(select(func.count()).select_from(Version)) == 6


def test_the_parser_reads_terms_as_letters_and_digits_only() -> None:
    assert parse_query('hot* NEAR( "knife  crime" OR -barracks').text() == 'hot near "knife crime" -barracks'
    assert parse_query("flexi-job 'quotes'").text() == '"flexi job" quotes'
    assert parse_query("-x hotels OR").text() == "hotels -x"
    for nothing in ("", "   ", "*", '"" OR', "- -"):
        with pytest.raises(SearchError, match="say what to look for"):
            parse_query(nothing)
    with pytest.raises(SearchError, match="as well as what to leave out"):
        parse_query("-barracks")
    with pytest.raises(SearchError, match="too long"):
        parse_query("x" * 501)
    with pytest.raises(SearchError, match="too many terms"):
        parse_query(" ".join(f"w{n}" for n in range(25)))


def test_a_snippet_splits_into_pieces_at_its_marks_only() -> None:
    assert split_marks("a \ue000b\ue001 c") == (("a ", False), ("b", True), (" c", False))
    assert split_marks("<script>\ue000x") == (("<script>x", False),)  # a stray mark is dropped


def test_a_version_that_says_nothing_new_adds_no_document(sessions: sessionmaker[Session]) -> None:
    _store(sessions, Q2, 1, datetime(2024, 1, 20))
    _store(sessions, replace(Q2, date_answered=date(2024, 1, 12)), 1, datetime(2024, 1, 21))  # a date moved
    _store(sessions, replace(Q2, answer_text="Housed in 150 hotels."), 1, datetime(2024, 1, 22))
    _store(sessions, replace(Q2, answer_text="Housed in 150 hotels."), 2, datetime(2024, 1, 22))
    with sessions() as session:
        rows = session.execute(
            text("SELECT version_id, source_id, is_current FROM search_documents ORDER BY version_id")
        ).all()
        versions = session.scalar(select(func.count()).select_from(Version))
    assert versions == 4
    assert [(source, bool(current)) for _, source, current in rows] == [(1, False), (1, True), (2, True)]


def test_the_upgrade_indexes_the_versions_stored_before_it(db_url: str) -> None:
    engine = create_db_engine(db_url)
    command.upgrade(alembic_config(engine), "0012")
    before = sessionmaker(engine)
    _load(before, detected=False)
    engine.dispose()
    sessions = open_database(db_url)  # to the head: the backfill
    try:
        assert _uins(sessions, "hotels") == ["7927", "8000", "HL500"]
        with sessions() as session:
            past = search(session, '"fell by 4 per cent"')
            current = search(session, "hikvision", SearchFilters(current_only=True))
        assert [(hit.uin, hit.current) for hit in past.hits] == [("7926", False)]
        assert [hit.uin for hit in current.hits] == ["7926"]
        _store(sessions, replace(Q2, answer_text="Now 150 hotels."), 2, datetime(2024, 1, 26))  # the trigger
        with sessions() as session:
            assert [(h.uin, h.current) for h in search(session, "barracks").hits] == [("7927", False)]
    finally:
        sessions.kw["bind"].dispose()
