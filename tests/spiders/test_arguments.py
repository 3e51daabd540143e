"""The spiders' arguments in their `-a` string forms and as pqwatch passes them, and the failures
that make a host unreachable (spiders.arguments, spiders.reach)."""

from __future__ import annotations

import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from twisted.internet import error as twisted_errors

from spiders.arguments import ArgumentError, as_text, flag, url_list, whole_number, window_text, windows
from spiders.reach import unreachable_reason
from spiders.sources.api.spider import ParliamentSpider
from spiders.sources.blog.spider import BlogSpider
from spiders.sources.pages.spider import PagesSpider


def test_a_url_list_is_a_list_or_urls_joined_by_commas() -> None:
    assert url_list("urls", "https://a.example/x,http://b.example:8080/y") == [
        "https://a.example/x",
        "http://b.example:8080/y",
    ]
    assert url_list("urls", ["https://a.example/"]) == ["https://a.example/"]
    assert url_list("urls", "") == [] and url_list("urls", None) == []


@pytest.mark.parametrize(
    "value", ["a.example/x", "https://a.example/x,", "file:///etc/passwd", "https://a b/"]
)
def test_a_url_list_refuses_what_is_not_an_http_url(value: str) -> None:
    with pytest.raises(ArgumentError, match=r"^urls: .*\(form: URL or URL,URL,\.\.\.\)$"):
        url_list("urls", value)


def test_windows_read_their_string_form() -> None:
    assert windows("answered:2024-01-08..2024-01-12,tabled:2024-01-01..,corrected:..2024-02-01") == [
        {"answeredWhenFrom": "2024-01-08", "answeredWhenTo": "2024-01-12"},
        {"tabledWhenFrom": "2024-01-01"},
        {"correctedWhenTo": "2024-02-01"},
    ]
    assert windows("tabled:2024-01-01..2024-01-31+unanswered") == [
        {"tabledWhenFrom": "2024-01-01", "tabledWhenTo": "2024-01-31", "answered": "Unanswered"}
    ]
    given = [{"tabledWhenFrom": "2024-01-01"}]
    assert windows(given) == given and windows("") == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("answered", "is not a window"),
        ("answered:2024-01-08", "is not a window"),
        ("replied:2024-01-08..", "is not a window"),
        ("tabled:..", "neither a start nor an end"),
        ("tabled:2024-01-08..+answered", "is not a window"),
        ("tabled:8/1/2024..", "is not a date YYYY-MM-DD"),
        ("answered:2024-01-12..2024-01-08", "answered from 2024-01-12 is after answered to 2024-01-08"),
    ],
)
def test_a_bad_window_says_what_and_the_form(value: str, says: str) -> None:
    with pytest.raises(ArgumentError, match="^windows: ") as raised:
        windows(value)
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_arguments_as_pqwatch_builds_them_read_back_the_same_from_their_text() -> None:
    # What a job on a Scrapyd node is scheduled with: every argument as its `-a` string.
    from datetime import date

    from spiders.sources.api.windows import routine_windows

    routine = routine_windows(date(2026, 12, 3))
    text = as_text({"windows": routine, "full_refresh": False, "refresh_days": 7, "house": ""})
    assert text == {
        "windows": "answered:2026-12-02..2026-12-03,corrected:2026-12-02..2026-12-03,"
        "tabled:2026-11-03..2026-12-03+unanswered",
        "full_refresh": "false",
        "refresh_days": "7",
        "house": "",
    }
    assert windows(text["windows"]) == routine
    assert window_text({"tabledWhenFrom": "2024-01-01"}) == "tabled:2024-01-01.."
    blog = as_text({"start_urls": ["https://a.example/", "https://b.example/x"], "full": True, "shard": 1})
    spider = BlogSpider(**blog, shards="2")
    assert (
        spider.start_urls == ["https://a.example/", "https://b.example/x"]
        and spider.full
        and spider.shard == 1
    )
    with pytest.raises(ArgumentError, match="bounds no date"):
        window_text({"answered": "Unanswered"})


def test_numbers_and_flags() -> None:
    assert whole_number("n", "12") == 12 and whole_number("n", 0) == 0
    for bad in ("-1", "1.5", "x", -3, True):
        with pytest.raises(ArgumentError, match="^n: "):
            whole_number("n", bad)
    assert flag("f", "yes") is True and flag("f", "0") is False and flag("f", True) is True
    with pytest.raises(ArgumentError, match="^f: 'maybe' is not true or false$"):
        flag("f", "maybe")


def test_spiders_check_their_arguments_when_built() -> None:
    blog = BlogSpider(
        start_urls="https://a.example/,https://b.example/news/", max_listing_pages="2", full="true"
    )
    assert blog.start_urls == ["https://a.example/", "https://b.example/news/"]
    assert blog.max_listing_pages == 2 and blog.full is True
    with pytest.raises(ArgumentError, match="^start_urls: give"):
        BlogSpider()
    with pytest.raises(ArgumentError, match="^shard: "):
        BlogSpider(start_urls="https://a.example/", shard="2", shards="2")
    api = ParliamentSpider(api_base="http://127.0.0.1:9/", windows="tabled:2024-01-01..", refresh_days="3")
    assert api.api_base == "http://127.0.0.1:9" and api.windows == [{"tabledWhenFrom": "2024-01-01"}]
    with pytest.raises(ArgumentError, match="^api_base: "):
        ParliamentSpider()
    assert PagesSpider(urls="https://a.example/x,https://b.example/y").urls == [
        "https://a.example/x",
        "https://b.example/y",
    ]
    with pytest.raises(ArgumentError, match="^urls: give"):
        PagesSpider()


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (DownloadConnectionRefusedError(), "connection refused"),
        (twisted_errors.ConnectionRefusedError(), "connection refused"),
        (CannotResolveHostError(), "DNS lookup failed"),
        (twisted_errors.DNSLookupError(), "DNS lookup failed"),
        (DownloadTimeoutError(), "timed out"),
        (twisted_errors.TCPTimedOutError(), "timed out"),
        (twisted_errors.ConnectError(), "could not connect"),
        (twisted_errors.ConnectionLost(), None),  # the host answered, then dropped: not unreachable
        (ValueError(), None),
    ],
)
def test_which_failures_make_a_host_unreachable(failure: BaseException, reason: str | None) -> None:
    assert unreachable_reason(failure) == reason


def test_a_timeout_from_a_host_that_answered_is_a_slow_page_not_a_host_down() -> None:
    assert unreachable_reason(DownloadTimeoutError(), answered=True) is None
    assert unreachable_reason(DownloadConnectionRefusedError(), answered=True) == "connection refused"
