"""The Atom feeds over real HTTP, on each engine, read back with feedparser as a reader reads them:
valid RFC 4287 with stable unique ids and UTC times, the word diff in each entry with scraped text
escaped, every subscription filter, one question's feed, conditional GET, at most 50 entries."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.web import feeds
from monitor.web.app import create_app
from tests.support.digests import add_events
from tests.support.feeds_api import (
    BASE_URL,
    C_7926,
    C_7927,
    FIRST,
    HOSTILE,
    THIRD,
    Api,
    request,
    running_api,
)
from tests.support.web import NOW, WEB_SECRET, serve_in_thread

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture
def site(db_url: str, sessions: sessionmaker[Session]) -> Iterator[Api]:
    """The app over the populated database (tests.support.feeds_api), served on 127.0.0.1."""
    with running_api(db_url, sessions) as running:
        yield running


def read(site: Api, path: str) -> feedparser.FeedParserDict:
    """Fetch a feed and parse it as a feed reader does; it must be well-formed Atom."""
    reply = site.get(path)
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(reply.body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def contents(site: Api, path: str) -> dict[str, str]:
    """Each entry's id and its content as the HTML it carries (the XML's text, unescaped once)."""
    root = ET.fromstring(site.get(path).body)
    found = {}
    for entry in root.iter(f"{ATOM}entry"):
        content = entry.find(f"{ATOM}content")
        assert content is not None and content.get("type") == "html"
        found[entry.findtext(f"{ATOM}id") or ""] = content.text or ""
    return found


def test_the_feed_is_valid_atom_with_stable_unique_ids_and_utc_times(site: Api) -> None:
    parsed = read(site, "/feeds/changes.atom")
    feed = parsed.feed
    assert feed.id == "tag:pqwatch.example,2024:feeds/changes"
    assert feed.title == "pqwatch: every change" and feed.author == "pqwatch"
    links = {link.rel: link.href for link in feed.links}
    assert links == {"self": f"{BASE_URL}/feeds/changes.atom", "alternate": f"{BASE_URL}/changes"}
    ids = [entry.id for entry in parsed.entries]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert all(re.fullmatch(r"tag:pqwatch\.example,2024:change/\d+", entry_id) for entry_id in ids)
    numbers = [int(entry_id.rsplit("/", 1)[1]) for entry_id in ids]
    assert numbers == sorted(numbers, reverse=True)  # newest first
    raw = ET.fromstring(site.get("/feeds/changes.atom").body)
    times = [element.text or "" for element in raw.iter(f"{ATOM}updated")]
    assert times and all(RFC3339_UTC.match(text) for text in times)
    assert feed.updated == times[0] == f"{THIRD:%Y-%m-%dT%H:%M:%S}Z"  # the newest entry's
    newest = parsed.entries[0]
    assert newest.title == "Lords HL2472: Answer text changed"
    assert newest.link == f"{BASE_URL}/questions/lords/HL2472?tabled=2021-09-07"
    assert newest.updated == f"{THIRD:%Y-%m-%dT%H:%M:%S}Z"
    assert [entry.title for entry in parsed.entries[-4:]] == [
        "Commons 7927: New question",
        "Commons 7926: New question",
        "Lords HL2472: New question",
        "Lords HL2472: New question",
    ]
    assert [entry.id for entry in read(site, "/feeds/changes.atom").entries] == ids  # read again: the same


def test_an_entry_carries_the_word_diff_with_scraped_text_escaped(site: Api) -> None:
    body = site.get("/feeds/changes.atom").body
    assert "<script" not in body and "<b>Cabinet" not in body
    html = next(text for text in contents(site, "/feeds/changes.atom").values() if "Commons 7926" in text)
    # The entry's HTML shows the markup as text: escaped in the HTML, then again in the XML.
    assert (
        "<ins> &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; {{ 7*7 }} &lt;/content&gt;]]&gt;</ins>"
        in html
    )
    assert "<script" not in html and "49" not in html
    assert f'<a href="{BASE_URL}/questions/commons/7926?tabled=2024-01-05">Commons 7926</a>' in html
    parsed = read(site, "/feeds/changes.atom")
    entry = next(e for e in parsed.entries if e.title == "Commons 7926: Answer text changed")
    assert "<script" not in entry.content[0].value and "&lt;script&gt;" in entry.content[0].value
    cabinet = next(e for e in parsed.entries if e.title == "Commons 7927: New question")
    assert "&lt;b&gt;Cabinet&lt;/b&gt; Office" in cabinet.content[0].value  # a name with markup, as text
    assert "To ask the Secretary of State" in cabinet.content[0].value  # a new question shows its text


def test_forbidden_xml_characters_in_scraped_text_keep_the_feed_well_formed(site: Api) -> None:
    add_events(site.sessions, replace(C_7927, answer_text="Held\x0b centrally \x1f not."), at=NOW)
    parsed = read(site, "/feeds/changes.atom?uin=7927&kind=answer_text_changed")
    assert [entry.title for entry in parsed.entries] == ["Commons 7927: Answer text changed"]


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        (
            "kind=answer_text_changed",
            ["Lords HL2472: Answer text changed", "Commons 7926: Answer text changed"],
        ),
        (
            "kind=new&kind=answer_text_changed&house=commons",
            ["Commons 7926: Answer text changed", "Commons 7927: New question", "Commons 7926: New question"],
        ),  # fmt: skip
        ("department=%3Cb%3Ecabinet", ["Commons 7927: New question"]),
        ("keyword=commissioner&kind=answer_text_changed", ["Lords HL2472: Answer text changed"]),
        ("member=sharpe&kind=new", ["Lords HL2472: New question", "Lords HL2472: New question"]),
        ("uin=7926", ["Commons 7926: Answer text changed", "Commons 7926: New question"]),
        ("department=Treasury", []),
    ],
)
def test_every_subscription_filter_narrows_the_feed(site: Api, query: str, titles: list[str]) -> None:
    assert [entry.title for entry in read(site, f"/feeds/changes.atom?{query}").entries] == titles


def test_a_filtered_feed_has_its_own_id_and_links_in_canonical_order(site: Api) -> None:
    parsed = read(site, "/feeds/changes.atom?kind=corrected&department=Home+Office&house=lords")
    query = "house=Lords&department=Home+Office&kind=corrected"
    assert parsed.feed.id == f"tag:pqwatch.example,2024:feeds/changes?{query}"
    assert {link.rel: link.href for link in parsed.feed.links} == {
        "self": f"{BASE_URL}/feeds/changes.atom?{query}",
        "alternate": f"{BASE_URL}/changes?{query}",
    }
    assert parsed.feed.title == "pqwatch: changes (House: Lords; Department: Home Office; Changes: corrected)"
    assert parsed.entries == [] and RFC3339_UTC.match(parsed.feed.updated)  # empty, still valid
    same = read(site, "/feeds/changes.atom?house=Lords&kind=corrected&department=home%20%20office")
    assert same.feed.id != parsed.feed.id  # a department is matched as written, in any case


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("house=Senate", "house=&#39;Senate&#39; is not one of Commons, Lords."),
        ("kind=renamed", "unknown change kind &#39;renamed&#39;"),
        ("thread=yes", "following a thread needs the UIN of a question in it."),
        ("thread=maybe&uin=7926", "thread=&#39;maybe&#39; is not yes or no."),
    ],
)
def test_a_bad_filter_is_a_400_that_names_it(site: Api, query: str, message: str) -> None:
    reply = site.get(f"/feeds/changes.atom?{query}")
    assert reply.status == 400 and message in reply.body


def test_a_questions_feed_has_every_session_or_the_one_tabled(site: Api) -> None:
    parsed = read(site, "/feeds/questions/lords/hl2472.atom")
    assert parsed.feed.id == "tag:pqwatch.example,2024:feeds/questions/lords/HL2472"
    assert {link.rel: link.href for link in parsed.feed.links} == {
        "self": f"{BASE_URL}/feeds/questions/lords/HL2472.atom",
        "alternate": f"{BASE_URL}/questions/lords/HL2472",
    }
    assert [entry.title for entry in parsed.entries] == [
        "Lords HL2472: Answer text changed",
        "Lords HL2472: New question",
        "Lords HL2472: New question",
    ]
    one = read(site, "/feeds/questions/Lords/HL2472.atom?tabled=2023-09-07")
    assert one.feed.id == "tag:pqwatch.example,2024:feeds/questions/lords/HL2472?tabled=2023-09-07"
    assert [entry.link for entry in one.entries] == [f"{BASE_URL}/questions/lords/HL2472?tabled=2023-09-07"]
    assert one.feed.subtitle == "Heading of HL2472"
    ids = {entry.id for entry in read(site, "/feeds/changes.atom").entries}
    assert {entry.id for entry in parsed.entries} <= ids  # an event has one id in every feed


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/questions/lords/HL9999.atom",
        "/feeds/questions/senate/HL2472.atom",
        "/feeds/questions/lords/HL2472.atom?tabled=2022-02-02",
    ],
)
def test_an_absent_questions_feed_is_a_404(site: Api, path: str) -> None:
    assert site.get(path).status == 404


def test_a_conditional_get_is_answered_304_until_a_new_change(site: Api) -> None:
    path = "/feeds/changes.atom?house=Commons"
    first = site.get(path)
    tag = first.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', tag)
    assert first.headers["Cache-Control"] == f"public, max-age={feeds.FEED_MAX_AGE}"
    unchanged = site.get(path, **{"If-None-Match": tag})
    assert unchanged.status == 304 and unchanged.body == "" and unchanged.headers["ETag"] == tag
    assert site.get(path, **{"If-None-Match": 'W/"0000", ' + tag}).status == 304
    assert site.get(path, **{"If-None-Match": tag.removeprefix("W/")}).status == 304  # weak comparison
    assert site.get(path, **{"If-None-Match": 'W/"other"'}).status == 200
    assert (
        site.get("/feeds/changes.atom?house=Lords", **{"If-None-Match": tag}).status == 200
    )  # other filters
    add_events(site.sessions, replace(C_7926, answer_text="Figures follow, revised."), at=NOW)
    changed = site.get(path, **{"If-None-Match": tag})
    assert changed.status == 200 and changed.headers["ETag"] != tag
    assert feedparser.parse(changed.body).entries[0].title == "Commons 7926: Answer text changed"
    lords = site.get("/feeds/changes.atom?house=Lords")
    assert (
        site.get("/feeds/changes.atom?house=Lords", **{"If-None-Match": lords.headers["ETag"]}).status == 304
    )


def test_a_feed_holds_at_most_its_entry_limit(site: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert feeds.FEED_ENTRIES == 50
    monkeypatch.setattr(feeds, "FEED_ENTRIES", 2)
    parsed = read(site, "/feeds/changes.atom")
    assert len(parsed.entries) == 2 and parsed.entries[0].title == "Lords HL2472: Answer text changed"
    assert len(read(site, "/feeds/questions/lords/HL2472.atom").entries) == 2


def test_a_feed_carries_the_security_and_cors_headers(site: Api) -> None:
    reply = site.get("/feeds/changes.atom")
    assert reply.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Access-Control-Expose-Headers"] == "ETag"
    head = request(site.url + "/feeds/changes.atom", method="HEAD")
    assert head.status == 200 and head.body == "" and head.headers["ETag"] == reply.headers["ETag"]


def test_times_are_utc_whatever_the_clock_says(sessions: sessionmaker[Session]) -> None:
    add_events(sessions, C_7927, at=FIRST + timedelta(minutes=1, seconds=30))
    app = create_app(sessions, WEB_SECRET, BASE_URL + ":8443/pq", clock=lambda: NOW)
    with serve_in_thread(app) as url:
        body = request(url + "/feeds/changes.atom").body
    parsed = feedparser.parse(body)
    assert not parsed.bozo and parsed.entries[0].updated == "2026-11-28T09:01:30Z"
    assert parsed.entries[0].id.startswith("tag:pqwatch.example,2024:change/")  # the host, not the port
    assert parsed.entries[0].link.startswith("https://pqwatch.example:8443/pq/questions/commons/7927")
    assert HOSTILE not in body and "Commons 7926" not in body
