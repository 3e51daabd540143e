"""Render mails: a typed context plus Jinja2 templates on disk (text and HTML) into a RenderedMail.

Everything in a DigestContext is scraped or derived text, so it is only ever passed to templates as
data: HTML templates autoescape it, and nothing here compiles a string that came from a source.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from monitor.changes.diff import phrases, render_diff_html, render_diff_text
from monitor.notify.mail import sanitize_header
from monitor.notify.model import DigestContext, DigestItem, DigestSection, RenderedMail
from storage.terms import ChangeKind, Frequency, SourceKind

TEMPLATES = Path(__file__).with_name("templates")
DIFF_CONTEXT = 80  # characters of unchanged text kept each side of a change
QUESTION_CHARS = 300  # a question is shown shortened: the pqwatch page has it whole
PREVIEW_CHARS = 500  # a first answer is shown shortened, as a preview

# The subject names sections most important first, which is not the order the body reads in.
SUBJECT_ORDER = ("corrected", "disagree", "dates", "changed", "holding", "answered", "first_seen", "new")
SUBJECT_PARTS = 3
_PHRASES: dict[str, tuple[str, str]] = {  # section -> (one, many)
    "corrected": ("answer corrected", "answers corrected"),
    "disagree": ("blog copy disagrees", "blog copies disagree"),
    "dates": ("answer date moved", "answer dates moved"),
    "changed": ("answer changed", "answers changed"),
    "holding": ("holding answer, withdrawal or transfer", "holding answers, withdrawals or transfers"),
    "answered": ("newly answered", "newly answered"),
    "first_seen": ("first seen already answered", "first seen already answered"),
    "new": ("new question", "new questions"),
}

KIND_LABELS: dict[str, str] = {
    ChangeKind.NEW: "New question",
    ChangeKind.ANSWERED: "Answered",
    ChangeKind.HOLDING_REPLACED: "Holding answer replaced by a full answer",
    ChangeKind.CORRECTED: "Answer corrected",
    ChangeKind.ANSWER_TEXT_CHANGED: "Answer text changed",
    ChangeKind.QUESTION_TEXT_CHANGED: "Question text changed",
    ChangeKind.ANSWERING_MEMBER_CHANGED: "Answering minister changed",
    ChangeKind.REGROUPED: "Grouped questions changed",
    ChangeKind.ANSWER_DATE_CHANGED: "Answer date moved",
    ChangeKind.HOLDING_ANSWER: "Holding answer given",
    ChangeKind.WITHDRAWN: "Question withdrawn",
    ChangeKind.ANSWERING_BODY_CHANGED: "Transferred to another department",
    ChangeKind.SOURCE_REMOVED: "Source copy removed",
    ChangeKind.SOURCES_DISAGREE: "Blog copy disagrees with the official record",
    ChangeKind.DUE_TODAY: "Answer due today",
    ChangeKind.OVERDUE: "Overdue",
    ChangeKind.ANSWERED_LATE: "Answered late",
}
FIRST_SEEN_LABEL = "New to pqwatch, already answered"
FIELD_LABELS: dict[str, str] = {
    "answer_text": "Answer",
    "question_text": "Question",
    "answering_member": "Answering minister",
    "answering_body": "Department",
    "date_answered": "Answer date",
    "answered_at": "Answered at",
    "grouped_with": "Grouped with",
}
TEXT_FIELDS = frozenset({"answer_text", "question_text"})
# A first answer (or a holding answer's replacement) reads better whole than as an all-green diff.
# The changes whose news is an answer's text: marked when that answer declines or defers.
NON_ANSWER_KINDS = frozenset(
    {
        ChangeKind.ANSWERED,
        ChangeKind.HOLDING_REPLACED,
        ChangeKind.ANSWER_TEXT_CHANGED,
        ChangeKind.ANSWERED_LATE,
    }
)
PREVIEW_KINDS = frozenset({ChangeKind.NEW, ChangeKind.ANSWERED, ChangeKind.HOLDING_REPLACED})
# Flags whose change the kind label already says ("Question withdrawn"); "false → true" is noise.
FLAG_FIELDS = frozenset({"is_holding", "is_withdrawn", "is_correction"})
# Month names spelled here, not by strftime("%B"), so a mail never depends on the process locale.
MONTHS = "January February March April May June July August September October November December".split()
FREQUENCY_LABELS: dict[str, str] = {
    Frequency.IMMEDIATE: "alert",
    Frequency.DAILY: "daily digest",
    Frequency.WEEKLY: "weekly digest",
}
# How often a subscription mails, as the confirmation mail says it.
HOW_OFTEN: dict[str, str] = {
    Frequency.IMMEDIATE: "an alert as each change is seen",
    Frequency.DAILY: "a daily digest",
    Frequency.WEEKLY: "a weekly digest, on Mondays",
}

Segment = tuple[str, str]  # ("=" | "-" | "+", text)


@dataclass(frozen=True)
class ItemView:
    """One DigestItem prepared for the templates: labels chosen, texts shortened, links checked."""

    title: str
    meta: tuple[str, ...]  # "Tabled 3 November 2026", "Jane Smith, Department for Education"
    question: str | None
    label: str
    correction: str | None  # "on 5 February 2024 by Jane Smith"
    mode: str  # diff | preview | values | disagree | none
    field_label: str
    diff: tuple[Segment, ...]
    old: str | None
    new: str | None
    links: tuple[tuple[str, str], ...]  # (label, http(s) URL)
    non_answer: str | None = None  # "Declined: disproportionate cost", when the answer is one


@dataclass(frozen=True)
class SectionView:
    """A digest section with its items prepared."""

    key: str
    title: str
    items: tuple[RenderedItem, ...]
    count: int
    more: int


@dataclass(frozen=True)
class RenderedItem:
    """One change rendered once, in both bodies: the same for every subscriber who gets it."""

    html: Markup
    text: str


@functools.cache
def template_environment() -> Environment:
    """Return the one Jinja2 environment for mails (.html autoescaped, .txt not, undefined is an error)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Diffs are drawn by monitor.changes.diff, as the CLI and the pages draw them, so a deletion
    # and the insertion after it are spaced alike everywhere.
    env.filters["diff_text"] = diff_text
    env.filters["diff_html"] = diff_html
    return env


