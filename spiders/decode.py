"""Turn a response body into text, catching charsets that lie and bytes that are not text."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.I)
_LATIN = {"iso8859-1", "cp1252", "latin-1", "iso8859-15", "ascii"}


class UndecodableError(ValueError):
    """The body is not valid text in any charset it could be."""


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str | None]:
    """Return (text, note): note explains a charset that lied and was corrected, else None.

    Raises UndecodableError for bytes that are neither the declared charset nor UTF-8.
    """
    meta = _META_CHARSET.search(body[:4096])
    declared = header_charset or (meta[1].decode("ascii") if meta else None) or "utf-8"
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        name = "utf-8"
    if body.startswith(codecs.BOM_UTF8):
        body, name = body[len(codecs.BOM_UTF8) :], "utf-8"
    if name != "utf-8":
        # Why: a page sent as Latin-1 that is really UTF-8 turns "’" into "â€™"; UTF-8 with
        # non-ASCII bytes that decodes cleanly is almost never meant as Latin-1.
        if name in _LATIN and not body.isascii():
            try:
                return body.decode("utf-8"), f"declared charset {declared} but the page is UTF-8"
            except UnicodeDecodeError:
                pass
        try:
            return body.decode(name), None
        except UnicodeDecodeError:
            pass
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UndecodableError(
            f"invalid {declared} bytes at offset {error.start} (not {declared}, not UTF-8)"
        ) from None
    note = None if name == "utf-8" else f"declared charset {declared} but the page is UTF-8"
    return text, note
