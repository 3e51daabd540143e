"""Small hand-made WordPress-style pages for crawl tests (the generator covers the big corpus)."""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, fields, replace
from datetime import date, datetime
from functools import cache
from html import escape
from pathlib import Path

from sqlalchemy import select

from monitor.cli import main
from monitor.notify.model import SECTIONS, DigestContext, DigestItem, DigestSection
from spiders.records import AnswerRecord
from storage.db import open_database
from storage.models import CrawlRun
from storage.terms import minute_text

# Saved pages and records, a folder per source slug (blog, api, pages/html, pages/hansard); golden mails.
FIXTURES = Path(__file__).parents[1] / "fixtures"

SIDEBAR = (
    '<div id="sidebar"><div class="et_pb_widget"><h4>Lord David Alton</h4><p>For 18 years David '
    'Alton was a Member of the House of Commons.</p></div><div class="et_pb_widget"><h4>Recent '
    'Posts</h4><ul><li><a href="/x/">Lord True, the Cabinet Office, has provided the following '
    "answer to your written parliamentary question (HL9999)</a></li></ul></div></div>"
)


def email(
    uin: str,
    tabled: str,
    answered: str,
    answer: str,
    minister: str = "Baroness Williams of Trafford",
    body: str = "the Home Office",
) -> list[str]:
    """The paragraphs of one Lords notification e-mail."""
    return [
        f"{minister}, {body}, has provided the following answer to your written parliamentary"
        f" question ({uin}):",
        "Question:",
        f"To ask His Majesty’s Government what steps they are taking on {uin}. ({uin})",
        f"Tabled on: {tabled}",
        "Answer:",
        minister,
        answer,
        f"Date and time of answer: {answered}.",
    ]


def post(
    base: str,
    path: str,
    paragraphs: list[str],
    *,
    footer: str = "Page generated 1",
    shares: int = 3,
    comments: tuple[str, ...] | list[str] = (),
    charset: str = "UTF-8",
) -> str:
    """A single-post page with sidebar, share count, nonce script, comments and footer."""
    content = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    comment_html = "".join(f'<li class="comment"><p>{escape(c)}</p></li>' for c in comments)
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>Post</title>'
        f'<link rel="canonical" href="{base}{path}"></head>'
        f'<body class="post-template-default single single-post"><div id="main-content">'
        f'<article class="et_pb_post post"><h1 class="entry-title">Post</h1>'
        f'<p class="post-meta"><span class="published">Sep 21, 2021</span></p>'
        f'<div class="entry-content">{content}</div>'
        f'<div class="et_social_inline">Share This <span class="et_social_count">{shares}</span></div>'
        f'</article><div id="comments"><ol class="commentlist">{comment_html}</ol></div>'
        f'{SIDEBAR}</div><script nonce="{footer}">var x=1;</script>'
        f'<footer id="main-footer">{escape(footer)}</footer></body></html>'
    )


def listing(links: list[str], older: str | None = None) -> str:
    """A listing page linking posts, with an "Older Entries" link."""
    articles = "".join(
        f'<article class="et_pb_post post"><h2 class="entry-title"><a href="{href}">Post</a></h2></article>'
        for href in links
    )
    nav = f'<div class="alignleft"><a href="{older}">« Older Entries</a></div>' if older else ""
    return f'<html><body class="home blog">{articles}{nav}{SIDEBAR}</body></html>'


P1 = "/2021/09/21/hikvision/"
P2 = "/2021/09/22/sudan/"
P3 = "/2021/09/23/news/"


def site_pages(
    base: str,
    *,
    answer1: str = "I will meet the Commissioner shortly.",
    answered2: str = "22 Sep 2021 at 10:15",
    footer: str = "gen 1",
    shares: int = 3,
    comments: tuple[str, ...] = (),
) -> dict[str, bytes]:
    """Three posts on two listing pages, plus a feed."""
    pages = {
        P1: post(
            base,
            P1,
            email("HL2472", "07 September 2021", "21 Sep 2021 at 15:56", answer1),
            footer=footer,
            shares=shares,
            comments=list(comments),
        ),
        P2: post(
            base,
            P2,
            email(
                "HL2500",
                "08 September 2021",
                answered2,
                "Aid is arriving.",
                minister="Lord Ahmad of Wimbledon",
                body="the Foreign, Commonwealth and Development Office",
            )
            + ["=" * 25]
            + email(
                "HL2501",
                "08 September 2021",
                "22 Sep 2021 at 10:16",
                "More aid.",
                minister="Lord Ahmad of Wimbledon",
                body="the Foreign, Commonwealth and Development Office",
            ),
            footer=footer,
        ),
        P3: post(base, P3, ["A meeting in Parliament about Hong Kong."], footer=footer),
        "/": listing([P1, P2], older="/page/2/"),
        "/page/2/": listing([P3, f"{P1}page/2/?et_blog", "/?p=25324"]),
        "/feed/": (
            f'<?xml version="1.0"?><rss version="2.0"><channel><item><link>{base}{P2}</link></item>'
            f"</channel></rss>"
        ),
    }
    return {path: body.encode() for path, body in pages.items()}


