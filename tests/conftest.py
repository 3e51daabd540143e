"""Shared fixtures: a database on each engine (SQLite always, PostgreSQL where
PQWATCH_TEST_PG_URL is set, as CI sets it), and the saved-page folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.demo.site import LocalSite
from tests.support.helpers import P1, site_pages

PG_URL = os.environ.get("PQWATCH_TEST_PG_URL")
ENGINES = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _pg_schema_url(schema: str) -> str:
    url = make_url(PG_URL or "")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # Every test gets a schema of its own, which subprocesses reach through the same URL.
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pqwatch.sqlite3'}"
        return
    yield from _pg_schema()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, for what only PostgreSQL has (advisory locks, killed backends):
    such a test fails, never skips, without PQWATCH_TEST_PG_URL."""
    if not PG_URL:
        pytest.fail("this test needs PostgreSQL: set PQWATCH_TEST_PG_URL (CI does)")
    yield from _pg_schema()


def _pg_schema() -> Iterator[str]:
    """Make a fresh schema, yield its URL, drop it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_schema_url("public"))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def sessions(db_url: str):  # type: ignore[no-untyped-def]
    """A session factory on a migrated empty database."""
    from storage.db import open_database

    factory = open_database(db_url)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def site():
    """A running local blog of three posts on two listing pages, with a feed."""
    with LocalSite() as running:
        running.replace(site_pages(running.url), redirects={"/?p=25324": P1})
        yield running


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off for hundredths of a second in tests, not seconds."""
    monkeypatch.setenv("PQWATCH_RETRY_BASE_DELAY", "0.01")


@pytest.fixture(autouse=True)
def private_addresses_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crawls may reach 127.0.0.1 in tests (crawl subprocesses inherit it); the guard's tests undo it."""
    monkeypatch.setenv("PQWATCH_ALLOW_PRIVATE_ADDRESSES", "1")
