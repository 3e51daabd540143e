"""Differs: pure functions over normalised text with one result shape, registered by name."""

from __future__ import annotations

import re
from collections.abc import Callable
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


def render_diff_text(diff: Diff) -> str:
    """Render a diff for a terminal or a text mail: [-removed-]{+added+}."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return "".join(marks[op].format(text) for op, text in diff)


DIFFERS: dict[str, Callable[[str | None, str | None], Diff]] = {"words": word_diff}
