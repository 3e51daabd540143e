"""Local stand-in of the Written Questions API (questions-statements-api.parliament.uk), for tests.

It serves a mutable in-memory set of ``QuestionsViewModel`` records (data-sources.md §1.4) on the
three question endpoints, with the list endpoint's quirks: paging, date filters, withdrawn questions
hidden by default, member objects null unless ``expandMember=true``, and truncated text (question
text cut to 255 characters, answer text stripped of HTML and cut to 255 characters plus "...").
Faults and slow responses can be injected per path prefix::

    with ApiStandIn(generate_questions(250)) as api:
        api.fail("/api/writtenquestions/questions", 429, headers={"Retry-After": "1"})
        ...  # point the client at api.url

``generate_questions`` builds a deterministic, realistic data set and ``evolve`` applies one day's
official changes to it, returning a manifest of what truly changed. Member ids and names are
illustrative, not looked up in the Members API.
"""

from __future__ import annotations

import copy
import html
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from monitor.demo.server import LocalServer

Question = dict[str, Any]

QUESTIONS_PATH = "/api/writtenquestions/questions"
STATEMENTS_PATH = "/api/writtenstatements/statements"
DEFAULT_TAKE = 20
MAX_TAKE = 1000  # real clients ask for up to 1000; larger values are capped silently
LIST_TEXT_LIMIT = 255
MEMBER_FIELDS = ("askingMember", "answeringMember", "correctingMember")
JSON_TYPE = "application/json; charset=utf-8"
PROBLEM_TYPE = "application/problem+json; charset=utf-8"  # what ASP.NET Core sends for ProblemDetails
PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
}
TAG = re.compile(r"<[^>]*>")


# --- views ------------------------------------------------------------------------------------


def api_date(day: date) -> str:
    """A date as the API writes it: ``2024-01-05T00:00:00``."""
    return f"{day.isoformat()}T00:00:00"


def plain_text(answer_html: str) -> str:
    """Answer HTML as the list endpoint shows it: tags removed (no separator), entities decoded."""
    return html.unescape(TAG.sub("", answer_html))


def list_view(question: Question, expand_member: bool = False) -> Question:
    """The record as the list endpoint returns it, with truncated question and answer text."""
    view = detail_view(question, expand_member)
    if view.get("questionText"):
        view["questionText"] = view["questionText"][:LIST_TEXT_LIMIT]
    if view.get("answerText"):
        text = plain_text(view["answerText"])
        view["answerText"] = text[:LIST_TEXT_LIMIT] + "..." if len(text) > LIST_TEXT_LIMIT else text
    view["originalAnswerText"] = ""
    view["comparableAnswerText"] = ""
    return view


def detail_view(question: Question, expand_member: bool = False) -> Question:
    """The record as the detail endpoint returns it: full text; member objects only when expanded."""
    view = dict(question)
    if not expand_member:
        for name in MEMBER_FIELDS:
            view[name] = None
    return view


def item(value: Question) -> dict[str, Any]:
    """The ``{"value", "links"}`` envelope of one question."""
    return {"value": value, "links": [{"rel": "self", "href": f"/Questions/{value['id']}", "method": "GET"}]}


def problem(status: int, detail: str, instance: str) -> dict[str, Any]:
    """An ASP.NET ProblemDetails object."""
    return {
        "type": PROBLEM_TYPES.get(status, "about:blank"),
        "title": _phrase(status),
        "status": status,
        "detail": detail,
        "instance": instance,
    }


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- query parsing and filtering --------------------------------------------------------------


class BadRequest(ValueError):
    """A query or route value the API's model binding would reject (answered with 400)."""


class _Query:
    """Query parameters with case-insensitive names; the first non-empty value wins, as in ASP.NET."""

    def __init__(self, query: str) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            if value.strip():
                self._values.setdefault(name.lower(), []).append(value.strip())

    def text(self, name: str) -> str | None:
        values = self._values.get(name.lower())
        return values[0] if values else None

    def integers(self, name: str) -> list[int]:
        return [_integer(name, v) for v in self._values.get(name.lower(), [])]

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        return default if value is None else _integer(name, value)

    def boolean(self, name: str) -> bool:
        value = self.text(name)
        if value is None:
            return False
        if value.lower() not in ("true", "false"):
            raise BadRequest(f"The value '{value}' is not valid for {name}.")
        return value.lower() == "true"

    def day(self, name: str) -> str | None:
        value = self.text(name)
        return None if value is None else parse_day(value, name)

    def choice(self, name: str, options: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        for option in options:
            if option.lower() == value.lower():
                return option
        raise BadRequest(f"The value '{value}' is not valid for {name}.")


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"The value '{value}' is not valid for {name}.") from None


def parse_day(value: str, name: str = "date") -> str:
    """An ISO date (or date-time) as ``yyyy-mm-dd``; anything else is a BadRequest."""
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        raise BadRequest(f"The value '{value}' is not valid for {name}.") from None