# --- one stored answer ------------------------------------------------------------------

ANSWER = AnswerRecord(
    house="Lords",
    uin="HL2472",
    date_tabled=date(2021, 9, 7),
    question_text="To ask Her Majesty's Government whether they have met the Commissioner.",
    answer_text="I will be meeting the Commissioner shortly.",
    answering_member="Baroness Williams of Trafford",
    answering_body="Home Office",
    date_answered=date(2021, 9, 21),
    answered_at=datetime(2021, 9, 21, 15, 56),
)
URL = "https://blog.example/2021/09/21/hikvision/"


# --- a manual blog crawl through the CLI ------------------------------------------------


def crawl(db_url: str, *urls: str, capfd=None) -> tuple[int, str]:
    args = ["--db", db_url, "crawl", "blog", "--delay", "0"]
    for url in urls:
        args += ["--start-url", url]
    status = main(args)
    out = capfd.readouterr() if capfd else None
    return status, (out.out + out.err) if out else ""


# --- digest contexts ----------------------------------------------------------------------

BASE = "https://pqwatch.example.org"
OFFICIAL = "https://questions-statements.parliament.uk/written-questions/detail"
BLOG = "https://answers.example.net/2026/11"

LONG_SAME = (
    "The Department keeps the funding formula under review and publishes the allocations for every "
    "local authority each year, together with the technical note that explains how each factor is "
    "weighted and how the minimum funding guarantee is applied. "
)


def item(event_id: int, kind: str, **fields: object) -> DigestItem:
    """A digest item with plausible defaults; keyword arguments override any field."""
    uin = str(fields.pop("uin", 100000 + event_id))
    values: dict[str, object] = {
        "event_id": event_id,
        "kind": kind,
        "house": "Commons",
        "uin": uin,
        "date_tabled": "2026-11-03",
        "heading": "Schools: Finance",
        "question_text": "To ask the Secretary of State for Education, what assessment she has made of "
        "the adequacy of funding for schools in rural areas.",
        "answering_member": "Catherine McKinnell",
        "answering_body": "Department for Education",
        "field": None,
        "old": None,
        "new": None,
        "diff": (),
        "source_kind": "blog",
        "source_url": f"{BLOG}/schools-finance-{uin}/",
        "official_url": f"{OFFICIAL}/2026-11-03/{uin}",
        "question_url": f"{BASE}/questions/commons/{uin}",
        "detected_at": "2026-11-30T06:00Z",
    }
    values.update(fields)
    return DigestItem(**values)  # type: ignore[arg-type]


def every_section_items() -> dict[str, tuple[DigestItem, ...]]:
    """Items for every digest section, covering each way a change is shown."""
    full_answer = "The Environment Agency will complete repairs to the Parrett embankment by March 2027."
    first_answer = "The Government is increasing core schools funding by £2.3 billion in 2026-27."
    return {
        "answered": (
            item(1, "answered", field="answer_text", new=first_answer, diff=(("+", first_answer),)),
            item(
                2,
                "holding_replaced",
                house="Lords",
                uin="HL4021",
                heading="Flood Defences: Somerset",
                question_text="To ask His Majesty's Government what plans they have to repair the flood "
                "defences on the River Parrett.",
                answering_member="Baroness Hayman of Ullock",
                answering_body="Department for Environment, Food and Rural Affairs",
                field="answer_text",
                old="I will reply as soon as possible.",
                new=full_answer,
                diff=(
                    ("-", "I will reply as soon as possible."),
                    ("+", full_answer),
                ),
                source_kind="api",
                source_url="https://questions-statements-api.parliament.uk/api/writtenquestions/questions/2",
                official_url=f"{OFFICIAL}/2026-11-04/HL4021",
                question_url=f"{BASE}/questions/lords/HL4021",
            ),
        ),
        "corrected": (
            item(
                3,
                "corrected",
                field="answer_text",
                old="Funding will rise by £3 million.",
                new="Funding will rise by £4 million.",
                diff=(("=", "Funding will rise by "), ("-", "£3"), ("+", "£4"), ("=", " million.")),
                detail=(("date_corrected", "2026-11-28"), ("correcting_member", "Catherine McKinnell")),
                source_kind="api",
                source_url="https://questions-statements-api.parliament.uk/api/writtenquestions/questions/3",
            ),
        ),
        "changed": (
            item(
                4,
                "answer_text_changed",
                field="answer_text",
                old=LONG_SAME + "Allocations for 2027-28 will be published in December." + " " + LONG_SAME,
                new=LONG_SAME + "Allocations for 2027-28 will be published in January." + " " + LONG_SAME,
                diff=(
                    ("=", LONG_SAME + "Allocations for 2027-28 will be published in "),
                    ("-", "December."),
                    ("+", "January."),
                    ("=", " " + LONG_SAME),
                ),
            ),
            item(
                5,
                "answering_member_changed",
                field="answering_member",
                old="Stephen Morgan",
                new="Catherine McKinnell",
            ),
        ),
        "dates": (
            item(
                6,
                "answer_date_changed",
                field="answered_at",
                old="2026-11-20T09:30",
                new="2026-11-21T14:05",
            ),
        ),
        "holding": (
            item(7, "holding_answer", field="is_holding", old="false", new="true", answering_member=None),
            item(
                8,
                "answering_body_changed",
                field="answering_body",
                old="Department for Education",
                new="HM Treasury",
                answering_member=None,
                answering_body="HM Treasury",
            ),
        ),
        "disagree": (
            item(
                9,
                "sources_disagree",
                field="answer_text",
                old="The scheme will open on 1 April 2027.",
                new="The scheme will open on 1 May 2027.",
                diff=(("=", "The scheme will open on 1 "), ("-", "April"), ("+", "May"), ("=", " 2027.")),
                detail=(("official_url", f"{OFFICIAL}/2026-11-03/100009"), ("official_kind", "html")),
                official_url=None,
            ),
            item(
                10,
                "sources_disagree",
                field="date_answered",
                old="2026-11-20",
                new="2026-11-21",
                detail=(("official_url", f"{OFFICIAL}/2026-11-03/100010"), ("official_kind", "html")),
            ),
        ),
    }


