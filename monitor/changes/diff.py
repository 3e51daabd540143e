"""Differs: pure functions over normalised text with one result shape (`Diff`)."""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

# One result shape: a list of [op, text] with op "=" (same), "-" (removed) or "+" (added).
Diff = list[list[str]]
_TOKENS = re.compile(r"\s+|[^\s]+")
_OPS = {
    diff_match_patch.DIFF_EQUAL: "=",
    diff_match_patch.DIFF_DELETE: "-",
    diff_match_patch.DIFF_INSERT: "+",
}
_CODES = {op: code for code, op in _OPS.items()}


def word_diff(old: str | None, new: str | None) -> Diff:
    """Return the word-level difference between two texts, whitespace kept with the words.

    Words and whitespace runs are each mapped to one character (diff-match-patch's "line mode"
    trick, applied to words), the character strings diffed, then semantically cleaned up so a
    rewritten passage comes out as one deletion then one insertion rather than interleaved words.
    """
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0  # deterministic: never trade quality for time on question-sized texts
    vocabulary: dict[str, str] = {}
    tokens: list[str] = []

    def encode(text: str) -> str:
        chars = []
        for token in _TOKENS.findall(text):
            if token not in vocabulary:
                # Private-use code points: never surrogates, never confused with real text.
                n = len(tokens)
                vocabulary[token] = chr(0xE000 + n if n < 0x1900 else 0xF0000 + n)
                tokens.append(token)
            chars.append(vocabulary[token])
        return "".join(chars)

    a, b = encode(old or ""), encode(new or "")
    decode = {char: token for token, char in vocabulary.items()}
    coded = dmp.diff_main(a, b, False)
    dmp.diff_cleanupSemantic(coded)
    texts = [(code, "".join(decode[char] for char in chars)) for code, chars in coded]
    # Shift single edits to word boundaries now that the real text is back (the coded pass could
    # not see whitespace), then regroup into phrases and tidy their edges.
    dmp.diff_cleanupSemanticLossless(texts)
    out: Diff = []
    for code, text in texts:
        _push(out, _OPS[code], text)
    return _tidy(phrases(out))


def phrases(diff: Diff) -> Diff:
    """Regroup a diff into phrases: runs of changes separated only by unchanged whitespace become
    one deletion then one insertion. Old events store word-interleaved diffs; rendering through
    this reads them as the new differ would have written them."""
    out: Diff = []
    index = 0
    while index < len(diff):
        op, text = diff[index]
        if op == "=":
            _push(out, "=", text)
            index += 1
            continue
        removed, added, end = "", "", index
        pending = ""  # whitespace-only unchanged text between two changes
        while end < len(diff):
            kind, part = diff[end]
            if kind == "=":
                if part.isspace() and end + 1 < len(diff) and diff[end + 1][0] != "=":
                    pending += part
                    end += 1
                    continue
                break
            if pending:
                removed, added, pending = removed + pending, added + pending, ""
            if kind == "-":
                removed += part
            else:
                added += part
            end += 1
        _push(out, "-", removed)
        _push(out, "+", added)
        index = end
    return out


def _tidy(diff: Diff) -> Diff:
    """Move whitespace shared by both edges of a replacement out into the unchanged text."""
    out: Diff = []
    index = 0
    while index < len(diff):
        op, text = diff[index]
        if op == "-" and index + 1 < len(diff) and diff[index + 1][0] == "+":
            added = diff[index + 1][1]
            lead = _common_space(text, added, leading=True)
            trail = _common_space(text[len(lead) :], added[len(lead) :], leading=False)
            _push(out, "=", lead)
            _push(out, "-", text[len(lead) : len(text) - len(trail)])
            _push(out, "+", added[len(lead) : len(added) - len(trail)])
            _push(out, "=", trail)
            index += 2
            continue
        _push(out, op, text)
        index += 1
    return out


def _common_space(a: str, b: str, leading: bool) -> str:
    pattern = r"^\s*" if leading else r"\s*$"
    first, second = re.search(pattern, a), re.search(pattern, b)
    x, y = (first.group() if first else ""), (second.group() if second else "")
    common = ""
    for p, q in zip(x if leading else reversed(x), y if leading else reversed(y), strict=False):
        if p != q:
            break
        common += p
    # Never empty a side entirely: a side that is all whitespace keeps it.
    if len(common) >= min(len(a), len(b)):
        return ""
    return common if leading else common[::-1]


def _push(out: Diff, op: str, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == op:
        out[-1][1] += text
    else:
        out.append([op, text])


def _cut(diff: Diff, context: int | None) -> Diff:
    """Regroup into phrases and cut long unchanged runs to `context` characters each side."""
    grouped = phrases([[op, text] for op, text in diff])
    if context is None:
        return grouped
    out: Diff = []
    for index, (op, text) in enumerate(grouped):
        if op == "=" and len(text) > 2 * context + 5:
            head = text[:context] if index > 0 else ""
            tail = text[-context:] if index < len(grouped) - 1 else ""
            text = f"{head}…{tail}" if head or tail else text[:context] + "…"
        out.append([op, text])
    return out


def _needs_space(removed: str, added: str) -> bool:
    """A deletion directly followed by an insertion reads as two words glued together unless one
    of them carries the space between them."""
    return not (removed[-1:].isspace() or added[:1].isspace())


def render_diff_text(diff: Diff, context: int | None = 80) -> str:
    """Render a diff for a terminal or a text mail: [-removed-] {+added+}, long unchanged runs cut
    to `context` characters each side of a change (None keeps everything)."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    grouped = _cut(diff, context)
    out = []
    for index, (op, text) in enumerate(grouped):
        if op == "+" and index > 0 and grouped[index - 1][0] == "-":
            if _needs_space(grouped[index - 1][1], text):
                out.append(" ")
        out.append(marks[op].format(text))
    return "".join(out)


def render_diff_html(diff: Diff, del_style: str | None = None, ins_style: str | None = None) -> Markup:
    """Render a diff as escaped HTML with <del> and <ins> (inline `style` attributes when given,
    for mail clients that drop style sheets), regrouped into phrases like the text rendering."""
    del_open = Markup('<del style="{}">').format(del_style) if del_style else Markup("<del>")
    ins_open = Markup('<ins style="{}">').format(ins_style) if ins_style else Markup("<ins>")
    grouped = phrases([[op, text] for op, text in diff])
    out: list[Markup] = []
    for index, (op, text) in enumerate(grouped):
        if op == "=":
            out.append(escape(text))
        elif op == "-":
            out.append(del_open + escape(text) + Markup("</del>"))
        else:
            if index > 0 and grouped[index - 1][0] == "-" and _needs_space(grouped[index - 1][1], text):
                out.append(Markup(" "))
            out.append(ins_open + escape(text) + Markup("</ins>"))
    return Markup("").join(out)
