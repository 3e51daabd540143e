"""Parse Written Questions API responses into typed records. Pure: JSON in, records out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from spiders import normalise, records
from spiders.decode import code_fingerprint
from spiders.normalise import html_to_text, normalise_body_name, normalise_inline
from spiders.records import AnswerRecord, Attachment
from storage.terms import EARLIEST_DATE, House, canonical_uin, utcnow

# The code that turns an API record into an AnswerRecord: this module, text normalising, the records.
PARSER_ID = code_fingerprint(__file__, normalise.__file__, records.__file__)

REQUIRED = ("id", "house", "uin", "dateTabled", "questionText")


class ApiRecordError(ValueError):
    """A response or record that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class ListEntry:
    """One question as the list endpoint shows it (texts cut at 255 characters)."""

    api_id: int
    house: str
    uin: str
    date_tabled: date
    fingerprint: str  # dates, flags and the first 255 characters: what a change must move


@dataclass(frozen=True)
class ListPage:
    """One page of the list endpoint."""

    total: int
    entries: tuple[ListEntry, ...]
    problems: tuple[str, ...]


def load_json(body: bytes) -> dict[str, Any]:
    """Decode a JSON response body; an error object inside a 200 (`"status": 500`) is an error."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiRecordError(f"malformed JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ApiRecordError("JSON body is not an object")
    status = payload.get("status")
    # Why: the API sometimes reports a server error inside a 200 body (seen by mySociety's parlparse).
    if isinstance(status, int) and status >= 400:
        raise ApiRecordError(
            f"error inside the JSON body: status {status} {payload.get('title', '')}".strip()
        )
    return payload


def parse_list_page(payload: dict[str, Any], today: date) -> ListPage:
    """Read a list page: total count and one entry per readable question."""
    total = payload.get("totalResults")
    results = payload.get("results")
    if not isinstance(total, int) or not isinstance(results, list):
        raise ApiRecordError("list response lacks totalResults or results")
    entries, problems = [], []
    for item in results:
        value = item.get("value") if isinstance(item, dict) else None
        try:
            entries.append(_list_entry(value, today))
        except ApiRecordError as error:
            problems.append(str(error))
    return ListPage(total, tuple(entries), tuple(problems))


def _list_entry(value: Any, today: date) -> ListEntry:
    _require(value)
    fields = [
        value.get(name)
        for name in (
            "dateTabled",
            "dateAnswered",
            "dateHoldingAnswer",
            "dateAnswerCorrected",
            "answerIsHolding",
            "answerIsCorrection",
            "isWithdrawn",
            "answeringBodyId",
            "answeringMemberId",
            "heading",
            "groupedQuestions",
            "attachmentCount",
        )
    ]
    fields += [(value.get("questionText") or "")[:255], (value.get("answerText") or "")[:255]]
    fingerprint = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    return ListEntry(
        api_id=int(value["id"]),
        house=_house(value),
        uin=_uin(value),
        date_tabled=_date(value, "dateTabled", today),  # type: ignore[arg-type]
        fingerprint=fingerprint,
    )


def parse_question(payload: dict[str, Any], today: date) -> AnswerRecord:
    """Read one detail response (`{"value": {...}}`) into a record with full texts."""
    value = payload.get("value", payload)
    _require(value)
    answer_html = value.get("answerText") or ""
    original = value.get("originalAnswerText") or ""
    return AnswerRecord(
        house=_house(value),
        uin=_uin(value),
        date_tabled=_date(value, "dateTabled", today),
        question_text=html_to_text(value.get("questionText")),
        answer_text=html_to_text(answer_html),
        asking_member=_member(value.get("askingMember")),
        answering_member=_member(value.get("answeringMember")),
        answering_body=normalise_body_name(value.get("answeringBodyName")),
        date_answered=_date(value, "dateAnswered", today),
        heading=normalise_inline(value.get("heading")) or None,
        is_holding=bool(value.get("answerIsHolding")),
        date_holding_answer=_date(value, "dateHoldingAnswer", today),
        is_correction=bool(value.get("answerIsCorrection")),
        date_corrected=_date(value, "dateAnswerCorrected", today),
        is_withdrawn=bool(value.get("isWithdrawn")),
        grouped_with=tuple(sorted({canonical_uin(u) for u in value.get("groupedQuestions") or []})),
        api_id=int(value["id"]),
        correcting_member=_member(value.get("correctingMember")),
        original_answer_text=html_to_text(original) or None,
        attachments=tuple(_attachment(a) for a in value.get("attachments") or [] if isinstance(a, dict)),
        date_for_answer=_date(value, "dateForAnswer", today),
        is_named_day=_flag(value.get("isNamedDay")),
        member_has_interest=_flag(value.get("memberHasInterest")),
        comparable_answer_text=html_to_text(value.get("comparableAnswerText")) or None,
    )


def parse_body(body: bytes, url: str, content_type: str | None = None) -> tuple[AnswerRecord, ...]:
    """Re-derive a stored detail response's record as the spider does; ValueError (an
    ApiRecordError) when unreadable. Dates are checked against today's date."""
    return (parse_question(load_json(body), utcnow().date()),)


def grouped_question_keys(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (date tabled, UIN) of every question grouped with this one, for fetching them."""
    value = payload.get("value", payload)
    keys = []
    for item in value.get("groupedQuestionsDates") or []:
        if isinstance(item, dict) and item.get("questionUin") and item.get("dateTabled"):
            keys.append((str(item["dateTabled"])[:10], canonical_uin(item["questionUin"])))
    return keys


def _require(value: Any) -> None:
    if not isinstance(value, dict):
        raise ApiRecordError("record is not an object")
    missing = [name for name in REQUIRED if value.get(name) in (None, "")]
    if missing:
        raise ApiRecordError(f"record {value.get('id', '?')} lacks {', '.join(missing)}")


def _house(value: dict[str, Any]) -> House:
    house = str(value["house"])
    try:
        return House(house)
    except ValueError:
        raise ApiRecordError(f"record {value['id']}: unknown house {house!r}") from None


def _uin(value: dict[str, Any]) -> str:
    return canonical_uin(value["uin"])


def _date(value: dict[str, Any], name: str, today: date) -> date | None:
    raw = value.get(name)
    if raw in (None, ""):
        return None
    try:
        parsed = date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise ApiRecordError(f"record {value.get('id')}: {name} {raw!r} is not a date") from None
    # Parliament's record starts in 1803 (EARLIEST_DATE); a date before it, or more than a year
    # ahead, is a broken record.
    if not EARLIEST_DATE <= parsed <= date(today.year + 1, today.month, min(today.day, 28)):
        raise ApiRecordError(f"record {value.get('id')}: {name} {raw!r} is outside any sane range")
    return parsed


def _flag(value: Any) -> bool | None:
    """A yes/no field of the record; None when the record leaves it out."""
    return None if value is None else bool(value)


def _member(member: Any) -> str | None:
    if isinstance(member, dict):
        return normalise_inline(member.get("name") or member.get("listAs")) or None
    return None


def _attachment(raw: dict[str, Any]) -> Attachment:
    size = raw.get("fileSizeBytes")
    return Attachment(
        title=normalise_inline(raw.get("title")),
        url=str(raw.get("url") or ""),
        file_type=raw.get("fileType"),
        size_bytes=int(size) if isinstance(size, int) else None,
    )