DEL_STYLE = "background:#ffe0e0;color:#8b0000;"
INS_STYLE = "background:#ddf4dd;color:#0b5d0b;text-decoration:none;"


def diff_text(segments: Sequence[Segment]) -> str:
    """A (trimmed) diff for a text mail: [-removed-] {+added+}."""
    return render_diff_text([[op, text] for op, text in segments], None)  # trim_diff has cut it


def diff_html(segments: Sequence[Segment]) -> Markup:
    """A (trimmed) diff for an HTML mail: escaped, with inline-styled <del> and <ins>."""
    return render_diff_html([[op, text] for op, text in segments], del_style=DEL_STYLE, ins_style=INS_STYLE)


def render_digest(context: DigestContext) -> RenderedMail:
    """Render one subscriber's digest: subject, text body and HTML body."""
    subject = digest_subject(context)
    values = {
        "subject": subject,
        "period_label": context.period_label,
        "total": context.total,
        "sections": tuple(_section_view(section) for section in context.sections if section.items),
        "frequency_label": FREQUENCY_LABELS.get(context.frequency, f"{context.frequency} digest"),
        "email": context.email,
        "manage_url": context.manage_url,
        "unsubscribe_url": context.unsubscribe_url,
        "base_url": context.base_url,
        "follows": context.follows,
    }
    return _render("digest", subject, values)


def render_confirmation(
    email: str,
    confirm_url: str,
    base_url: str,
    *,
    frequency: str = Frequency.DAILY,
    send_time: str = "07:00",
    filters: Sequence[tuple[str, str]] = (),
    unsubscribe_url: str | None = None,
) -> RenderedMail:
    """Render the double opt-in mail asking `email` to confirm one subscription, saying what it
    is (its filters as (label, value) pairs, how often, when).

    It carries no manage link: a pending subscription has nothing to manage, and the page that
    confirms it gives that link."""
    subject = "pqwatch: confirm your subscription"
    values = {
        "subject": subject,
        "email": email,
        "confirm_url": confirm_url,
        "base_url": base_url,
        "frequency_label": HOW_OFTEN.get(frequency, f"{frequency} digest"),
        "send_time": send_time if frequency != Frequency.IMMEDIATE else None,
        "filters": tuple(filters),
        "manage_url": None,
        "unsubscribe_url": unsubscribe_url,
    }
    return _render("confirm", subject, values)


