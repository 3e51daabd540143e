"""The OpenAPI document: valid OpenAPI 3.1, naming every route of the API and the feeds and the
contract's fields exactly; and the live app, on each engine with data in it, checked against it
by schemathesis (schema-conforming requests must succeed, others must be refused with a 4xx, and
every response must match its documented status, headers and schema)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
from schemathesis.specs.openapi.definitions import OPENAPI_31
from sqlalchemy.orm import Session, sessionmaker

from monitor.queries.views import CONTENT_NAMES
from monitor.web.app import create_app
from monitor.web.filtering import YES
from monitor.web.openapi import CONTENT, SCHEMAS, openapi_document
from tests.support.feeds_api import BASE_URL, Api, request, running_api
from tests.support.web import WEB_SECRET


@pytest.fixture
def site(db_url: str, sessions: sessionmaker[Session]) -> Iterator[Api]:
    """The app over the populated database (tests.support.feeds_api), served on 127.0.0.1."""
    with running_api(db_url, sessions) as running:
        yield running


def test_the_document_is_valid_openapi_3_1(site: Api) -> None:
    reply = site.get("/api/v1/openapi.json")
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    document = reply.json()
    assert document == openapi_document(BASE_URL)
    jsonschema_rs.validator_for(OPENAPI_31).validate(document)
    schemathesis.openapi.from_dict(document).validate()
    meta = jsonschema_rs.Draft202012Validator({"$ref": "https://json-schema.org/draft/2020-12/schema"})
    for name, component in SCHEMAS.items():
        assert meta.is_valid(component), name  # each a valid JSON Schema of its own


@pytest.mark.parametrize(
    ("path", "component"),
    [
        ("/api/v1/questions", "QuestionPage"),
        ("/api/v1/questions?house=Commons&limit=1", "QuestionPage"),
        ("/api/v1/questions/Lords/HL2472", "QuestionDetailPage"),
        ("/api/v1/changes", "ChangePage"),
        ("/api/v1/changes?since=2&kind=answer_text_changed", "ChangePage"),
        ("/api/v1/changes?limit=0", "Problem"),
        ("/api/v1/questions/Lords/HL1", "Problem"),
    ],
)
def test_responses_with_data_match_their_schemas(site: Api, path: str, component: str) -> None:
    body = site.get(path).json()
    validator = jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{component}", "components": {"schemas": SCHEMAS}}
    )
    errors = [str(error) for error in validator.iter_errors(body)]
    assert errors == []
    if component != "Problem":
        assert body["items"]


def test_every_route_of_the_api_and_the_feeds_is_documented(site: Api) -> None:
    app = create_app(site.sessions, WEB_SECRET, BASE_URL)
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/feeds/"))
    }
    assert routes == set(openapi_document(BASE_URL)["paths"])


def test_the_documented_fields_are_the_contracts(site: Api) -> None:
    assert list(CONTENT) == list(CONTENT_NAMES)
    question = site.get("/api/v1/questions").json()["items"][0]
    assert SCHEMAS["Question"]["required"] == list(question)
    detail = site.get("/api/v1/questions/Commons/7926").json()["items"][0]
    assert SCHEMAS["QuestionDetail"]["required"] == list(detail)
    assert SCHEMAS["Version"]["required"] == list(detail["versions"][0])
    change = site.get("/api/v1/changes").json()["items"][0]
    assert SCHEMAS["Change"]["required"] == list(change)


# The document the app serves (test_the_document_is_valid_openapi_3_1 checks they are equal),
# loaded when the module is: schemathesis' lazy loader (from_fixture) fails on pytest 9 (it sets
# `Function._nodeid`, which pytest 9 no longer has), and the document needs no database.
schema = schemathesis.openapi.from_dict(openapi_document(BASE_URL))


@schema.parametrize()
@hypothesis.settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_the_live_app_meets_its_document(case: Any, site: Api) -> None:
    query = case.query or {}
    thread = query.get("thread")
    if case.method == "GET" and thread in YES and not str(query.get("uin") or "").strip():
        # The one rule OpenAPI cannot state (monitor.web.openapi): a thread needs a UIN.
        response = case.call(base_url=site.url)
        assert response.status_code == 400
        return
    case.call_and_validate(base_url=site.url)


def test_the_document_is_served_to_any_origin(site: Api) -> None:
    reply = request(site.url + "/api/v1/openapi.json", headers={"Origin": "https://tools.example"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.json()["servers"] == [{"url": BASE_URL}]
