"""What the command line prints: JSON documents and the history text (the CSV export is
monitor/queries/export.py's)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, Protocol, TextIO

from monitor.changes.diff import render_diff_text, word_diff
from monitor.queries.views import QuestionHistory, VersionView, iso, utc_text
from storage.terms import VersionStatus

# What `history --diff` shows of a version: word diffs of the texts, old -> new of these fields.
DIFF_TEXTS = ("question_text", "answer_text")
DIFF_FIELDS = ("date_answered", "answered_at", "answering_member", "answering_body")


class JsonView(Protocol):
    """A typed view with its contract form."""

    def as_json(self) -> dict[str, Any]:
        """The view as the command line prints it."""
        ...


def write_json(views: Iterable[JsonView], out: TextIO) -> None:
    """Print views as one JSON array (one-space indent, UTF-8 kept), then a newline."""
    json.dump([view.as_json() for view in views], out, ensure_ascii=False, indent=1)
    out.write("\n")


def history_lines(history: Iterable[QuestionHistory], diff: bool = False) -> Iterator[str]:
    """The lines of `pqwatch history`: each question, each version, and what it says (or, with
    `diff`, what changed since the same source's previous present version)."""
    for question in history:
        yield f"{question.house} {question.uin} tabled {question.date_tabled or 'unknown'}"
        for label, links in (("follows", question.follows), ("followed by", question.followed_by)):
            if links:
                yield f"  {label}: " + ", ".join(f"{uin} (tabled {day or 'unknown'})" for uin, day in links)
        previous: dict[tuple[str, str], VersionView] = {}
        for version in question.versions:
            yield (
                f"  v{version.seq} {utc_text(version.observed_at)} {version.status:<8}"
                f" {version.source_kind} {version.source_url}"
            )
            key = (version.source_kind, version.source_url)
            before = previous.get(key)
            if version.status != VersionStatus.PRESENT:
                continue
            if version.rebaseline:
                yield f"    re-baseline: read again by parser {version.parser}, nothing new (not mailed)"
            if diff and before is not None:
                yield from _changed_lines(before, version)
            else:
                if not diff:
                    yield from _text_lines(version)
                answered = iso(version.answered_at) or iso(version.date_answered) or "-"
                yield (
                    f"    answered {answered} by {version.answering_member or '-'}"
                    f" ({version.answering_body or '-'})"
                )
                if not diff and version.answer_text:
                    yield from _wrapped("    Answer: ", version.answer_text)
            previous[key] = version


def _text_lines(version: VersionView) -> Iterator[str]:
    """What a version says before its answer: its heading, then who asked and the question."""
    if version.heading:
        yield f"    {version.heading}"
    if version.question_text:
        asked = f"    Question ({version.asking_member}): " if version.asking_member else "    Question: "
        yield from _wrapped(asked, version.question_text)


def _wrapped(label: str, text: str, width: int = 88) -> Iterator[str]:
    """A text wrapped for a terminal: the label on the first line, later lines and paragraphs
    indented under it, a blank line between paragraphs kept."""
    indent = " " * 6
    paragraphs = [part.strip() for part in text.splitlines()]
    first = True
    for paragraph in paragraphs:
        if not paragraph:
            continue
        if not first:
            yield ""
        lines = textwrap.wrap(
            paragraph, width=width, initial_indent=label if first else indent, subsequent_indent=indent
        )
        yield from lines
        first = False


def _changed_lines(before: VersionView, version: VersionView) -> Iterator[str]:
    for name in DIFF_TEXTS:
        old, new = getattr(before, name), getattr(version, name)
        if old != new:
            yield f"    {name}: {render_diff_text(word_diff(old, new))}"
    for name in DIFF_FIELDS:
        old, new = _shown(getattr(before, name)), _shown(getattr(version, name))
        if old != new:
            yield f"    {name}: {old} -> {new}"


def _shown(value: object) -> object:
    """A field's value as the contract prints it (dates and times in ISO form)."""
    return iso(value) if isinstance(value, date) else value
