"""Differs: pure functions over normalised text with one result shape (`Diff`)."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

# One result shape: a list of [op, text] with op "=" (same), "-" (removed) or "+" (added).
Diff = list[list[str]]
_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str | None, new: str | None) -> Diff:
    """Return the word-level difference between two texts, whitespace kept with the words."""
    a = _TOKENS.findall(old or "")
    b = _TOKENS.findall(new or "")
    out: Diff = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            _push(out, "=", "".join(a[i1:i2]))
        else:
            _push(out, "-", "".join(a[i1:i2]))
            _push(out, "+", "".join(b[j1:j2]))
    return out


def _push(out: Diff, op: str, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == op:
        out[-1][1] += text
    else:
        out.append([op, text])


def render_diff_text(diff: Diff, context: int | None = 80) -> str:
    """Render a diff for a terminal or a text mail: [-removed-]{+added+}, long unchanged runs cut
    to `context` characters each side of a change (None keeps everything)."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    out = []
    for index, (op, text) in enumerate(diff):
        if op == "=" and context is not None and len(text) > 2 * context + 5:
            head = text[:context] if index > 0 else ""
            tail = text[-context:] if index < len(diff) - 1 else ""
            text = f"{head}…{tail}" if head or tail else text[:context] + "…"
        out.append(marks[op].format(text))
    return "".join(out)
