"""The OpenAPI 3.1 document of the JSON API and the feeds, served at /api/v1/openapi.json.

Written by hand, from the same closed sets (storage.terms) and limits (monitor.web.filtering,
monitor.web.api) the code reads, and as strict as the code: every object lists all its fields as
required and allows no others, and every parameter's schema admits exactly what the app accepts
(anything else is a 400), so a schema-driven tester (schemathesis, in the tests) finds a response
that drifts from the contract or an input the app mishandles. One rule it cannot state: `thread`
needs a non-blank `uin` (OpenAPI has no dependency between query parameters)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from monitor.changes.lifecycle import Lifecycle
from monitor.changes.nonanswers import RULES_BY_NAME
from monitor.web import api, feeds
from monitor.web.base import ctx, web
from monitor.web.filtering import CURSOR_MAX, NO, TEXT_LIMIT, YES
from storage.terms import ChangeKind, HoldState, House, SourceKind, VersionStatus

Schema = dict[str, Any]

# Each House's name in any case: "commons", "Lords" and "LORDS" all name one.
HOUSE_PATTERN = "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in house.value) for house in House)
UIN_PATTERN = "^[A-Za-z0-9]{1,20}$"  # a UIN is letters and digits ("HL2472", "7926")
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], description: str) -> Schema:
    """An object with exactly these properties, every one required."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


TEXT: Schema = {"type": "string"}
DATE: Schema = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
MINUTE: Schema = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$"}
UTC_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
}
ID: Schema = {"type": "integer", "minimum": 1}
HOUSE: Schema = {"enum": [house.value for house in House]}
URL: Schema = {"type": "string", "format": "uri"}

# The fields of monitor.queries.views.AnswerContent (CONTENT_NAMES), in the contract's order.
CONTENT: dict[str, Schema] = {
    "asking_member": _null(TEXT),
    "answering_member": _null(TEXT),
    "answering_body": _null(TEXT),
    "heading": _null(TEXT),
    "question_text": _null(TEXT),
    "answer_text": _null(TEXT),
    "date_answered": _null(DATE),
    "answered_at": _null({**MINUTE, "description": "Europe/London wall time, as the answer states it"}),
    "is_holding": {"type": "boolean"},
    "date_holding_answer": _null(DATE),
    "is_correction": {"type": "boolean"},
    "date_corrected": _null(DATE),
    "is_withdrawn": {"type": "boolean"},
    "grouped_with": {"type": "array", "items": TEXT, "description": "UINs answered together with it"},
    "correcting_member": _null(TEXT),
    "original_answer_text": _null(TEXT),
    "attachments": _null({"type": "array", "items": _ref("Attachment")}),
    "date_for_answer": _null(DATE),
    "is_named_day": _null({"type": "boolean"}),
    "member_has_interest": _null({"type": "boolean"}),
    "comparable_answer_text": _null(TEXT),
}

# QuestionView.life_json: where the question stands as of the server's date.
LIFE: dict[str, Schema] = {
    "due_date": _null(DATE),
    "answered_on_time": _null({"type": "boolean"}),
    "working_days_to_answer": _null({"type": "integer"}),
    "status": {"enum": [status.value for status in Lifecycle]},
    "non_answer": _null({"enum": sorted(RULES_BY_NAME)}),
}

THREAD: Schema = {"type": "array", "items": _ref("ThreadLink")}


def _question(thread: Schema, extra: dict[str, Schema], description: str) -> Schema:
    return _object(
        {
            "house": HOUSE,
            "uin": TEXT,
            "date_tabled": _null(DATE),
            "api_id": _null({"type": "integer"}),
            **CONTENT,
            **LIFE,
            "sources": {"type": "array", "items": _ref("Source"), "description": "best first"},
            "version_count": {"type": "integer", "minimum": 0},
            "removed": {"type": "boolean", "description": "every source has gone"},
            "question_id": ID,
            "follows": thread,
            "followed_by": thread,
            "unmatched": {"const": False},
            "unmatched_reason": {"type": "null"},
            "page_url": URL,
            **extra,
        },
        description,
    )


def _page(item: str, cursor: Schema, description: str) -> Schema:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": cursor,
            "has_more": {"type": "boolean", "description": "whether ids past next_cursor are stored"},
        },
        description,
    )


