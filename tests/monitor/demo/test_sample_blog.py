"""Tests for the sample blog generator (monitor.demo.sample_blog) and its server (monitor.demo.site)."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from monitor.demo.sample_blog import ADDENDA, MINISTERS, SampleBlog, generate_blog, main
from monitor.demo.site import LocalSite

N = 200
BASE = "http://127.0.0.1:8000"
POST_PATH = re.compile(r"^/(\d{4})/(\d\d)/(\d\d)/[a-z0-9-]+/$")
ANSWER = re.compile(
    r"<p>(?P<minister>[^<]+), the (?P<dept>[^<]+), has provided the following answer to your "
    r"written parliamentary question \((?P<uin>HL\d+)\):</p>\n"
    r"<p>(?P<label>Question:|Question by Lord Alton of Liverpool:)<br />\n"
    r"(?P<question>To ask [^<]+) \((?P=uin)\) </p>\n"
    r"<p>Tabled on: (?P<tabled>\d\d [A-Z][a-z]+ \d{4})</p>\n"
    r"<p>Answer:<br />\n(?P=minister)</p>\n"
    r"(?P<body>(?:<p>[^<]+</p>\n){1,4})"
    r"<p>Date and time of answer: (?P<answered>\d\d [A-Z][a-z]{2} \d{4} at \d\d:\d\d)\.</p>\n"
)
CHURN = re.compile(rb'nonce="[0-9a-f]+"|Page generated [0-9: -]+UTC|<lastBuildDate>[^<]+')


def post_paths(blog: SampleBlog) -> list[str]:
    """Permalink paths of all posts."""
    return [p for p in blog.pages if POST_PATH.match(p)]


def answers(body: bytes) -> dict[tuple[str, str], re.Match[str]]:
    """Written answers in a post body, keyed by (uin, tabled ISO date)."""
    found = {}
    for m in ANSWER.finditer(body.decode()):
        tabled = datetime.strptime(m["tabled"], "%d %B %Y").date().isoformat()
        assert (m["uin"], tabled) not in found
        found[m["uin"], tabled] = m
    return found


def without_churn(body: bytes) -> bytes:
    """A body with the furniture that changes on every page in every generation blanked out."""
    return CHURN.sub(b"", body)


@pytest.fixture(scope="module")
def gen1() -> SampleBlog:
    return generate_blog(N)


@pytest.fixture(scope="module")
def gen2() -> SampleBlog:
    return generate_blog(N, generation=2)


def test_generation_is_deterministic(gen1: SampleBlog) -> None:
    again = generate_blog(N)
    assert again.pages == gen1.pages and again.content_types == gen1.content_types
    assert gen1.manifest == [] and again.manifest == []
    assert generate_blog(N, seed=7).pages != gen1.pages


def test_site_shape(gen1: SampleBlog) -> None:
    posts = post_paths(gen1)
    assert len(posts) == N
    listings = ["/"] + [f"/page/{n}/" for n in range(2, N // 10 + 1)]
    assert set(gen1.pages) == set(posts) | set(listings) | {"/feed/", "/robots.txt"}
    assert gen1.pages["/robots.txt"] == b"User-agent: *\nDisallow: /wp-admin/\n"
    assert gen1.content_types["/feed/"].startswith("application/rss+xml")
    assert gen1.content_types["/"] == "text/html; charset=UTF-8"
    news = 0
    for path in posts:
        page = gen1.pages[path].decode()
        assert f'<link rel="canonical" href="{BASE}{path}">' in page
        assert '<meta property="og:type" content="article">' in page
        assert '<body class="post-template-default single single-post' in page
        assert '<article id="post-' in page and 'class="et_pb_post post type-post' in page
        assert re.search(
            r'<h1 class="entry-title">[^<]+</h1><p class="post-meta">'
            r'<span class="published">[A-Z][a-z]{2} \d{1,2}, 202[12]</span> \| <a ',
            page,
        )
        assert '<div class="entry-content">' in page and '<div id="sidebar">' in page
        for widget in ("Lord David Alton", "Subscribe to Blog", "Recent Posts"):
            assert f'<h4 class="widgettitle">{widget}</h4>' in page
        assert re.search(
            r'<div class="et_social_inline">Share This '
            r'<span class="et_social_count">\d+</span></div>',
            page,
        )
        assert re.search(r'<script nonce="[0-9a-f]{10}">', page)
        assert '<footer id="main-footer">' in page and "Page generated 2023-" in page
        news += "has provided the following answer" not in page
    assert 5 <= news <= 40  # about one post in ten is news without a written answer
    assert sum(b'<div id="comments"><h3' in gen1.pages[p] for p in posts) >= 10


def test_listing_pages_are_newest_first_and_paginated(gen1: SampleBlog) -> None:
    order = []
    for n in range(1, N // 10 + 1):
        page = gen1.pages["/" if n == 1 else f"/page/{n}/"].decode()
        assert '<body class="home blog' in page
        links = re.findall(r'<h2 class="entry-title"><a href="([^"]+)">', page)
        assert len(links) == 10 and page.count('<div class="post-content"><p>') == 10
        order += [link.removeprefix(BASE) for link in links]
        assert (f'<a href="{BASE}/page/{n + 1}/">« Older Entries</a>' in page) == (n < N // 10)
        assert ("Next Entries »</a>" in page) == (n > 1)
    assert sorted(order) == sorted(post_paths(gen1)) and len(set(order)) == N
    dates = [tuple(map(int, POST_PATH.match(p).groups())) for p in order]  # type: ignore[union-attr]
    assert dates == sorted(dates, reverse=True)
    widget = gen1.pages[order[-1]].decode().split("Recent Posts</h4>")[1].split("</ul>")[0]
    recent = re.findall(r'<li><a href="([^"]+)">', widget)
    assert [link.removeprefix(BASE) for link in recent] == order[:5]


def test_feed_is_rss_of_newest_posts(gen1: SampleBlog) -> None:
    channel = ET.fromstring(gen1.pages["/feed/"]).find("channel")
    assert channel is not None
    items = channel.findall("item")
    newest = re.findall(r'<h2 class="entry-title"><a href="([^"]+)">', gen1.pages["/"].decode())
    assert [i.findtext("link") for i in items] == newest
    for item in items:
        assert item.findtext("title") and item.findtext("guid", "").startswith(f"{BASE}/?p=")
        assert parsedate_to_datetime(item.findtext("pubDate", "")).year in (2021, 2022)


def test_answers_follow_the_lords_email_template(gen1: SampleBlog) -> None:
    pairs = {m: d for m, d in MINISTERS}
    seen: set[tuple[str, str]] = set()
    multi = 0
    for path in post_paths(gen1):
        body = gen1.pages[path]
        found = answers(body)
        # every answer header in the page is matched by the full template
        assert len(found) == body.count(b"has provided the following answer")
        assert not seen & found.keys(), "(uin, tabled) must be unique across the corpus"
        seen |= found.keys()
        if len(found) > 1:
            multi += 1
            assert re.search(rb"</p>\n<p>={19,30}</p>\n<p>", body)
        for (_, tabled), m in found.items():
            assert pairs[m["minister"]] == m["dept"]
            answered = datetime.strptime(m["answered"], "%d %b %Y at %H:%M")
            assert date(2021, 1, 1) <= date.fromisoformat(tabled) < answered.date()
            assert answered.year <= 2022
            assert "Majesty’s Government" in m["question"]
    assert len(seen) > N and multi > 10


def test_generation2_manifest_lists_the_answer_changes(gen1: SampleBlog, gen2: SampleBlog) -> None:
    kinds = Counter(m["kind"] for m in gen2.manifest)
    assert kinds == {"answer_text_changed": 4, "answer_date_changed": 3}  # 10 changes: 4/3/3
    listed = {(m["path"], m["uin"], m["date_tabled"]): m["kind"] for m in gen2.manifest}
    assert len(listed) == len(gen2.manifest)
    changed = {}
    edits: Counter[bool] = Counter()
    for path in post_paths(gen1):
        old, new = answers(gen1.pages[path]), answers(gen2.pages[path])
        assert old.keys() == new.keys()
        for key in old:
            a, b = old[key], new[key]
            if a[0] == b[0]:
                continue
            same_text = a["body"] == b["body"] and a["question"] == b["question"]
            kind = "answer_date_changed" if same_text else "answer_text_changed"
            if kind == "answer_date_changed":
                assert a["answered"] != b["answered"]
            else:
                assert a["answered"] == b["answered"]
                edits[any(extra in b["body"] for extra in ADDENDA)] += 1
            changed[(path, *key)] = kind
    assert changed == listed
    assert edits == {True: 2, False: 2}  # two sentences appended, two reworded


def test_generation2_changes_exactly_the_expected_posts(gen1: SampleBlog, gen2: SampleBlog) -> None:
    differ = [p for p in post_paths(gen1) if without_churn(gen1.pages[p]) != without_churn(gen2.pages[p])]
    assert len(differ) == round(0.05 * N)
    furniture = set(differ) - {m["path"] for m in gen2.manifest}
    assert len(furniture) == 3
    seen: Counter[str] = Counter()
    for path in furniture:
        old, new = gen1.pages[path].decode(), gen2.pages[path].decode()
        assert {k: m[0] for k, m in answers(old.encode()).items()} == {
            k: m[0] for k, m in answers(new.encode()).items()
        }
        count = re.compile(r'et_social_count">(\d+)<')
        seen["shares"] += int(count.search(new)[1]) > int(count.search(old)[1])  # type: ignore[index]
        seen["comment"] += new.count('<li class="comment"') == old.count('<li class="comment"') + 1
        moved = [page.index("Recent Posts</h4>") < page.index("Lord David Alton</h4>") for page in (old, new)]
        seen["sidebar"] += moved == [False, True]
    assert seen == {"shares": 1, "comment": 1, "sidebar": 1}


def test_generation2_churns_furniture_on_every_page(gen1: SampleBlog, gen2: SampleBlog) -> None:
    assert gen1.pages.keys() == gen2.pages.keys()
    nonce = re.compile(rb'<script nonce="([0-9a-f]+)">')
    footer = re.compile(rb"Page generated ([0-9: -]+) UTC")
    for path, old in gen1.pages.items():
        new = gen2.pages[path]
        if path == "/robots.txt":
            assert old == new
            continue
        assert old != new
        if path != "/feed/":
            assert nonce.search(old)[1] != nonce.search(new)[1]  # type: ignore[index]
            assert footer.search(old)[1] != footer.search(new)[1]  # type: ignore[index]
    for path in ["/"] + [f"/page/{n}/" for n in range(2, N // 10 + 1)]:
        assert without_churn(gen1.pages[path]) == without_churn(gen2.pages[path])


def test_later_generations_accumulate_changes(gen2: SampleBlog) -> None:
    gen3 = generate_blog(N, generation=3)
    assert len(gen3.manifest) == 2 * len(gen2.manifest)
    assert all(m in gen3.manifest for m in gen2.manifest)
    assert len({m["path"] for m in gen3.manifest}) == len(gen3.manifest)


def test_large_blog_has_unique_question_keys() -> None:
    blog = generate_blog(2000)
    keys = [k for p in post_paths(blog) for k in answers(blog.pages[p])]
    assert len(keys) == len(set(keys)) > 2000
    assert len({uin for uin, _ in keys}) < len(keys)  # UINs restart each session


def test_main_writes_pages_and_manifest(tmp_path) -> None:
    assert main([str(tmp_path), "--posts", "25", "--generation", "2"]) == 0
    blog = generate_blog(25, generation=2)
    assert (tmp_path / "index.html").read_bytes() == blog.pages["/"]
    assert (tmp_path / "feed" / "index.xml").read_bytes() == blog.pages["/feed/"]
    assert (tmp_path / "robots.txt").read_bytes() == blog.pages["/robots.txt"]
    path = post_paths(blog)[0]
    assert (tmp_path / path.strip("/") / "index.html").read_bytes() == blog.pages[path]
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == blog.manifest and len(manifest) == 1


# --- LocalSite -------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request, without following redirects."""
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with OPENER.open(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def served():
    with LocalSite({}) as site:
        blog = generate_blog(60, base_url=site.url)
        site.replace(blog.pages, blog.content_types, blog.redirects)
        yield site, blog


def test_server_serves_pages_with_strong_etags(served) -> None:
    site, blog = served
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.url) and not site.url.endswith(":0")
    status, headers, body = fetch(site.url + "/")
    assert status == 200 and body == blog.pages["/"]
    assert headers["ETag"] == f'"{hashlib.sha1(body).hexdigest()}"'
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    assert f'href="{site.url}/page/2/"' in body.decode()
    status, head_headers, head_body = fetch(site.url + "/", method="HEAD")
    assert status == 200 and head_body == b""
    assert head_headers["Content-Length"] == str(len(body))
    assert head_headers["ETag"] == headers["ETag"]
    assert head_headers["Last-Modified"] == headers["Last-Modified"]
    status, headers, body = fetch(site.url + "/feed/")
    assert headers["Content-Type"].startswith("application/rss+xml")
    assert body == blog.pages["/feed/"]
    with ThreadPoolExecutor(8) as pool:
        paths = post_paths(blog)[:24]
        results = list(pool.map(lambda p: fetch(site.url + p), paths))
    assert [r[2] for r in results] == [blog.pages[p] for p in paths]


