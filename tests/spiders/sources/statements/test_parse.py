"""The statements parser: of each written statement only its CorrectedAnswer links are kept, read
from saved API records; broken records are problems, not crashes."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from spiders.sources.statements.parse import (
    ApiRecordError,
    parse_detail,
    parse_list_page,
    parse_statement,
    statement_page_url,
)
from spiders.sources.statements.records import CorrectionLink
from tests.support.helpers import FIXTURES

TODAY = date(2024, 2, 6)
LIST = json.loads((FIXTURES / "statements/list-2024-02-05.json").read_text())
DETAIL = json.loads((FIXTURES / "statements/detail-1700101.json").read_text())
HCWS245 = CorrectionLink(
    statement_id=1700101,
    statement_uin="HCWS245",
    house="Commons",
    date_made=date(2024, 2, 5),
    title="Correction to a Written Answer: Flexi-job Apprenticeships",
    answering_body="Department for Education",
    url="https://questions-statements.parliament.uk/written-statements/detail/2024-02-05/HCWS245",
    link_type="CorrectedAnswer",
    linked_id=1679416,
    link_date=date(2024, 2, 5),
)


def test_a_list_page_keeps_only_the_links_that_correct_an_answer():
    page = parse_list_page(LIST, TODAY)
    assert page.total == 3 and page.problems == ()
    assert [s.uin for s in page.statements] == ["HCWS245", "HLWS210", "HCWS246"]
    assert [s.corrections for s in page.statements] == [(HCWS245,), (), ()]
    # HLWS210 corrects a statement and is joint: linked, but to no answer.
    assert [(s.has_linked_statements, s.links_listed) for s in page.statements] == [
        (True, True),
        (True, True),
        (False, False),
    ]


def test_the_detail_endpoint_reads_alike_in_each_shape_it_may_answer():
    value = DETAIL["value"]
    for payload in (DETAIL, {"totalResults": 1, "results": [DETAIL]}, value):
        statement = parse_detail(payload, TODAY)
        assert statement.corrections == (HCWS245,)
    with pytest.raises(ApiRecordError, match="holds 2 statements"):
        parse_detail({"totalResults": 2, "results": [DETAIL, DETAIL]}, TODAY)


def test_a_list_entry_that_hides_its_links_says_it_has_them():
    hidden = copy.deepcopy(LIST["results"][0]["value"]) | {"linkedStatements": None}
    statement = parse_statement(hidden, TODAY)
    assert statement.has_linked_statements and not statement.links_listed and statement.corrections == ()


def test_the_same_link_twice_is_one_link():
    twice = copy.deepcopy(DETAIL["value"])
    twice["linkedStatements"] *= 2
    assert parse_statement(twice, TODAY).corrections == (HCWS245,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uin": None}, "lacks uin"),
        ({"house": "Bicameral"}, "unknown house"),
        ({"dateMade": "5 February 2024"}, "is not a date"),
        ({"dateMade": "1666-09-02T00:00:00"}, "outside any sane range"),
        ({"id": "HCWS245"}, "is not an API id"),
        ({"linkedStatements": [{"linkType": "CorrectedAnswer", "linkedStatementId": None}]}, "not an API id"),
    ],
)
def test_a_broken_record_is_one_problem_and_the_rest_of_the_page_is_read(change, message):
    broken = copy.deepcopy(LIST)
    broken["results"][0]["value"].update(change)
    page = parse_list_page(broken, TODAY)
    assert [s.uin for s in page.statements] == ["HLWS210", "HCWS246"]
    [problem] = page.problems
    assert message in problem


def test_a_list_response_without_its_fields_is_an_error():
    with pytest.raises(ApiRecordError, match="totalResults or results"):
        parse_list_page({"items": []}, TODAY)


def test_the_statement_page_is_named_by_date_made_and_uin():
    assert statement_page_url(date(2024, 2, 5), "HLWS210") == (
        "https://questions-statements.parliament.uk/written-statements/detail/2024-02-05/HLWS210"
    )
