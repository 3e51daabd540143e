"""Parse the written statements endpoints of the Written Questions API into typed records, keeping
of each statement only its CorrectedAnswer links. Pure: JSON in, records out.

What `linkedStatementId` names when `linkType` is CorrectedAnswer is not documented. The API's own
OpenAPI description (its swagger.json, as copied into APIs.guru's openapi-directory: repository
paragonsean/openapi-directory, APIs/parliament.uk/writtenquestions/v1, schema `LinkedStatements`)
gives `linkedStatementId` (int32), `linkType` (StatementLinkTypeEnum: CorrectedStatement,
CorrectedAnswer, JointStatement) and `linkDate`, with no description of any of them; no public
client, issue thread or MCP server found (i-dot-ai/parliament-mcp and the openapi-directory
clients among them) reads the links at all. So it stays unverified, and pqwatch reads it, for a
CorrectedAnswer link, as the corrected written question's API id (the `id` of
/api/writtenquestions/questions/{id}): the reading its type and the link's purpose suggest.
Storage keeps the number as given (`StatementLink.linked_id`) and the join
(monitor.changes.corrections) matches it to `Question.api_id`, so under another reading a link
simply never joins; nothing wrong is stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from spiders.normalise import normalise_body_name, normalise_inline
from spiders.sources.api.parse import ApiRecordError, load_json
from spiders.sources.statements.records import CorrectionLink, Statement, StatementPage
from storage.terms import EARLIEST_DATE, House, canonical_uin

__all__ = [
    "CORRECTED_ANSWER",
    "ApiRecordError",
    "load_json",
    "parse_detail",
    "parse_list_page",
    "parse_statement",
    "statement_page_url",
]

# The link type that ties a statement to the written answer it corrects.
CORRECTED_ANSWER = "CorrectedAnswer"
PAGE_ROOT = "https://questions-statements.parliament.uk/written-statements/detail"
REQUIRED = ("id", "uin", "house")


def statement_page_url(date_made: date | None, uin: str) -> str:
    """The statement's page on questions-statements.parliament.uk (by date made and UIN)."""
    if date_made is None:
        return f"{PAGE_ROOT}/{uin}"  # no date: the site's page cannot be named exactly
    return f"{PAGE_ROOT}/{date_made.isoformat()}/{uin}"


def parse_list_page(payload: dict[str, Any], today: date) -> StatementPage:
    """Read a list page: the total count and each readable statement (a broken one is a problem)."""
    total = payload.get("totalResults")
    results = payload.get("results")
    if not isinstance(total, int) or not isinstance(results, list):
        raise ApiRecordError("list response lacks totalResults or results")
    statements, problems = [], []
    for entry in results:
        value = entry.get("value") if isinstance(entry, dict) else None
        try:
            statements.append(parse_statement(value, today))
        except ApiRecordError as error:
            problems.append(str(error))
    return StatementPage(total, tuple(statements), tuple(problems))


def parse_detail(payload: dict[str, Any], today: date) -> Statement:
    """Read one statement's detail response.

    Why three shapes: the spec says /statements/{id} answers a search result (`{"results":
    [{"value": ...}]}`), the questions API's detail answers `{"value": ...}`; a bare record is read too."""
    value: Any = payload.get("value", payload)
    results = payload.get("results")
    if "value" not in payload and isinstance(results, list):
        if len(results) != 1 or not isinstance(results[0], dict):
            raise ApiRecordError(f"detail response holds {len(results)} statements, not one")
        value = results[0].get("value")
    return parse_statement(value, today)


def parse_statement(value: Any, today: date) -> Statement:
    """Read one StatementsViewModel: its identity, and a CorrectionLink per CorrectedAnswer link."""
    if not isinstance(value, dict):
        raise ApiRecordError("statement is not an object")
    missing = [name for name in REQUIRED if value.get(name) in (None, "")]
    if missing:
        raise ApiRecordError(f"statement {value.get('id', '?')} lacks {', '.join(missing)}")
    statement_id = _whole(value["id"], f"statement {value['id']!r}: id")
    uin = canonical_uin(value["uin"])
    house = _house(value)
    made = _date(value.get("dateMade"), f"statement {statement_id}: dateMade", today)
    listed = value.get("linkedStatements")
    links = listed if isinstance(listed, list) else []
    corrections = tuple(
        CorrectionLink(
            statement_id=statement_id,
            statement_uin=uin,
            house=house,
            date_made=made,
            title=normalise_inline(value.get("title")) or None,
            answering_body=normalise_body_name(value.get("answeringBodyName")),
            url=statement_page_url(made, uin),
            link_type=CORRECTED_ANSWER,
            linked_id=_whole(link.get("linkedStatementId"), f"statement {statement_id}: linkedStatementId"),
            link_date=_date(link.get("linkDate"), f"statement {statement_id}: linkDate", today),
        )
        for link in links
        if isinstance(link, dict) and link.get("linkType") == CORRECTED_ANSWER
    )
    return Statement(
        statement_id=statement_id,
        uin=uin,
        house=house,
        date_made=made,
        has_linked_statements=bool(value.get("hasLinkedStatements")) or bool(links),
        links_listed=bool(links),
        corrections=tuple(dict.fromkeys(corrections)),  # the same link twice is one link
    )


def _house(value: dict[str, Any]) -> House:
    try:
        return House(str(value["house"]))
    except ValueError:
        raise ApiRecordError(f"statement {value['id']}: unknown house {value['house']!r}") from None


def _whole(raw: Any, what: str) -> int:
    """A positive API id (an int, or its digits)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit() or int(raw) < 1:
        raise ApiRecordError(f"{what} {raw!r} is not an API id")
    return int(raw)


def _date(raw: Any, what: str, today: date) -> date | None:
    """The date of an API date-time (`2024-02-05T00:00:00`); None when absent."""
    if raw in (None, ""):
        return None
    try:
        parsed = date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise ApiRecordError(f"{what} {raw!r} is not a date") from None
    # A date before Parliament's record begins, or more than a year ahead, is a broken record.
    if not EARLIEST_DATE <= parsed <= date(today.year + 1, today.month, min(today.day, 28)):
        raise ApiRecordError(f"{what} {raw!r} is outside any sane range")
    return parsed
