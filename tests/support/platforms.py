"""Saved blog sites, one folder per platform under tests/fixtures/blog/platforms/<platform>/.

Each folder holds the platform's pages as it renders them (written by us in the structure of its
public templates) and a site.json:

    {"start": "/",                                  # the URL a user would give `crawl blog`
     "pages": {"/": "home.html", "/page/2/": "page2.html", "/2024/03/05/a-post/": "post1.html"},
     "content_types": {"/feed/": "application/rss+xml"},   # optional; else guessed from the path
     "answers": {"/2024/03/05/a-post/": ["HL1234", "HL1235"], "/2024/02/01/news/": []},
     "furniture": ["Leave a comment", "Related posts"]}   # words only the furniture carries

Pages write the site's own address as {{SITE}} (replaced by the local server's). Inside every
piece of furniture (comments, related posts, share bar, cookie banner, sidebar) the page carries an
`<!--furniture-->` comment, where a test writes other text to check it never reaches an answer or a
fingerprint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PLATFORMS = Path(__file__).parent.parent / "fixtures" / "blog" / "platforms"
SITE = "{{SITE}}"
FURNITURE_MARK = "<!--furniture-->"


@dataclass(frozen=True)
class SavedSite:
    """One platform's saved site."""

    name: str
    start: str
    pages: dict[str, str]  # path -> file name
    content_types: dict[str, str]
    answers: dict[str, list[str]]  # post path -> the UINs it carries
    furniture: list[str]

    def html(self, path: str, base: str) -> str:
        """A page's text with the site's address in place."""
        return (PLATFORMS / self.name / self.pages[path]).read_text(encoding="utf-8").replace(SITE, base)

    def served(self, base: str) -> dict[str, bytes]:
        """Every page, as a LocalSite serves them."""
        return {path: self.html(path, base).encode() for path in self.pages}


def saved_sites() -> list[str]:
    """The platforms with a saved site."""
    return sorted(path.parent.name for path in PLATFORMS.glob("*/site.json"))


def saved_site(name: str) -> SavedSite:
    """Load one platform's saved site."""
    spec = json.loads((PLATFORMS / name / "site.json").read_text(encoding="utf-8"))
    return SavedSite(
        name=name,
        start=spec["start"],
        pages=spec["pages"],
        content_types=spec.get("content_types", {}),
        answers=spec["answers"],
        furniture=spec.get("furniture", []),
    )


def refurnished(html: str, text: str) -> str:
    """The page with `text` written into every piece of its furniture."""
    return html.replace(FURNITURE_MARK, f"{FURNITURE_MARK}<p>{text}</p>")