SCHEMAS: dict[str, Schema] = {
    "Source": _object({"kind": {"enum": [kind.value for kind in SourceKind]}, "url": TEXT}, "A source."),
    "Attachment": _object(
        {
            "title": _null(TEXT),
            "url": _null(TEXT),
            "file_type": _null(TEXT),
            "size_bytes": _null({"type": "integer"}),
        },
        "A file published with an answer.",
    ),
    "ThreadLink": _object(
        {"uin": TEXT, "date_tabled": _null(DATE)},
        "A question in the thread; date_tabled is null when that question is not stored.",
    ),
    "Question": _question(
        _null(THREAD),
        {},
        "A question's current view, as `pqwatch export --format json` prints it "
        "(follows and followed_by are null in lists: read the question's own URL for its thread).",
    ),
    "QuestionDetail": _question(
        THREAD,
        {"versions": {"type": "array", "items": _ref("Version"), "description": "oldest first"}},
        "A question's current view with its thread, and every version of it from every source.",
    ),
    "Version": _object(
        {
            "seq": {"type": "integer", "minimum": 1},
            "source_kind": {"enum": [kind.value for kind in SourceKind]},
            "source_url": TEXT,
            "observed_at": UTC_TIME,
            "status": {"enum": [status.value for status in VersionStatus]},
            "content_hash": TEXT,
            **CONTENT,
            "parser": _null(TEXT),
            "rebaseline": {"type": "boolean"},
        },
        "One stored version of one source's copy, as `pqwatch history --format json` prints it.",
    ),
    "Change": _object(
        {
            "id": ID,
            "question_id": ID,
            "house": HOUSE,
            "uin": TEXT,
            "date_tabled": _null(DATE),
            "kind": {"enum": [kind.value for kind in ChangeKind]},
            "field": _null(TEXT),
            "old": _null(TEXT),
            "new": _null(TEXT),
            "diff": _null(
                {
                    "type": "array",
                    "description": "a word diff: [op, text] with op = (same), - (removed), + (added)",
                    "items": {
                        "type": "array",
                        "prefixItems": [{"enum": ["=", "-", "+"]}, TEXT],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                }
            ),
            "detail": _null({"type": "object"}),
            "source_kind": {"enum": [kind.value for kind in SourceKind]},
            "source_url": TEXT,
            "detected_at": UTC_TIME,
            "hold": _null(
                _object(
                    {"id": ID, "state": {"enum": [state.value for state in HoldState]}},
                    "The mass change hold it was released from.",
                )
            ),
            "page_url": URL,
        },
        "A change event, as `pqwatch changes --format json` prints it.",
    ),
    "QuestionPage": _page(
        "Question", _null({"type": "integer", "minimum": 0}), "Questions by id; pass next_cursor as cursor."
    ),
    "QuestionDetailPage": _page(
        "QuestionDetail", {"type": "null"}, "Each stored question of the UIN, one per session."
    ),
    "ChangePage": _page(
        "Change", {"type": "integer", "minimum": 0}, "Changes oldest first; pass next_cursor as since."
    ),
    "Problem": _object(
        {
            "type": {"const": "about:blank"},
            "title": TEXT,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": TEXT,
        },
        "An error (RFC 9457 problem details); detail says what was wrong in one line.",
    ),
}


def _or_empty(schema: Schema) -> Schema:
    """A query parameter's schema that also admits "" (read as absent: a form's blank field)."""
    return {"anyOf": [schema, {"const": ""}]}


def _query(name: str, schema: Schema, description: str, **extra: Any) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        **extra,
    }


def _text_parameter(name: str, description: str, **extra: Any) -> Schema:
    schema = {"type": "string", "maxLength": TEXT_LIMIT, "pattern": "^[^\\x00]*$"}
    return _query(name, schema, description, **extra)


HOUSE_QUERY = _query(
    "house", {"type": "string", "pattern": f"^({HOUSE_PATTERN})?$"}, "Commons or Lords (any case)"
)
DEPARTMENT = _text_parameter(
    "department", "text within the answering body's name, any case", example="Home Office"
)
LIMIT = _query(
    "limit",
    _or_empty({"type": "integer", "minimum": 1, "maximum": api.MAX_LIMIT, "default": api.DEFAULT_LIMIT}),
    "items on a page at most",
)


def _cursor(name: str, description: str) -> Schema:
    return _query(name, _or_empty({"type": "integer", "minimum": 0, "maximum": CURSOR_MAX}), description)


FILTERS: list[Schema] = [
    HOUSE_QUERY,
    DEPARTMENT,
    _text_parameter("member", "text within the asking or answering member's name, any case"),
    _text_parameter("keyword", "text within the question or the answer, any case"),
    _text_parameter("uin", "one question's UIN (spaces and case ignored)"),
    _query(
        "kind",
        {"type": "array", "items": {"enum": [kind.value for kind in ChangeKind] + [""]}},
        "change kinds (repeat the parameter); empty values are ignored",
        example=["answer_text_changed", "corrected"],
        style="form",
        explode=True,
    ),
    _query("thread", {"enum": list(YES + NO)}, "with uin: that question's whole thread of follow-ups"),
]