def _within(value: str | None, low: str | None, high: str | None) -> bool:
    """Whether a date-time field falls in an inclusive date range (no range: always)."""
    if low is None and high is None:
        return True
    if not value:
        return False
    day = value[:10]
    return (low is None or day >= low) and (high is None or day <= high)


def select(questions: list[Question], query: str) -> list[Question]:
    """The questions a list request's query selects, in the given order."""
    q = _Query(query)
    house = q.choice("house", ("Bicameral", "Commons", "Lords"))
    answered = q.choice("answered", ("Any", "Answered", "Unanswered"))
    status = q.choice("questionStatus", ("NotAnswered", "AnsweredOnly", "AllQuestions"))
    if status == "NotAnswered" or answered == "Unanswered":
        wanted: bool | None = False
    elif status == "AnsweredOnly" or answered == "Answered":
        wanted = True
    else:
        wanted = None
    ranges = [
        (field, q.day(f"{prefix}WhenFrom"), q.day(f"{prefix}WhenTo"))
        for field, prefix in (
            ("dateTabled", "tabled"),
            ("dateAnswered", "answered"),
            ("dateAnswerCorrected", "corrected"),
            ("dateForAnswer", "dateForAnswer"),
        )
    ]
    include_withdrawn = q.boolean("includeWithdrawn")
    uin = (q.text("uIN") or "").upper()
    asking, answering = q.integer("askingMemberId"), q.integer("answeringMemberId")
    bodies = set(q.integers("answeringBodies"))
    term = (q.text("searchTerm") or "").lower()

    def keep(r: Question) -> bool:
        return (
            (house in (None, "Bicameral") or r["house"] == house)
            and (wanted is None or bool(r["dateAnswered"]) == wanted)
            and (include_withdrawn or not r["isWithdrawn"])
            and all(_within(r[field], low, high) for field, low, high in ranges)
            and (not uin or r["uin"].upper() == uin)
            and (asking is None or r["askingMemberId"] == asking)
            and (answering is None or r["answeringMemberId"] == answering)
            and (not bodies or r["answeringBodyId"] in bodies)
            and (
                not term
                or any(term in (r[f] or "").lower() for f in ("questionText", "answerText", "heading"))
            )
        )

    return [r for r in questions if keep(r)]


# --- the server -------------------------------------------------------------------------------


class _Snapshot:
    """One generation of the data; replaced as a whole, so a request never sees a mixture."""

    def __init__(self, questions: dict[int, Question]) -> None:
        self.questions = questions

    @cached_property
    def ordered(self) -> list[Question]:
        """All questions by dateAnswered descending (unanswered last), then id ascending."""
        by_id = sorted(self.questions.values(), key=lambda r: r["id"])
        # A reversed sort is still stable, so equal dates keep their ids ascending.
        return sorted(by_id, key=lambda r: r["dateAnswered"] or "", reverse=True)

    @cached_property
    def by_date_uin(self) -> dict[tuple[str, str], Question]:
        """Questions keyed by (tabled yyyy-mm-dd, upper-case UIN); the lowest id wins a clash."""
        index: dict[tuple[str, str], Question] = {}
        for r in sorted(self.questions.values(), key=lambda r: r["id"]):
            index.setdefault((r["dateTabled"][:10], r["uin"].upper()), r)
        return index


@dataclass
class _Rule:
    """An injected fault or delay for the next ``remaining`` requests under a path prefix."""

    prefix: str
    remaining: int
    status: int = 200
    headers: dict[str, str] | None = None
    body: bytes | None = None
    seconds: float = 0.0


