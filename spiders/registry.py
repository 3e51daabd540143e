"""Every source pqwatch reads, named once: which spider crawls it, which pure parser reads it,
whether it is the official record, and which copy wins when sources disagree.

This module loads neither Scrapy nor a parser (the CLI checks source names with it before a crawl
starts); parsers are named by dotted path and loaded with `load_parser`.

Adding an official source is one folder under spiders/sources/<slug>/ (its spider, its parsers),
one entry in SPIDERS and one in KINDS; its saved pages go in tests/fixtures/<slug>/ and its tests
in tests/spiders/sources/<slug>/."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.terms import SourceKind


@dataclass(frozen=True)
class SpiderSpec:
    """One spider: what `pqwatch crawl NAME` and `python -m spiders.run NAME` call it, and where
    it lives (spiders/sources/<slug>/spider.py)."""

    name: str  # Scrapy's spider name: the command line's word for the source
    slug: str  # the source's folder, fixture folder and test folder

    @property
    def module(self) -> str:
        """The module Scrapy loads the spider from."""
        return f"spiders.sources.{self.slug}.spider"


@dataclass(frozen=True)
class KindSpec:
    """One kind of stored source (`sources.kind`)."""

    spider: str  # the SpiderSpec name that crawls it
    # "module:parse_body": re-derives a stored raw body's records, `(body, url) -> records`;
    # the module's PARSER_ID fingerprints the code that does it
    parser: str
    official: bool  # Parliament's own record (else a republished copy)
    rank: int  # 0 wins: a question's current view takes each field from the best-ranked copy

    @property
    def parser_module(self) -> str:
        """The module of the kind's parser."""
        return self.parser.partition(":")[0]

    def parser_id(self) -> str:
        """The current PARSER_ID of the kind's parser (imports the parser)."""
        parser_id: str = importlib.import_module(self.parser_module).PARSER_ID
        return parser_id


SPIDERS: dict[str, SpiderSpec] = {
    spec.name: spec
    for spec in (
        SpiderSpec(name="blog", slug="blog"),
        # The command line says "parliament" for the Written Questions API (DESIGN.md's contract).
        SpiderSpec(name="parliament", slug="api"),
        SpiderSpec(name="pages", slug="pages"),
        # Written statements that correct answers: links, not versions, so no kind below
        # (stored by the pipeline in statement_links, joined by monitor.changes.corrections).
        SpiderSpec(name="statements", slug="statements"),
    )
}

KINDS: dict[SourceKind, KindSpec] = {
    SourceKind.API: KindSpec("parliament", "spiders.sources.api.parse:parse_body", True, 0),
    SourceKind.HTML: KindSpec("pages", "spiders.sources.pages.parse_html:parse_body", True, 1),
    SourceKind.HANSARD: KindSpec("pages", "spiders.sources.pages.parse_hansard:parse_body", True, 2),
    SourceKind.BLOG: KindSpec("blog", "spiders.sources.blog.parse:parse_body", False, 3),
}

# Official kinds, best first: the copy a blog copy is compared with.
OFFICIAL_KINDS: tuple[SourceKind, ...] = tuple(
    sorted((kind for kind, spec in KINDS.items() if spec.official), key=lambda kind: KINDS[kind].rank)
)


def rank(kind: str) -> int:
    """How a copy of this kind ranks when a question's copies are merged (lower wins)."""
    spec = KINDS.get(SourceKind(kind)) if kind in SourceKind._value2member_map_ else None
    return spec.rank if spec is not None else len(KINDS)


def load_parser(kind: SourceKind) -> Callable[..., tuple[Any, ...]]:
    """Import and return the parser of a source kind: `parse_body(body, url, content_type=None)`,
    a stored raw body's AnswerRecords; ValueError when the body is unreadable."""
    module, _, function = KINDS[kind].parser.partition(":")
    parser: Callable[..., tuple[Any, ...]] = getattr(importlib.import_module(module), function)
    return parser


def parser_id(kind: SourceKind) -> str:
    """The current PARSER_ID of a source kind's parser: what its new versions record."""
    return KINDS[kind].parser_id()
