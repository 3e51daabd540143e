"""Which official page a URL is, and which pure parser reads it (no Scrapy here: the CLI checks
URLs with it before any crawl starts)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from spiders.records import AnswerRecord
from spiders.sources.pages.parse_hansard import parse_historic_hansard
from spiders.sources.pages.parse_html import parse_wq_detail_page
from storage.terms import SourceKind

# source kind -> (how to recognise its URLs, its parser)
PAGE_KINDS: dict[SourceKind, tuple[Callable[[str], bool], Callable[[str, str], list[AnswerRecord]]]] = {
    SourceKind.HTML: (
        lambda url: "/written-questions/detail/" in urlsplit(url).path,
        lambda text, url: [parse_wq_detail_page(text, url)],
    ),
    SourceKind.HANSARD: (
        lambda url: "/historic-hansard/" in urlsplit(url).path,
        parse_historic_hansard,
    ),
}


def page_kind(url: str) -> SourceKind | None:
    """Return the kind of official page a URL is (SourceKind.HTML or .HANSARD), or None."""
    return next((kind for kind, (matches, _) in PAGE_KINDS.items() if matches(url)), None)
