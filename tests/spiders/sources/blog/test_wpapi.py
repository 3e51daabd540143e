"""The WordPress REST API reader (spiders/sources/blog/wpapi.py): where the API is advertised, the
posts list's URLs, a page of it read into typed posts, and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from spiders.sources.blog import wpapi
from spiders.sources.blog.parse import parse_body, read_post, read_rendered

ROOT = "https://blog.example.org/wp-json/"
JSON = "application/json; charset=UTF-8"

# Modelled on WordPress/wordpress-develop src/wp-includes/rest-api.php (rest_output_link_wp_head).
HEAD = (
    '<!doctype html><html><head><link rel="https://api.w.org/" href="https://blog.example.org/wp-json/" />'
    '<link rel="alternate" title="JSON" type="application/json" '
    'href="https://blog.example.org/wp-json/wp/v2/posts/7" /></head><body></body></html>'
)

ITEM = {
    "id": 7,
    "date": "2021-09-21T15:56:00",
    "modified_gmt": "2021-09-22T08:00:00",
    "link": "https://blog.example.org/2021/09/21/hikvision/",
    "title": {"rendered": "Lord Alton&#8217;s question"},
    "content": {
        "rendered": "<p>Baroness Williams of Trafford, the Home Office, has provided the following answer to "
        "your written parliamentary question (HL2472):</p>\n<p>Question:</p>\n<p>To ask His Majesty’s "
        "Government whether they will meet the Commissioner. (HL2472)</p>\n<p>Tabled on: 07 September "
        "2021</p>\n<p>Answer:</p>\n<p>Baroness Williams of Trafford</p>\n<p>I will meet the Commissioner "
        "shortly.</p>\n<p>Date and time of answer: 21 Sep 2021 at 15:56.</p>\n",
        "protected": False,
    },
}


def page(items: object, total: str | None = "1", pages: str | None = "1", ctype: str = JSON) -> wpapi.ApiPage:
    return wpapi.read_posts_page(json.dumps(items).encode(), ctype, total, pages)


def test_the_api_root_is_read_from_the_head_link_and_from_the_link_header():
    assert wpapi.api_root_in_html(HEAD, "https://blog.example.org/") == ROOT
    header = (
        '<https://blog.example.org/wp-json/>; rel="https://api.w.org/", '
        "<https://blog.example.org/?p=7>; rel=shortlink"
    )
    assert wpapi.api_root_in_header(header, "https://blog.example.org/") == ROOT
    assert wpapi.api_root_in_header("<https://blog.example.org/?p=7>; rel=shortlink", "https://x/") is None
    assert wpapi.api_root_in_html("<html><head></head></html>", "https://blog.example.org/") is None


def test_the_posts_url_asks_for_100_posts_by_modified_with_only_the_fields_read():
    url = wpapi.posts_url(ROOT, 2)
    parts = urlsplit(url)
    assert parts.path == "/wp-json/wp/v2/posts"
    query = parse_qs(parts.query)
    assert query["per_page"] == ["100"] and query["page"] == ["2"]
    assert query["_fields"] == ["id,link,date,modified_gmt,title,content"]
    assert query["orderby"] == ["modified"] and query["order"] == ["desc"]
    assert "modified_after" not in query


def test_a_change_crawl_asks_from_a_day_before_the_last_one_started():
    cursor = wpapi.change_cursor(datetime(2026, 12, 2, 6, 0, tzinfo=UTC))
    query = parse_qs(urlsplit(wpapi.posts_url(ROOT, 1, cursor)).query)
    assert query["modified_after"] == ["2026-12-01T06:00:00"]


def test_a_rest_route_root_keeps_its_form():
    url = wpapi.posts_url("https://blog.example.org/?rest_route=/", 1)
    parts = urlsplit(url)
    assert parts.path == "/"
    assert parse_qs(parts.query)["rest_route"] == ["/wp/v2/posts"]


def test_a_page_of_posts_is_read_into_typed_posts():
    read = page([ITEM], "1", "1")
    assert (read.total, read.total_pages) == (1, 1)
    post = read.posts[0]
    assert post.id == 7 and post.link == ITEM["link"]
    assert post.title == "Lord Alton's question"  # entities decoded, quotes normalised
    assert post.published == date(2021, 9, 21)
    assert post.modified_gmt == datetime(2021, 9, 22, 8, 0, tzinfo=UTC)


def test_a_post_read_from_the_api_and_from_its_page_has_the_same_answers_and_fingerprint():
    post = page([ITEM]).posts[0]
    rendered = read_rendered(post.content_html, post.link, post.title, post.published)
    stored = wpapi.rendered_page(post, post.link)
    from_page = read_post(stored.decode(), post.link)
    assert rendered.fingerprint == from_page.fingerprint
    assert rendered.parse().post.answers == from_page.parse().post.answers
    # The kept body re-reads (pqwatch reparse) to the same answers.
    assert parse_body(stored, post.link, "text/html; charset=utf-8") == rendered.parse().post.answers
    assert rendered.parse().post.answers[0].uin == "HL2472"


@pytest.mark.parametrize(
    ("body", "ctype", "message"),
    [
        (b'[{"id": 1, "link": ', JSON, "JSON that is not JSON"),
        (b"<!DOCTYPE html><html><body>Just a moment...</body></html>", JSON, "an HTML page, not JSON"),
        (b"[]", "text/html; charset=UTF-8", "an HTML page, not JSON"),
        (b'{"code": "rest_cannot_access"}', JSON, "not a list of posts"),
        (b'[{"id": 1}]', JSON, "has no id or link"),
        (b'[{"id": 1, "link": "https://x/", "content": {"protected": true}}]', JSON, "no content.rendered"),
        (b"[" * 100_000, JSON, "JSON that is not JSON"),
    ],
)
def test_what_is_not_a_posts_list_is_refused_in_one_line(body, ctype, message):
    with pytest.raises(wpapi.ApiError) as refused:
        wpapi.read_posts_page(body, ctype, "1", "1")
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_totals_that_are_not_numbers_are_refused():
    with pytest.raises(wpapi.ApiError, match="X-WP-TotalPages 'many' is not a number"):
        page([ITEM], "1", "many")