def context_of(items: dict[str, tuple[DigestItem, ...]], period: str = "30 November 2026") -> DigestContext:
    """A daily digest context holding `items` by section key, in SECTIONS order."""
    sections = tuple(
        DigestSection(key, title, items[key]) for key, (title, _kinds) in SECTIONS.items() if key in items
    )
    return DigestContext(
        email="reader@example.org",
        frequency="daily",
        period_label=period,
        sections=sections,
        total=sum(len(section.items) for section in sections),
        unsubscribe_url=f"{BASE}/unsubscribe/tok-123",
        manage_url=f"{BASE}/manage/tok-456",
        base_url=BASE,
    )


def one_item_context(**fields: object) -> DigestContext:
    """A digest of one corrected answer, with fields of the item overridden."""
    return context_of({"corrected": (replace(every_section_items()["corrected"][0], **fields),)})  # type: ignore[arg-type]


# --- saved pages: <name>.html beside <name>.expected.json ---------------------------------------


def saved_cases(folder: Path) -> list[str]:
    """The names of a fixture folder's saved pages, sorted."""
    return sorted(path.name.removesuffix(".html") for path in folder.glob("*.html"))


@cache
def saved_expected(folder: Path, name: str) -> dict:  # type: ignore[type-arg]
    """What a saved page must parse to (its .expected.json)."""
    return json.loads((folder / f"{name}.expected.json").read_text(encoding="utf-8"))


def saved_html(folder: Path, name: str) -> str:
    """A saved page's HTML."""
    return (folder / f"{name}.html").read_text(encoding="utf-8")


RECORD_FIELDS = [f.name for f in fields(AnswerRecord)]


def record_json(record: AnswerRecord) -> dict:  # type: ignore[type-arg]
    """A record as the expectations (and the export contract) spell values: ISO dates, times to
    the minute, lists, attachments as objects."""
    out = {}
    for name in RECORD_FIELDS:
        value = getattr(record, name)
        if isinstance(value, datetime):
            value = minute_text(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif name == "attachments":
            value = [asdict(attachment) for attachment in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


TEN_POSTS = [f"/2021/10/{n + 1:02d}/answer/" for n in range(10)]


def ten_answer_blog(base: str, changed: int = 0) -> dict[str, bytes]:
    """A blog of ten posts (TEN_POSTS), each one pasted answer (HL4000…HL4009), and a listing;
    the first `changed` answers read "revised" instead of "as given"."""
    pages = {
        path: post(
            base,
            path,
            email(
                f"HL{4000 + n}",
                "07 September 2021",
                "21 Sep 2021 at 15:56",
                f"Answer {n}, {'revised' if n < changed else 'as given'}.",
            ),
        )
        for n, path in enumerate(TEN_POSTS)
    }
    pages["/"] = listing(TEN_POSTS)
    return {path: text.encode() for path, text in pages.items()}


def crawl_runs(db_url: str) -> list[CrawlRun]:
    """Every crawl run the database records, oldest first."""
    with open_database(db_url)() as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (just closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