class ApiStandIn(LocalServer):
    """Serve question records like the Written Questions API, on 127.0.0.1 in a background thread."""

    def __init__(
        self, questions: list[Question] | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(host, port)
        self._faults: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._snap = _Snapshot({})
        self.replace(questions or [])
        # Written statements (StatementsViewModel records) by id; with `statement_links_listed`
        # False the list leaves every `linkedStatements` out (null), as a list may.
        self.statements: dict[int, dict[str, Any]] = {}
        self.statement_links_listed = True

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler bound to this server."""
        return _handler_for(self)

    # data

    def replace(self, questions: list[Question]) -> None:
        """Swap in a whole new set of questions atomically (copies are stored)."""
        snap = _Snapshot({int(q["id"]): copy.deepcopy(q) for q in questions})
        with self._lock:
            self._snap = snap

    def put(self, question: Question) -> None:
        """Add a question, or replace the one with the same id, atomically (a copy is stored)."""
        stored = copy.deepcopy(question)
        with self._lock:
            questions = dict(self._snap.questions)
            questions[int(stored["id"])] = stored
            self._snap = _Snapshot(questions)

    def remove(self, question_id: int) -> None:
        """Delete a question (KeyError if unknown); it then answers 404."""
        with self._lock:
            questions = dict(self._snap.questions)
            del questions[question_id]
            self._snap = _Snapshot(questions)

    def get(self, question_id: int) -> Question | None:
        """A copy of the stored record, or None."""
        found = self._snap.questions.get(question_id)
        return copy.deepcopy(found) if found is not None else None

    def questions(self) -> list[Question]:
        """Copies of all stored records, by id."""
        snap = self._snap
        return [copy.deepcopy(snap.questions[i]) for i in sorted(snap.questions)]

    # fault injection

    def fail(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        """Answer the next `times` requests whose path (with query) starts with path_prefix like this.

        Without a body, an error status gets a ProblemDetails body and any other an empty one.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_Rule(path_prefix, times, status, dict(headers or {}), body))

    def delay(self, path_prefix: str, seconds: float, times: int = 1) -> None:
        """Hold the next `times` matching requests for `seconds` before answering (for timeouts)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._delays.append(_Rule(path_prefix, times, seconds=seconds))

    def _take(self, rules: list[_Rule], target: str) -> _Rule | None:
        """Use up one turn of the first rule matching the target, if any."""
        with self._lock:
            for rule in rules:
                if target.startswith(rule.prefix):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        rules.remove(rule)
                    return rule
        return None

    # serving

    def _route(self, target: str) -> tuple[int, dict[str, Any]]:
        """Status and JSON payload for a GET of target (path with query)."""
        parts = urlsplit(target)
        path = unquote(parts.path).rstrip("/")
        snap = self._snap
        base = QUESTIONS_PATH
        try:
            if path.lower().startswith(STATEMENTS_PATH):
                return self._statement_route(path[len(STATEMENTS_PATH) :].strip("/"), parts.query)
            if path.lower() == base:
                return 200, self._list(snap, parts.query)
            rest = path[len(base) + 1 :].split("/") if path.lower().startswith(base + "/") else []
            expand = _Query(parts.query).boolean("expandMember")
            found: Question | None = None
            if len(rest) == 1 and rest[0].isdigit():
                found = snap.questions.get(int(rest[0]))
                detail = f"No question with id {rest[0]}."
            elif len(rest) == 2:
                found = snap.by_date_uin.get((parse_day(rest[0], "date"), rest[1].upper()))
                detail = f"No question {rest[1]} tabled on {rest[0]}."
            else:
                return 404, problem(404, "No such endpoint.", parts.path)
            if found is None:
                return 404, problem(404, detail, parts.path)
            return 200, item(detail_view(found, expand))
        except BadRequest as e:
            return 400, problem(400, str(e), parts.path)

    def _statement_route(self, rest: str, query: str) -> tuple[int, dict[str, Any]]:
        """The statements list (madeWhenFrom/To, house, skip/take; newest first) or one by id."""
        statements = [copy.deepcopy(s) for s in self.statements.values()]
        if rest:
            found = next((s for s in statements if str(s["id"]) == rest), None)
            if found is None:
                return 404, problem(404, f"No statement with id {rest}.", STATEMENTS_PATH + "/" + rest)
            return 200, {"value": found, "links": []}
        q = _Query(query)
        house = q.choice("house", ("Bicameral", "Commons", "Lords"))
        low, high = q.day("madeWhenFrom"), q.day("madeWhenTo")
        skip, take = q.integer("skip", 0) or 0, q.integer("take", DEFAULT_TAKE) or 0
        chosen = [
            s
            for s in sorted(statements, key=lambda s: (s["dateMade"], -s["id"]), reverse=True)
            if house in (None, "Bicameral", s["house"]) and _within(s["dateMade"], low, high)
        ]
        page = chosen[skip : skip + min(take, MAX_TAKE)]
        if not self.statement_links_listed:
            for statement in page:
                statement["linkedStatements"] = None
        return 200, {"totalResults": len(chosen), "results": [{"value": s, "links": []} for s in page]}

    @staticmethod
    def _list(snap: _Snapshot, query: str) -> dict[str, Any]:
        q = _Query(query)
        skip, take = q.integer("skip", 0), q.integer("take", DEFAULT_TAKE)
        assert skip is not None and take is not None
        if skip < 0 or take < 0:
            raise BadRequest("skip and take must not be negative.")
        chosen = select(snap.ordered, query)
        expand = q.boolean("expandMember")
        page = chosen[skip : skip + min(take, MAX_TAKE)]
        return {"totalResults": len(chosen), "results": [item(list_view(r, expand)) for r in page]}

    def _respond(self, h: BaseHTTPRequestHandler) -> None:
        """Answer one GET request."""
        target = h.path
        delay = self._take(self._delays, target)
        fault = self._take(self._faults, target)
        if delay is not None:
            time.sleep(delay.seconds)
        headers = {"Content-Type": JSON_TYPE}
        if fault is not None:
            status = fault.status
            if fault.body is not None:
                body = fault.body
            elif status >= 400:
                headers["Content-Type"] = PROBLEM_TYPE
                body = _json(problem(status, "Injected failure.", urlsplit(target).path))
            else:
                body = b""
            headers.update(fault.headers or {})
        else:
            status, payload = self._route(target)
            if status != 200:
                headers["Content-Type"] = PROBLEM_TYPE
            body = _json(payload)
        with self._lock:  # logged before replying, so a client that has its answer sees the entry
            self.requests.append((h.command, target, status))
        try:
            h.send_response(status)
            for name, value in headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except OSError:
            h.close_connection = True  # the client gave up (a timeout test); nothing to tell it


def _json(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _handler_for(api: ApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive; every response has a length
        server_version = "Kestrel"
        sys_version = ""
        timeout = 30  # drop idle keep-alive connections so handler threads do not linger

        def do_GET(self) -> None:  # name fixed by http.server
            api._respond(self)

        def log_message(self, format: str, *args: object) -> None:
            pass  # requests are recorded in api.requests

    return Handler


# --- deterministic data -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Department:
    id: int
    name: str
    addressee: str  # how a Commons question addresses the Secretary of State
    topics: tuple[tuple[str, str], ...]  # (heading, subject)


DEPARTMENTS = (
    _Department(
        1,
        "Home Office",
        "the Secretary of State for the Home Department",
        (
            ("Surveillance: Hikvision", "the use of Hikvision surveillance cameras in public buildings"),
            ("Asylum: Hotels", "the number of asylum seekers accommodated in hotels"),
            ("Police: Recruitment", "police officer recruitment in each police force area"),
        ),
    ),
    _Department(
        13,
        "Department for Environment, Food and Rural Affairs",
        "the Secretary of State for Environment, Food and Rural Affairs",
        (
            ("River Tame: Pollution", "sewage discharges into the River Tame"),
            ("Bovine Tuberculosis", "the effectiveness of the badger cull in reducing bovine tuberculosis"),
            ("Fisheries: Quotas", "the allocation of fishing quota to the inshore fleet"),
        ),
    ),
    _Department(
        17,
        "Department of Health and Social Care",
        "the Secretary of State for Health and Social Care",
        (
            ("Care Homes: Learning Disability", "people with learning disabilities living in care homes"),
            ("Dental Services", "access to NHS dentistry in rural areas"),
            ("Hospitals: Waiting Lists", "waiting times for elective hospital treatment"),
        ),
    ),
    _Department(
        54,
        "Ministry of Justice",
        "the Secretary of State for Justice",
        (
            ("Prisons: Overcrowding", "the operational capacity of the adult male prison estate"),
            ("Legal Aid Scheme", "the availability of civil legal aid for housing cases"),
            ("Crown Court: Remand in Custody", "the number of defendants held on remand awaiting trial"),
        ),
    ),
    _Department(
        60,
        "Department for Education",
        "the Secretary of State for Education",
        (
            ("Apprentices: Employment Agencies", "flexi-job apprenticeship agencies"),
            ("Schools: Concrete", "reinforced autoclaved aerated concrete in school buildings"),
            ("Teachers: Recruitment", "the recruitment and retention of mathematics teachers"),
        ),
    ),
    _Department(
        208,
        "Foreign, Commonwealth and Development Office",
        "the Secretary of State for Foreign, Commonwealth and Development Affairs",
        (
            ("Eritrea: Human Rights", "the human rights situation in Eritrea"),
            ("Xinjiang: Forced Labour", "the use of Uyghur forced labour in supply chains from Xinjiang"),
            ("Nigeria: Freedom of Religion", "attacks on religious communities in Plateau State, Nigeria"),
        ),
    ),
    _Department(
        211,
        "Department for Levelling Up, Housing and Communities",
        "the Secretary of State for Levelling Up, Housing and Communities",
        (
            ("Buildings: Insulation", "the remediation of unsafe cladding on residential buildings"),
            ("Temporary Accommodation", "the number of households with children in temporary accommodation"),
            ("Local Government: Finance", "the financial sustainability of unitary authorities"),
        ),
    ),
)
SUBJECTS = {heading: subject for d in DEPARTMENTS for heading, subject in d.topics}

PARTIES = {  # name: (abbreviation, colour)
    "Conservative": ("Con", "0000ff"),
    "Labour": ("Lab", "ff0000"),
    "Liberal Democrat": ("LD", "faa61a"),
    "Crossbench": ("XB", "a99b8b"),
    "Democratic Unionist Party": ("DUP", "d46a4c"),
    "Green Party": ("Green", "78b82a"),
}


def _member(member_id: int, name: str, list_as: str, party: str, member_from: str) -> dict[str, Any]:
    abbreviation, colour = PARTIES[party]
    return {
        "id": member_id,
        "listAs": list_as,
        "name": name,
        "party": party,
        "partyColour": colour,
        "partyAbbreviation": abbreviation,
        "memberFrom": member_from,
        "thumbnailUrl": f"https://members-api.parliament.uk/api/Members/{member_id}/Thumbnail",
    }


ASKERS = {
    "Lords": (
        _member(738, "Lord Alton of Liverpool", "Alton of Liverpool, L.", "Crossbench", "Life peer"),
        _member(2541, "Baroness Cox", "Cox, B.", "Crossbench", "Life peer"),
        _member(2096, "Lord Hunt of Kings Heath", "Hunt of Kings Heath, L.", "Labour", "Life peer"),
        _member(4350, "Baroness Sheehan", "Sheehan, B.", "Liberal Democrat", "Life peer"),
    ),
    "Commons": (
        _member(4131, "Jim Shannon", "Shannon, Jim", "Democratic Unionist Party", "Strangford"),
        _member(4741, "Andrew Griffith", "Griffith, Andrew", "Conservative", "Arundel and South Downs"),
        _member(4776, "Munira Wilson", "Wilson, Munira", "Liberal Democrat", "Twickenham"),
        _member(163, "Stephen Timms", "Timms, Stephen", "Labour", "East Ham"),
        _member(3930, "Caroline Lucas", "Lucas, Caroline", "Green Party", "Brighton, Pavilion"),
    ),
}
MINISTERS = {  # (house, answeringBodyId): answering member
    ("Lords", 1): _member(
        4263, "Baroness Williams of Trafford", "Williams of Trafford, B.", "Conservative", "Life peer"
    ),
    ("Lords", 13): _member(4185, "Lord Benyon", "Benyon, L.", "Conservative", "Life peer"),
    ("Lords", 17): _member(5022, "Lord Markham", "Markham, L.", "Conservative", "Life peer"),
    ("Lords", 54): _member(5048, "Lord Bellamy", "Bellamy, L.", "Conservative", "Life peer"),
    ("Lords", 60): _member(4701, "Baroness Barran", "Barran, B.", "Conservative", "Life peer"),
    ("Lords", 208): _member(
        4210, "Lord Ahmad of Wimbledon", "Ahmad of Wimbledon, L.", "Conservative", "Life peer"
    ),
    ("Lords", 211): _member(4730, "Baroness Penn", "Penn, B.", "Conservative", "Life peer"),
    ("Commons", 1): _member(3984, "Chris Philp", "Philp, Chris", "Conservative", "Croydon South"),
    ("Commons", 13): _member(4522, "Rebecca Pow", "Pow, Rebecca", "Conservative", "Taunton Deane"),
    ("Commons", 17): _member(3953, "Andrew Stephenson", "Stephenson, Andrew", "Conservative", "Pendle"),
    ("Commons", 54): _member(3958, "Edward Argar", "Argar, Edward", "Conservative", "Charnwood"),
    ("Commons", 60): _member(3985, "Robert Halfon", "Halfon, Robert", "Conservative", "Harlow"),
    ("Commons", 208): _member(
        1211, "Andrew Mitchell", "Mitchell, Andrew", "Conservative", "Sutton Coldfield"
    ),
    ("Commons", 211): _member(4052, "Lee Rowley", "Rowley, Lee", "Conservative", "North East Derbyshire"),
}

ASKS = {
    "Commons": (
        "what assessment his Department has made of {s}",
        "what steps his Department is taking in response to {s}",
        "what recent discussions he has had with stakeholders on {s}",
        "whether his Department plans to publish data on {s}",
    ),
    "Lords": (
        "what assessment they have made of {s}",
        "what steps they are taking in response to {s}",
        "what discussions they have had with stakeholders about {s}",
        "whether they plan to publish data on {s}",
    ),
}
LONG_TAILS = {
    "Commons": (
        ", broken down by (a) region, (b) age group and (c) financial year since 2015; what estimate "
        "his Department has made of the cost to the public purse of that policy in each of those years; "
        "and if he will place in the Library a copy of any internal review of its effectiveness"
    ),
    "Lords": (
        ", broken down by (1) region, (2) age group and (3) financial year since 2015; what estimate "
        "they have made of the cost to the public purse of that policy in each of those years; and whether "
        "they will place in the Library of the House a copy of any internal review of its effectiveness"
    ),
}
OPENERS = (
    "The Government recognises the importance of {s} and keeps the matter under close review.",
    "The Government is committed to addressing {s} and has taken a range of steps in this area.",
    "Ministers and officials continue to monitor {s} closely with delivery partners.",
)
FIGURES = (
    "Since {year} the Department has invested £{m} million in this work, and a further £{m2} million has "
    "been allocated for the {fy} financial year.",
    "The latest published figures show {k:,} cases in England in {year}, a change of {p} per cent on the "
    "previous year.",
    "Funding of £{m} million has been made available to {k:,} organisations through the national programme.",
)
CONTEXT = (
    "Officials meet regularly with the devolved administrations, local partners and delivery bodies to "
    "discuss progress and share best practice.",
    "The Department will continue to work closely with stakeholders and will set out further details in due "
    "course.",
    "Decisions on future funding will be taken as part of the usual business planning process.",
    "Information is not held in the format requested, and could be obtained only at disproportionate cost.",
    "An independent evaluation will report next year, and its findings will be published in full.",
    "Guidance for local authorities was updated last autumn and remains under review.",
)
SHORT_ANSWERS = (
    "The Department does not hold this information centrally.",
    "The information requested is not held centrally.",
    "No specific assessment has been made of this matter.",
)
HOLDING = {
    "Commons": "<p>I shall let the hon. Member have a reply as soon as possible.</p>",
    "Lords": "<p>I shall write to the noble {title} as soon as possible and place a copy in the Library.</p>",
}
ATTACHED = "<p>The information requested is provided in the attached table.</p>"
PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)


def _weekdays(start: date, count: int) -> date:
    """The date `count` weekdays after start (start itself when count is 0)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def figures_sentence(rng: random.Random) -> str:
    """A sentence of made-up official figures, for generated answers."""
    year = rng.randint(2015, 2022)
    return rng.choice(FIGURES).format(
        year=year,
        m=rng.randint(2, 950),
        m2=rng.randint(2, 300),
        fy=f"{year + 2}-{(year + 3) % 100:02d}",
        k=rng.randint(120, 98000),
        p=rng.randint(2, 40),
    )