PATH = [
    {
        "name": "house",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": f"^({HOUSE_PATTERN})$"},
        "example": "Commons",
    },
    {
        "name": "uin",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": UIN_PATTERN},
        "example": "7926",
    },
]
TABLED = _query("tabled", _or_empty(DATE), "the date it was tabled: one session's question of that UIN")

CORS_HEADER = {"Access-Control-Allow-Origin": {"required": True, "schema": {"const": "*"}}}
ETAG_HEADERS = {
    **CORS_HEADER,
    "ETag": {"required": True, "schema": {"type": "string", "pattern": '^W/"[0-9a-f]{32}"$'}},
    "Cache-Control": {"required": True, "schema": {"const": f"public, max-age={feeds.FEED_MAX_AGE}"}},
}


def _json(schema: str, description: str) -> Schema:
    return {
        "description": description,
        "headers": CORS_HEADER,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def _problem(description: str) -> Schema:
    return {
        "description": description,
        "headers": CORS_HEADER,
        "content": {api.PROBLEM_TYPE: {"schema": _ref("Problem")}},
    }


def _feed_operation(summary: str, parameters: list[Schema], not_found: bool) -> Schema:
    responses: dict[str, Schema] = {
        "200": {
            "description": "an Atom feed (RFC 4287) of the newest changes",
            "headers": ETAG_HEADERS,
            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
        },
        "304": {"description": "the feed is as the ETag in If-None-Match says", "headers": ETAG_HEADERS},
        "400": {"description": "a bad filter", "content": {"text/html": {"schema": {"type": "string"}}}},
    }
    if not_found:
        responses["404"] = {
            "description": "no such question",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    if_none_match = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
    return {
        "get": {
            "summary": summary,
            "tags": ["feeds"],
            "parameters": [*parameters, if_none_match],
            "responses": responses,
        }
    }


def openapi_document(base_url: str) -> Schema:
    """The whole document, its server the public base URL."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pqwatch",
            "version": "1",
            "description": "Answers to UK parliamentary written questions, every version of them, "
            "and their changes: read-only JSON and Atom feeds. Any origin may read them (CORS).",
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/api/v1/questions": {
                "get": {
                    "summary": "Questions' current views, by id",
                    "operationId": "listQuestions",
                    "tags": ["api"],
                    "parameters": [
                        HOUSE_QUERY,
                        DEPARTMENT,
                        _query("tabled_from", _or_empty(DATE), "tabled on or after this date"),
                        _query("tabled_to", _or_empty(DATE), "tabled on or before this date"),
                        _cursor("cursor", "the next_cursor of the previous page"),
                        LIMIT,
                    ],
                    "responses": {
                        "200": _json("QuestionPage", "a page of questions"),
                        "400": _problem("a bad parameter"),
                    },
                }
            },
            "/api/v1/questions/{house}/{uin}": {
                "get": {
                    "summary": "Each stored question of a UIN: its view, thread and versions",
                    "operationId": "getQuestion",
                    "tags": ["api"],
                    "parameters": [*PATH, TABLED],
                    "responses": {
                        "200": _json("QuestionDetailPage", "the question, or one per session"),
                        "400": _problem("a bad parameter"),
                        "404": _problem("no such question is stored"),
                    },
                }
            },
            "/api/v1/changes": {
                "get": {
                    "summary": "Change events oldest first, from a cursor",
                    "description": "Events held as a mass change are left out until an operator "
                    "releases them. A poller passes next_cursor back as since; has_more says "
                    "whether to ask again at once.",
                    "operationId": "listChanges",
                    "tags": ["api"],
                    "parameters": [
                        *FILTERS,
                        _cursor("since", "the next_cursor of the previous page (an event id); 0: the first"),
                        LIMIT,
                    ],
                    "responses": {
                        "200": _json("ChangePage", "a page of change events"),
                        "400": _problem("a bad filter, or thread without uin"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "getOpenApi",
                    "tags": ["api"],
                    "responses": {
                        "200": {
                            "description": "the OpenAPI document",
                            "headers": CORS_HEADER,
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/feeds/changes.atom": _feed_operation("The newest changes through the filters", FILTERS, False),
            "/feeds/questions/{house}/{uin}.atom": _feed_operation(
                "The newest changes to a question", [*PATH, TABLED], True
            ),
        },
        "components": {"schemas": SCHEMAS},
    }


@web.get("/api/v1/openapi.json")
def openapi_json() -> ResponseReturnValue:
    """The OpenAPI document of the API and the feeds."""
    return api.json_response(openapi_document(ctx().base_url))