def _render(name: str, subject: str, values: Mapping[str, object]) -> RenderedMail:
    env = template_environment()
    text = env.get_template(f"{name}.txt").render(values)
    html = env.get_template(f"{name}.html").render(values)
    return RenderedMail(subject=subject, text=_tidy(text), html=_tidy(html))


def _tidy(body: str) -> str:
    # Templates stay readable with blank lines around blocks; a mail needs no trailing blanks (but
    # the "-- " signature line keeps its space), at most one blank line in a row, one final newline.
    lines = [line if line == "-- " else line.rstrip() for line in body.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def digest_subject(context: DigestContext) -> str:
    """Sum a digest up in one header-safe line: counts by section, most important first, and the period."""
    counts = {section.key: section.count for section in context.sections if section.items}
    period = f"({context.period_label})"
    if not counts:
        return sanitize_header(f"pqwatch: no changes {period}")
    ranked = sorted(counts, key=lambda key: SUBJECT_ORDER.index(key) if key in SUBJECT_ORDER else 99)
    parts = [_phrase(key, counts[key], context) for key in ranked]
    if len(parts) > SUBJECT_PARTS:
        # Keep the subject short: the top sections by name, the rest as one count.
        rest = sum(counts[key] for key in ranked[SUBJECT_PARTS - 1 :])
        parts = parts[: SUBJECT_PARTS - 1] + [f"{rest} other change{'s' if rest != 1 else ''}"]
    summary = ", ".join(parts)
    if sum(counts.values()) == 1:
        summary += f": {_only_item_title(context)}"
    return sanitize_header(f"pqwatch: {summary} {period}")


def _phrase(key: str, count: int, context: DigestContext) -> str:
    if key not in _PHRASES:
        return f"{count} × {_section_title(context, key).lower()}"
    one, many = _PHRASES[key]
    return f"{count} {one if count == 1 else many}"


def _section_title(context: DigestContext, key: str) -> str:
    return next(section.title for section in context.sections if section.key == key)


def _only_item_title(context: DigestContext) -> str:
    item = next(item for section in context.sections for item in section.items)
    heading = shorten(item.heading, 80) if item.heading else ""
    return " ".join(part for part in (item.house, item.uin, heading) if part)


def _section_view(section: DigestSection) -> SectionView:
    items = tuple(render_item(item) for item in section.items)
    return SectionView(section.key, section.title, items, section.count, section.more)


@functools.lru_cache(maxsize=20_000)
def render_item(item: DigestItem) -> RenderedItem:
    """Render one change's partials once; thousands of digests carrying it reuse the result."""
    env = template_environment()
    view = {"v": item_view(item)}
    html = env.get_template("_item.html").render(view)
    # The HTML partial was autoescaped as it rendered: it is safe to insert as it stands.
    return RenderedItem(html=Markup(html), text=env.get_template("_item.txt").render(view))


def item_view(item: DigestItem) -> ItemView:
    """Prepare one change for the templates."""
    detail = {key: value for key, value in item.detail if value}
    # A question first seen with its answer: the answer is the news, shown as a first answer is.
    first_seen = item.kind == ChangeKind.NEW and item.first_answer is not None
    return ItemView(
        title=" ".join(part for part in (item.house, item.uin) if part)
        + (f": {item.heading}" if item.heading else ""),
        meta=tuple(
            part
            for part in (f"Tabled {long_date(item.date_tabled)}" if item.date_tabled else None, _who(item))
            if part
        ),
        question=shorten(item.question_text, QUESTION_CHARS) if item.question_text else None,
        label=FIRST_SEEN_LABEL
        if first_seen
        else KIND_LABELS.get(item.kind, item.kind.replace("_", " ").capitalize()),
        correction=_correction(detail) if item.kind == ChangeKind.CORRECTED else None,
        mode="preview" if first_seen else _mode(item),
        field_label=FIELD_LABELS["answer_text"]
        if first_seen
        else FIELD_LABELS.get(item.field or "", (item.field or "").replace("_", " ").capitalize()),
        # Grouped into phrases before cutting, so a cut never falls inside a rewritten phrase.
        diff=trim_diff(phrases([[op, text] for op, text in item.diff])),
        old=_value(item.old, item.field),
        new=_value(item.first_answer, "answer_text") if first_seen else _value(item.new, item.field),
        links=_links(item, detail),
        non_answer=item.non_answer if item.kind in NON_ANSWER_KINDS or first_seen else None,
    )


def _links(item: DigestItem, detail: dict[str, str]) -> tuple[tuple[str, str], ...]:
    # A disagreement names the official copy it was compared with; prefer that page.
    official = detail.get("official_url") if item.kind == ChangeKind.SOURCES_DISAGREE else None
    source = "Blog copy" if item.source_kind == SourceKind.BLOG else f"Source ({item.source_kind})"
    candidates = (
        ("Official record", web_url(official) or web_url(item.official_url)),
        ("History on pqwatch", web_url(item.question_url)),
        (source, web_url(item.source_url)),
    )
    return tuple((label, url) for label, url in candidates if url)


def _who(item: DigestItem) -> str | None:
    if item.answering_member and item.answering_body:
        return f"{item.answering_member}, {item.answering_body}"
    if item.answering_member:
        return item.answering_member
    return f"For {item.answering_body}" if item.answering_body else None


def _correction(detail: dict[str, str]) -> str | None:
    when = detail.get("date_corrected")
    by = detail.get("correcting_member")
    parts = ([f"on {long_date(when)}"] if when else []) + ([f"by {by}"] if by else [])
    return " ".join(parts) or None


def _mode(item: DigestItem) -> str:
    """Choose how the templates show what changed."""
    has_old = any(op in "=-" for op, _ in item.diff)
    if item.kind == ChangeKind.SOURCES_DISAGREE:
        return "disagree"
    if item.kind in PREVIEW_KINDS and item.new:
        return "preview"
    if item.field in TEXT_FIELDS and item.diff and has_old:
        return "diff"
    if item.field in TEXT_FIELDS and item.new:
        return "preview"
    if item.field and item.field not in FLAG_FIELDS and item.kind != ChangeKind.SOURCE_REMOVED and item.new:
        return "values"
    return "none"


def _value(value: str | None, field: str | None) -> str | None:
    if value is None:
        return None
    if field in TEXT_FIELDS:
        return shorten(value, PREVIEW_CHARS)
    return long_date(value)


def trim_diff(diff: Sequence[Sequence[str]], context: int = DIFF_CONTEXT) -> tuple[Segment, ...]:
    """Cut long unchanged runs of a word diff to about `context` characters each side of a change."""
    out: list[Segment] = []
    last = len(diff) - 1
    for index, (op, text) in enumerate(diff):
        if op == "=" and len(text) > 2 * context + 5:
            head = _head(text, context) if index > 0 else ""
            tail = _tail(text, context) if index < last else ""
            text = f"{head}…{tail}" if head or tail else _head(text, context) + "…"
        out.append((op, text))
    return tuple(out)


def _head(text: str, size: int) -> str:
    # Cut at a word boundary when one is near, so a trimmed run never ends mid-word.
    cut = text[:size]
    space = cut.rfind(" ")
    return cut[: space + 1] if space > size // 2 else cut


def _tail(text: str, size: int) -> str:
    cut = text[-size:]
    space = cut.find(" ")
    return cut[space:] if 0 <= space < size // 2 else cut


def shorten(text: str, limit: int) -> str:
    """Shorten text to about `limit` characters at a word boundary, marking the cut with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return _head(text, limit).rstrip() + "…"


def long_date(value: str) -> str:
    """Spell out an ISO date or date-time ("2026-11-03" -> "3 November 2026"); anything else as is."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}"


def web_url(url: str | None) -> str | None:
    """Return an http(s) URL unchanged, anything else (javascript:, data:, garbage) as None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None