def _table(rng: random.Random) -> str:
    rows = "".join(
        f"<tr><td>{year}</td><td>{rng.randint(100, 9999):,}</td><td>{rng.randint(1, 99)}%</td></tr>"
        for year in range(2019, 2024)
    )
    return (
        '<table border="1"><thead><tr><th>Year</th><th>Number</th><th>Proportion</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _answer_html(rng: random.Random, heading: str, with_attachment: bool = False) -> str:
    """A substantive answer in the API's HTML: paragraphs, sometimes a link or a table."""
    if rng.random() < 0.12:
        body = f"<p>{rng.choice(SHORT_ANSWERS)}</p>"
    else:
        subject = SUBJECTS.get(heading, "this matter")
        paragraphs = [rng.choice(OPENERS).format(s=subject), figures_sentence(rng)]
        paragraphs += rng.sample(CONTEXT, rng.randint(1, 3))
        if rng.random() < 0.35:
            url = "https://www.gov.uk/government/statistics/" + re.sub(
                r"[^a-z]+", "-", heading.lower()
            ).strip("-")
            paragraphs.insert(
                2, f'Further information is published at <a href="{url}" target="_blank">{url}</a>.'
            )
        parts = [f"<p>{p}</p>" for p in paragraphs]
        if rng.random() < 0.1:
            parts.insert(2, _table(rng))
        body = "".join(parts)
    return body + ATTACHED if with_attachment else body


def _question_text(rng: random.Random, house: str, department: _Department, subject: str, long: bool) -> str:
    ask = rng.choice(ASKS[house]).format(s=subject) + (LONG_TAILS[house] if long else "")
    if house == "Commons":
        return f"To ask {department.addressee}, {ask}."
    return f"To ask His Majesty's Government {ask}."


def _attachments(rng: random.Random, question_id: int, uin: str, heading: str) -> list[dict[str, Any]]:
    found = []
    for n in range(rng.randint(1, 2)):
        excel = n == 0 or rng.random() < 0.5
        name = f"{uin}_{'table' if excel else 'letter'}{n + 1}.{'xlsx' if excel else 'pdf'}"
        found.append(
            {
                "url": f"https://qna.files.parliament.uk/qna-attachments/{question_id}/original/{name}",
                "title": f"{uin} - {heading} ({'table' if excel else 'letter'})",
                "fileType": "Microsoft Excel" if excel else "PDF",
                "fileSizeBytes": rng.randint(12_000, 400_000),
            }
        )
    return found


def _answer(question: Question, day: date | None, text: str | None, minister: dict[str, Any] | None) -> None:
    """Set (or with None, clear) the answer fields of a record."""
    question["answeringMemberId"] = minister["id"] if minister else None
    question["answeringMember"] = copy.deepcopy(minister)
    question["dateAnswered"] = api_date(day) if day else None
    question["answerText"] = text


def generate_questions(n: int, seed: int = 7926, start: date = date(2024, 1, 8)) -> list[Question]:
    """n deterministic QuestionsViewModel records over both Houses, tabled on weekdays from start."""
    rng = random.Random(seed)
    sitting_days = max(5, -(-n // 25))  # about 25 questions a sitting day
    next_uin = {"Commons": 7926, "Lords": 1234}
    qid = 1_680_000
    # Exact shares (so even a small set has each state): 10% unanswered, 5% holding, 3% withdrawn.
    shares = {"unanswered": 0.10, "holding": 0.05, "withdrawn": 0.03}
    states = [state for state, share in shares.items() for _ in range(max(n >= 20, round(n * share)))]
    states += ["answered"] * (n - len(states))
    rng.shuffle(states)
    questions: list[Question] = []
    for i, state in enumerate(states):
        house = "Lords" if rng.random() < 0.45 else "Commons"
        department = rng.choice(DEPARTMENTS)
        heading, subject = rng.choice(department.topics)
        tabled = _weekdays(start, i * sitting_days // max(n, 1))
        uin = f"HL{next_uin[house]}" if house == "Lords" else str(next_uin[house])
        next_uin[house] += 1
        qid += rng.randint(1, 3)
        named_day = house == "Commons" and rng.random() < 0.2
        due = _weekdays(tabled, 3 if named_day else (5 if house == "Commons" else 10))
        asker = rng.choice(ASKERS[house])
        question: Question = {
            "id": qid,
            "askingMemberId": asker["id"],
            "askingMember": copy.deepcopy(asker),
            "house": house,
            "memberHasInterest": rng.random() < 0.03,
            "dateTabled": api_date(tabled),
            "dateForAnswer": api_date(due),
            "uin": uin,
            "questionText": _question_text(rng, house, department, subject, long=rng.random() < 0.3),
            "answeringBodyId": department.id,
            "answeringBodyName": department.name,
            "isWithdrawn": False,
            "isNamedDay": named_day,
            "groupedQuestions": [],
            "answerIsHolding": False,
            "answerIsCorrection": False,
            "answeringMemberId": None,
            "answeringMember": None,
            "correctingMemberId": None,
            "correctingMember": None,
            "dateAnswered": None,
            "answerText": None,
            "originalAnswerText": "",
            "comparableAnswerText": "",
            "dateAnswerCorrected": None,
            "dateHoldingAnswer": None,
            "attachmentCount": 0,
            "heading": heading,
            "attachments": [],
            "groupedQuestionsDates": [],
        }
        minister = MINISTERS[house, department.id]
        if state == "holding":  # a holding answer, dated on the day it was given
            question["answerIsHolding"] = True
            question["dateHoldingAnswer"] = api_date(due)
            title = "Baroness" if asker["name"].startswith("Baroness") else "Lord"
            _answer(question, due, HOLDING[house].format(title=title), minister)
        elif state == "withdrawn":
            question["isWithdrawn"] = True
        elif state == "answered":
            answered = _weekdays(tabled, rng.randint(2, 15))
            attach = rng.random() < 0.04
            _answer(question, answered, _answer_html(rng, heading, attach), minister)
            if attach:
                question["attachments"] = _attachments(rng, qid, uin, heading)
                question["attachmentCount"] = len(question["attachments"])
            if rng.random() < 0.03:
                _correct(question, rng, _weekdays(answered, rng.randint(5, 20)))
        questions.append(question)
    _group_pairs(questions, rng)
    return questions


def _correct(question: Question, rng: random.Random, day: date) -> None:
    """Correct an answer: the first paragraph with a figure (else the first) gets new wording."""
    old = question["answerText"]
    paragraphs = list(PARAGRAPH.finditer(old))
    target = next((m for m in paragraphs if re.search(r"\d", m[1])), paragraphs[0])
    new_sentence = figures_sentence(rng)
    while new_sentence == target[1]:
        new_sentence = figures_sentence(rng)
    question["answerText"] = old[: target.start(1)] + new_sentence + old[target.end(1) :]
    question["originalAnswerText"] = old
    question["answerIsCorrection"] = True
    question["dateAnswerCorrected"] = api_date(day)
    question["correctingMemberId"] = question["answeringMemberId"]
    question["correctingMember"] = copy.deepcopy(question["answeringMember"])


def _groupable(q: Question) -> bool:
    return bool(
        q["dateAnswered"]
        and not q["answerIsHolding"]
        and not q["answerIsCorrection"]
        and not q["isWithdrawn"]
        and not q["groupedQuestions"]
        and not q["attachments"]
    )


def _link(group: list[Question]) -> None:
    """Make every question of a group list all the others in groupedQuestions(Dates)."""
    for q in group:
        others = [o for o in group if o is not q]
        q["groupedQuestions"] = [o["uin"] for o in others]
        q["groupedQuestionsDates"] = [
            {"questionUin": o["uin"], "dateTabled": o["dateTabled"]} for o in others
        ]


def _group_pairs(questions: list[Question], rng: random.Random) -> None:
    """Group about 5% of questions in pairs answered together, some tabled on different days."""
    for i, first in enumerate(questions):
        if not _groupable(first) or rng.random() >= 0.03:
            continue
        candidates = [
            q
            for q in questions[i + 1 : i + 30]  # about a sitting day: some partners are tabled a day later
            if _groupable(q)
            and q["house"] == first["house"]
            and q["answeringBodyId"] == first["answeringBodyId"]
        ]
        if not candidates:
            continue
        partner = rng.choice(candidates)
        subject = SUBJECTS[first["heading"]]
        long = len(partner["questionText"]) > LIST_TEXT_LIMIT
        department = next(d for d in DEPARTMENTS if d.id == first["answeringBodyId"])
        partner["questionText"] = _question_text(rng, partner["house"], department, subject, long)
        partner["heading"] = first["heading"]
        answered = max(first["dateAnswered"], partner["dateAnswered"])
        for q in (first, partner):
            q["dateAnswered"] = answered
            q["answerText"] = first["answerText"]
            q["answeringMemberId"] = first["answeringMemberId"]
            q["answeringMember"] = copy.deepcopy(first["answeringMember"])
        _link([first, partner])


# --- evolution --------------------------------------------------------------------------------

CHANGE_KINDS = (
    "answered",
    "holding_replaced",
    "corrected",
    "withdrawn",
    "answering_body_changed",
    "regrouped",
    "answer_date_changed",
    "answer_text_changed",
)


def _late_paragraph(answer: str | None, offset: int = 300) -> re.Match[str] | None:
    """The first <p> of an answer that starts at least `offset` characters into its plain text."""
    text = answer or ""
    for m in PARAGRAPH.finditer(text):
        if len(plain_text(text[: m.start()])) >= offset:
            return m
    return None


Pick = Callable[[Callable[[Question], object]], "Question | None"]
Record = Callable[[Question, str], None]


def evolve(questions: list[Question], seed: int, day: date) -> tuple[list[Question], list[dict[str, Any]]]:
    """Apply one day's official changes, dated `day`; return the new records and a manifest of changes.

    The input is not modified. A kind of change is skipped when no question qualifies for it.
    """
    rng = random.Random(f"{seed}:{day.isoformat()}")
    new = [copy.deepcopy(q) for q in questions]
    ordered = sorted(new, key=lambda r: r["id"])
    today = day.isoformat()
    used: set[int] = set()
    manifest: list[dict[str, Any]] = []

    def pick(test: Callable[[Question], object]) -> Question | None:
        """A random unused question tabled by `day` that passes the test (it is then used)."""
        candidates = [r for r in ordered if r["id"] not in used and r["dateTabled"][:10] <= today and test(r)]
        if not candidates:
            return None
        chosen = rng.choice(candidates)
        used.add(chosen["id"])
        return chosen

    def record(q: Question, kind: str) -> None:
        manifest.append({"id": q["id"], "uin": q["uin"], "date_tabled": q["dateTabled"][:10], "kind": kind})

    def still_open(r: Question) -> bool:
        return not r["dateAnswered"] and not r["isWithdrawn"]

    def settled(r: Question) -> bool:
        """Answered substantively by `day`, not grouped, not corrected."""
        return bool(
            r["dateAnswered"]
            and r["dateAnswered"][:10] <= today
            and not r["answerIsHolding"]
            and not r["answerIsCorrection"]
            and not r["isWithdrawn"]
            and not r["groupedQuestions"]
        )

    q = pick(lambda r: r["answerIsHolding"] and not r["isWithdrawn"] and r["dateHoldingAnswer"][:10] <= today)
    if q is not None:  # dateHoldingAnswer is kept
        _answer(q, day, _answer_html(rng, q["heading"]), q["answeringMember"])
        q["answerIsHolding"] = False
        record(q, "holding_replaced")
    if (q := pick(settled)) is not None:
        _correct(q, rng, day)
        record(q, "corrected")
    if (q := pick(still_open)) is not None:
        _answer(q, day, _answer_html(rng, q["heading"]), MINISTERS[q["house"], q["answeringBodyId"]])
        record(q, "answered")
    if (q := pick(still_open)) is not None:
        q["isWithdrawn"] = True
        record(q, "withdrawn")
    if (q := pick(still_open)) is not None:
        department = rng.choice([d for d in DEPARTMENTS if d.id != q["answeringBodyId"]])
        q["answeringBodyId"], q["answeringBodyName"] = department.id, department.name
        record(q, "answering_body_changed")
    _regroup(pick, record)
    if (q := pick(lambda r: settled(r) and r["dateAnswered"][:10] != today)) is not None:
        q["dateAnswered"] = api_date(day)
        record(q, "answer_date_changed")
    if (q := pick(lambda r: settled(r) and _late_paragraph(r["answerText"]))) is not None:
        # A silent edit: no flag, and too far in to show in the list view's 255 characters.
        m = _late_paragraph(q["answerText"])
        assert m is not None
        sentence = rng.choice([c for c in CONTEXT if c != m[1]])
        q["answerText"] = q["answerText"][: m.start(1)] + sentence + q["answerText"][m.end(1) :]
        record(q, "answer_text_changed")
    return new, manifest


def _regroup(pick: Pick, record: Record) -> None:
    """Add a third question to an answered pair or, failing that, group two questions as a pair."""

    def same_body(first: Question) -> Callable[[Question], bool]:
        return lambda r: (
            _groupable(r)
            and r["house"] == first["house"]
            and r["answeringBodyId"] == first["answeringBodyId"]
        )

    group: list[Question] = []
    pair = pick(lambda r: len(r["groupedQuestions"]) == 1 and not r["isWithdrawn"])
    if pair is not None:
        other = pair["groupedQuestionsDates"][0]
        partner = pick(
            lambda r: (
                r["uin"] == other["questionUin"]
                and r["dateTabled"] == other["dateTabled"]
                and r["house"] == pair["house"]
            )
        )
        third = pick(same_body(pair))
        if partner is not None and third is not None:
            group = [pair, partner, third]
    if not group and (first := pick(_groupable)) is not None:
        second = pick(same_body(first))
        group = [first, second] if second is not None else []
    _link(group)
    for q in group:
        record(q, "regrouped")