def test_server_conditional_requests(served) -> None:
    site, _ = served
    url = site.url + post_paths(served[1])[0]
    _, headers, _ = fetch(url)
    etag, lm = headers["ETag"], headers["Last-Modified"]
    status, h304, body = fetch(url, **{"If-None-Match": etag})
    assert status == 304 and body == b"" and h304["ETag"] == etag
    assert fetch(url, **{"If-None-Match": f'"x", W/{etag}'})[0] == 304
    assert fetch(url, **{"If-None-Match": '"other"'})[0] == 200
    assert fetch(url, **{"If-Modified-Since": lm})[0] == 304
    earlier = format_datetime(parsedate_to_datetime(lm) - timedelta(seconds=1), usegmt=True)
    assert fetch(url, **{"If-Modified-Since": earlier})[0] == 200
    # If-None-Match takes precedence over If-Modified-Since
    assert fetch(url, **{"If-None-Match": '"other"', "If-Modified-Since": lm})[0] == 200


def test_server_404_redirects_and_forced_statuses(served) -> None:
    site, blog = served
    assert fetch(site.url + "/no/such/page/")[0] == 404
    pid, permalink = next(iter(blog.redirects.items()))
    status, headers, _ = fetch(site.url + pid)
    assert status == 301 and headers["Location"] == site.url + permalink
    status, headers, _ = fetch(site.url + permalink.rstrip("/"))
    assert status == 301 and headers["Location"] == site.url + permalink
    assert fetch(site.url + permalink + "?et_blog")[0] == 200  # unknown queries are ignored
    for code in (404, 410, 500):
        site.set_status(permalink, code)
        assert fetch(site.url + permalink)[0] == code
    site.set_status(permalink, 301, {"Location": "/"})
    status, headers, _ = fetch(site.url + permalink)
    assert status == 301 and headers["Location"] == site.url + "/"
    site.set_status(permalink, 200)
    assert fetch(site.url + permalink)[2] == blog.pages[permalink]
    assert ("GET", "/no/such/page/", 404) in site.requests
    assert ("GET", pid, 301) in site.requests


