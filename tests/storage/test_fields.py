"""An answer's fields are named in several places (the parsed record, storage's protocol, the
content-hash list, the versions table, the migrations); these tests tie them together, so a field
added to one and not the others fails here."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import inspect

from spiders.records import AnswerRecord
from storage.db import create_db_engine, upgrade
from storage.models import Version
from storage.record import CONTENT_FIELDS, AnswerFields

# What identifies the question an answer belongs to: columns of `questions`, never content.
IDENTITY_FIELDS = ("house", "uin", "date_tabled", "api_id")
RECORD_FIELDS = [field.name for field in fields(AnswerRecord)]


def test_the_content_fields_are_every_field_of_a_parsed_answer_but_its_identity():
    # A set: the content hash sorts its keys and versions are built by name, so order is free.
    assert len(set(CONTENT_FIELDS)) == len(CONTENT_FIELDS)
    assert set(CONTENT_FIELDS) == set(RECORD_FIELDS) - set(IDENTITY_FIELDS)
    assert set(IDENTITY_FIELDS) <= set(RECORD_FIELDS)


def test_storage_asks_of_an_answer_exactly_the_fields_a_parsed_answer_has():
    protocol = {name for name, member in vars(AnswerFields).items() if isinstance(member, property)}
    assert protocol == set(RECORD_FIELDS)


def test_every_content_field_is_a_column_of_a_version_and_no_identity_field_is():
    columns = set(Version.__table__.columns.keys())
    assert set(CONTENT_FIELDS) <= columns
    assert not set(IDENTITY_FIELDS) & columns  # identity lives on the question, not the version


def test_the_migrations_give_the_versions_table_every_content_field(db_url):
    engine = create_db_engine(db_url)
    upgrade(engine)
    columns = {column["name"] for column in inspect(engine).get_columns("versions")}
    engine.dispose()
    assert set(CONTENT_FIELDS) <= columns
    assert columns == set(Version.__table__.columns.keys())
