"""The storage pipeline: a page stored whole, and tried again when another process writing the
same database at the same moment made its transaction fail (on SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, func, insert, select

from spiders import pipelines
from spiders.pipelines import StoragePipeline
from spiders.records import PageFetched
from storage import record
from storage.db import create_db_engine
from storage.models import Question, Version
from storage.terms import SourceKind
from tests.support.helpers import ANSWER, URL

T0 = datetime(2026, 11, 1, 9, 0)


def _page() -> PageFetched:
    return PageFetched(
        source_kind=SourceKind.BLOG,
        url=URL,
        fetched_url=URL,
        answers=(ANSWER,),
        body=b"<html>v</html>",
        content_type="text/html",
        etag='"v1"',
        last_modified=None,
        fetched_at=T0,
    )


def test_a_page_whose_question_another_process_adds_meanwhile_is_stored_on_the_retry(db_url, monkeypatch):
    crawler = get_crawler(settings_dict={"PQWATCH_DB_URL": db_url})
    pipeline = StoragePipeline.from_crawler(crawler)
    with pipeline.sessions.begin() as session:  # the post is known, without answers till now
        record.record_page(session, source_kind="blog", url=URL, answers=[], observed_at=T0)
    other = create_db_engine(db_url)
    real_question = record._question
    calls = []

    def racing_question(session, answer, observed_at, source_date=None):
        calls.append(1)
        if len(calls) > 1:
            return real_question(session, answer, observed_at, source_date)
        # This process looked the question up and found nothing; before it adds it, another
        # process adds and commits the same question.
        with other.begin() as connection:
            connection.execute(
                insert(Question).values(
                    house="Lords", uin="HL2472", date_tabled=date(2021, 9, 7), first_seen=T0
                )
            )
        question = Question(house=answer.house, uin=answer.uin, date_tabled=answer.date_tabled, first_seen=T0)
        session.add(question)
        session.flush()  # the unique key is taken: this transaction fails
        return question

    monkeypatch.setattr(record, "_question", racing_question)
    pipeline.process_item(_page())
    assert len(calls) == 2  # the first attempt failed on the conflict, the retry found the row
    assert crawler.stats.get_value("pqwatch/errors") is None
    assert crawler.stats.get_value("pqwatch/answers_new") == 1  # counted once, not per attempt
    with other.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Question)).scalar() == 1
        assert connection.execute(select(func.count()).select_from(Version)).scalar() == 1
    other.dispose()


def test_a_database_that_keeps_refusing_is_one_counted_error_and_stops_the_crawl(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    crawler = get_crawler(settings_dict={"PQWATCH_DB_URL": db_url})
    pipeline = StoragePipeline.from_crawler(crawler)
    stopped = []
    monkeypatch.setattr(pipeline, "_stop", stopped.append)
    monkeypatch.setattr(pipelines.time, "sleep", lambda _: None)
    blocker = create_engine(db_url, connect_args={"timeout": 0})
    pipeline.sessions.kw["bind"].dispose()
    with blocker.connect() as connection:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")
        engine = create_engine(db_url, connect_args={"timeout": 0})
        pipeline.sessions.configure(bind=engine)
        pipeline.process_item(_page())
        connection.exec_driver_sql("ROLLBACK")
    assert crawler.stats.get_value("pqwatch/errors") == 1
    assert stopped == ["database_error"]


def test_the_pipeline_stores_the_parser_that_read_each_version(db_url):
    crawler = get_crawler(settings_dict={"PQWATCH_DB_URL": db_url})
    pipeline = StoragePipeline.from_crawler(crawler)
    pipeline.process_item(replace(_page(), parser="f" * 64))
    with pipeline.sessions() as session:
        assert [v.parser for v in session.scalars(select(Version))] == ["f" * 64]


def test_a_page_that_does_not_read_as_its_post_is_a_counted_extraction_failure(db_url, caplog):
    crawler = get_crawler(settings_dict={"PQWATCH_DB_URL": db_url})
    pipeline = StoragePipeline.from_crawler(crawler)
    pipeline.process_item(_page())
    lost = replace(_page(), answers=(), reads_as_post=False, doubt="no post content region on the page")
    pipeline.process_item(replace(lost, fetched_at=T0 + timedelta(days=2)))
    assert crawler.stats.get_value("pqwatch/extraction_failures") == 1
    assert crawler.stats.get_value("pqwatch/errors") == 1
    assert not crawler.stats.get_value("pqwatch/answers_removed")
    [line] = [r.getMessage() for r in caplog.records if "extraction failure" in r.getMessage()]
    assert line.startswith(URL) and "no post content region" in line and "1 answers were stored" in line
    with pipeline.sessions() as session:
        assert [v.status for v in session.scalars(select(Version))] == ["present"]


def test_while_a_removal_waits_the_page_fingerprint_is_forgotten_so_the_next_crawl_reads_it(db_url):
    crawler = get_crawler(settings_dict={"PQWATCH_DB_URL": db_url})
    pipeline = StoragePipeline.from_crawler(crawler)
    other = replace(ANSWER, uin="HL2473", answer_text="Second.")
    pipeline.process_item(replace(_page(), answers=(ANSWER, other), page_fingerprint="a" * 64))
    with pipeline.sessions() as session:
        assert record.load_page_fingerprints(session)[URL].fingerprint == "a" * 64
    pipeline.process_item(replace(_page(), page_fingerprint="b" * 64, fetched_at=T0 + timedelta(hours=1)))
    assert crawler.stats.get_value("pqwatch/answers_pending") == 1
    with pipeline.sessions() as session:
        assert URL not in record.load_page_fingerprints(session)
        assert URL not in record.load_validators(session)