def test_server_replace_swaps_generation_and_keeps_validators_of_unchanged_pages() -> None:
    with LocalSite({}) as site:
        one = generate_blog(40, base_url=site.url)
        two = generate_blog(40, generation=2, base_url=site.url)
        site.replace(one.pages, one.content_types, one.redirects)
        _, home1, _ = fetch(site.url + "/")
        _, robots1, _ = fetch(site.url + "/robots.txt")
        assert robots1["Content-Type"].startswith("text/plain")
        site.replace(two.pages, two.content_types)
        status, home2, body = fetch(site.url + "/", **{"If-None-Match": home1["ETag"]})
        assert status == 200 and body == two.pages["/"] and home2["ETag"] != home1["ETag"]
        assert parsedate_to_datetime(home2["Last-Modified"]) > parsedate_to_datetime(home1["Last-Modified"])
        assert fetch(site.url + "/", **{"If-Modified-Since": home1["Last-Modified"]})[0] == 200
        status, robots2, _ = fetch(site.url + "/robots.txt", **{"If-None-Match": robots1["ETag"]})
        assert status == 304 and robots2["Last-Modified"] == robots1["Last-Modified"]
        assert fetch(site.url + next(iter(one.redirects)))[0] == 301  # redirects were kept
    with pytest.raises(RuntimeError):
        _ = site.url
