"""End to end: `pqwatch crawl blog` against a local WordPress (monitor/demo/wordpress.py) on
127.0.0.1 — the REST API first, then sitemaps with lastmod, feeds and pages; the fewest requests
for a first and a change crawl; the weekly full verification; bad API and sitemap input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from monitor.cli.commands import main
from monitor.demo.wordpress import WordPressSite
from storage.db import open_database
from storage.models import BlogSite

N = 250


def crawl(db_url: str, site: WordPressSite, capfd, *extra: str, start: str = "/") -> tuple[int, str, int]:
    """One blog crawl of the site; its exit status, output and the requests it made."""
    before = len(site.requests)
    status = main(["--db", db_url, "crawl", "blog", "--delay", "0", "--start-url", site.url + start, *extra])
    out = capfd.readouterr()
    return status, out.out + out.err, len(site.requests) - before


def run_json(db_url: str, capfd, *args: str):
    assert main(["--db", db_url, *args]) == 0
    return json.loads(capfd.readouterr().out)


def answers(db_url: str, capfd) -> dict[str, str]:
    return {v["uin"]: v["answer_text"] for v in run_json(db_url, capfd, "export", "--format", "json")}


def changes(db_url: str, capfd) -> list[tuple[str, str]]:
    events = run_json(db_url, capfd, "changes", "--format", "json")
    return sorted((e["uin"], e["kind"]) for e in events if e["kind"] != "new")


def sites_row(db_url: str) -> BlogSite:
    with open_database(db_url)() as session:
        row = session.get(BlogSite, "127.0.0.1")
        assert row is not None
        session.expunge(row)
        return row


def move_clock(db_url: str, days: float) -> None:
    """As if `days` had passed since every crawl so far: the cursors moved back."""
    with open_database(db_url).begin() as session:
        row = session.get(BlogSite, "127.0.0.1")
        assert row is not None and row.last_change_crawl_at and row.last_full_at
        row.last_change_crawl_at -= timedelta(days=days)
        row.last_full_at -= timedelta(days=days)


@pytest.fixture
def wp():
    with WordPressSite(N) as site:
        yield site


def api_gets(site: WordPressSite) -> list[str]:
    return [target for method, target, _ in site.requests if "wp/v2/posts" in target]


def test_a_first_crawl_through_the_api_costs_n_over_100_requests_and_stores_every_answer(wp, db_url, capfd):
    status, out, requests = crawl(db_url, wp, capfd)
    assert status == 0, out
    assert requests <= N / 100 + 20, wp.requests
    assert len(api_gets(wp)) == 3  # 100 + 100 + 50
    assert f"answers {N} new" in out and "0 errors" in out
    assert "WARNING" not in out and "ERROR" not in out
    stored = answers(db_url, capfd)
    assert len(stored) == N and stored["HL1007"] == "The Government keeps matter 7 under review."
    assert not any(target.startswith("/20") for _, target, _ in wp.requests)  # no post page fetched
    row = sites_row(db_url)
    assert row.api_root == wp.url + "/wp-json/" and row.api_refused_at is None
    assert row.last_change_crawl_at is not None and row.last_full_at == row.last_change_crawl_at


def test_a_change_crawl_asks_for_posts_modified_since_and_yields_exactly_the_edits(wp, db_url, capfd):
    crawl(db_url, wp, capfd)
    for number in (3, 120, 249):
        wp.edit(number, f"Matter {number} was settled on 1 October.")
    status, out, requests = crawl(db_url, wp, capfd)
    assert status == 0, out
    assert requests <= 3 + 10, wp.requests[-requests:]
    last = api_gets(wp)[-1]
    assert "modified_after=" in last and "orderby=modified" in last and "per_page=100" in last
    assert "answers 0 new / 3 changed" in out
    assert changes(db_url, capfd) == [
        ("HL1003", "answer_text_changed"),
        ("HL1120", "answer_text_changed"),
        ("HL1249", "answer_text_changed"),
    ]
    assert answers(db_url, capfd)["HL1120"] == "Matter 120 was settled on 1 October."


def test_a_change_crawl_with_nothing_changed_costs_a_couple_of_requests(wp, db_url, capfd):
    crawl(db_url, wp, capfd)
    status, out, requests = crawl(db_url, wp, capfd)
    assert status == 0 and "0 change events" in out
    # robots.txt and one page of the posts list; the start page is not needed: the root is known.
    assert requests <= 2, wp.requests[-requests:]


def test_the_rest_route_form_of_the_root_is_read_alike(wp, db_url, capfd):
    wp.pretty_permalinks = False
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 0, out
    assert all("rest_route=%2Fwp%2Fv2%2Fposts" in target for target in api_gets(wp))
    assert len(answers(db_url, capfd)) == N


def test_a_refused_api_falls_back_to_sitemaps_with_the_same_answers_and_is_remembered(wp, db_url, capfd):
    wp.api = 401
    status, out, requests = crawl(db_url, wp, capfd)
    assert status == 0, out  # a refusal is a fact of the site, not an error
    assert (
        sum(1 for line in out.splitlines() if "REST API is not usable (HTTP 401 rest_cannot_access)" in line)
        == 1
    )
    assert f"answers {N} new" in out
    assert len(answers(db_url, capfd)) == N
    assert any(target == "/wp-sitemap-posts-post-1.xml" for _, target, _ in wp.requests)
    assert not any(target.startswith("/page/") for _, target, _ in wp.requests)  # no listing walked
    assert requests <= N + 20
    assert sites_row(db_url).api_refused_at is not None
    # Next time the refusal is remembered: the API is not asked, the sitemap's lastmod says
    # nothing changed, and no post is fetched.
    api_before = len(api_gets(wp))
    status, out, requests = crawl(db_url, wp, capfd)
    assert status == 0 and "0 change events" in out
    assert len(api_gets(wp)) == api_before and "REST API" not in out
    assert requests <= 10, wp.requests[-requests:]


def test_a_change_crawl_by_sitemap_fetches_only_the_posts_whose_lastmod_moved(wp, db_url, capfd):
    wp.api = 403
    crawl(db_url, wp, capfd)
    for number in (5, 6, 7):
        wp.edit(number, f"Matter {number} is closed.")
    status, out, requests = crawl(db_url, wp, capfd)
    assert status == 0, out
    assert requests <= 3 + 10, wp.requests[-requests:]
    assert changes(db_url, capfd) == [(f"HL100{n}", "answer_text_changed") for n in (5, 6, 7)]


def test_without_api_or_sitemaps_the_feed_and_listings_are_read_with_the_same_answers(wp, db_url, capfd):
    wp.api, wp.sitemaps = 404, False
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 0, out
    assert len(answers(db_url, capfd)) == N
    assert any(target == "/feed/" for _, target, _ in wp.requests)
    assert any(target == "/page/25/" for _, target, _ in wp.requests)
    status, out, _ = crawl(db_url, wp, capfd)
    assert f"0 pages fetched, {N} not modified" in out  # conditional GETs


@pytest.mark.parametrize("refusal", [401, "robots"])
def test_switching_between_the_api_and_pages_makes_no_change_event(wp, db_url, capfd, refusal):
    crawl(db_url, wp, capfd)
    if refusal == "robots":
        wp.robots += "Disallow: /wp-json/\n"
    else:
        wp.api = refusal
    status, out, _ = crawl(db_url, wp, capfd, "--full")
    assert status == 0, out
    assert any(target.startswith("/20") for _, target, _ in wp.requests)  # the posts' own pages
    if refusal == "robots":  # robots.txt is obeyed for /wp-json/ too: nothing fetched there
        assert len(api_gets(wp)) == 3
    assert "0 change events" in out
    assert changes(db_url, capfd) == []
    wp.api = "on"
    wp.robots = wp.robots.replace("Disallow: /wp-json/\n", "")
    status, out, _ = crawl(db_url, wp, capfd, "--full")  # a full verification asks the API again
    assert status == 0 and "0 change events" in out
    assert changes(db_url, capfd) == []
    assert sites_row(db_url).api_refused_at is None


def test_a_lying_api_edit_is_caught_by_full_and_by_the_weekly_verification(wp, db_url, capfd):
    crawl(db_url, wp, capfd)
    wp.edit(10, "Matter 10 was quietly rewritten.", lying=True)
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 0 and changes(db_url, capfd) == []  # `modified` did not move: not seen
    status, out, requests = crawl(db_url, wp, capfd, "--full")
    assert status == 0, out
    assert requests <= N / 100 + 20
    assert changes(db_url, capfd) == [("HL1010", "answer_text_changed")]
    # The weekly timer: a week later (the clock moved), the crawl is a full one by itself.
    wp.edit(11, "Matter 11 was quietly rewritten.", lying=True)
    move_clock(db_url, 3)
    crawl(db_url, wp, capfd)
    assert changes(db_url, capfd) == [("HL1010", "answer_text_changed")]
    move_clock(db_url, 5)
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 0
    assert changes(db_url, capfd) == [("HL1010", "answer_text_changed"), ("HL1011", "answer_text_changed")]


def test_a_full_verification_fetches_posts_gone_from_the_list_once_each(wp, db_url, capfd):
    crawl(db_url, wp, capfd)
    wp.delete(42)
    status, out, _ = crawl(db_url, wp, capfd)
    assert "source_removed" not in json.dumps(run_json(db_url, capfd, "changes", "--format", "json"))
    status, out, _ = crawl(db_url, wp, capfd, "--full")
    assert status == 0, out
    path = "/2021/02/14/written-answer-hl1042/"
    assert [s for _, target, s in wp.requests if target == path] == [404]
    kinds = [(e["uin"], e["kind"]) for e in run_json(db_url, capfd, "changes", "--format", "json")]
    assert ("HL1042", "source_removed") in kinds


def test_posts_read_through_the_api_are_reparsed_to_the_same_answers(wp, db_url, capfd):
    crawl(db_url, wp, capfd)
    before = run_json(db_url, capfd, "export", "--format", "json")
    from storage.models import Version

    with open_database(db_url).begin() as session:  # as if an older parser had read them
        session.execute(update(Version).values(parser="an older parser"))
    assert main(["--db", db_url, "reparse"]) == 0
    out = capfd.readouterr().out
    assert f"{N} sources read again, 0 new versions, {N} unchanged" in out and "0 unreadable" in out
    assert run_json(db_url, capfd, "export", "--format", "json") == before


@pytest.mark.parametrize(
    ("bad", "log"),
    [
        ("not_json", "JSON that is not JSON"),
        ("html_json", "an HTML page, not JSON"),
        ("lying_total", "posts where X-WP-Total"),  # more pages said than there are
        ("short_total", "X-WP-TotalPages says 1 but page 2 holds"),  # fewer
        ("bad_pages", "does not fit X-WP-Total"),
    ],
)
def test_a_bad_api_is_one_line_a_counted_error_and_the_same_answers_by_the_fallback(
    wp, db_url, capfd, bad, log
):
    wp.bad_api = bad
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 1
    assert sum(1 for line in out.splitlines() if log in line) == 1, out
    assert "1 errors" in out
    assert len(answers(db_url, capfd)) == N  # read whole by the sitemap instead: nothing half
    assert sites_row(db_url).api_refused_at is not None
    assert sites_row(db_url).last_change_crawl_at is None  # a crawl with errors moves no cursor


def test_a_page_past_the_end_is_a_lie_caught_and_counted(wp, db_url, capfd):
    wp.bad_api = "lying_total"
    wp.delete(250)  # 249 posts: the list says 6 pages, page 4 is past the end
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 1
    refusals = [line for line in out.splitlines() if "REST API is not usable" in line]
    assert len(refusals) == 1 and "1 errors" in out
    # Pages 2 to 6 were asked together: page 3 is short, page 4 past the end (WordPress's 400).
    assert "HTTP 400 rest_post_invalid_page_number" in refusals[0] or "page 3 holds 49 posts" in refusals[0]
    assert len(answers(db_url, capfd)) == N - 1


def test_an_off_site_sitemap_link_is_counted_and_never_fetched(wp, db_url, capfd):
    wp.api = 401
    other = "http://localhost:9/2021/01/01/elsewhere/"
    index = (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{wp.url}/wp-sitemap-posts-post-1.xml</loc></sitemap>"
        f"<sitemap><loc>{other}</loc></sitemap></sitemapindex>"
    )
    wp.extra["/wp-sitemap.xml"] = (200, "application/xml", index.encode())
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 1
    assert sum(1 for line in out.splitlines() if "links to other hosts in the sitemap" in line) == 1
    assert len(answers(db_url, capfd)) == N


def test_sitemap_indexes_nested_too_deep_are_refused_and_counted(wp, db_url, capfd):
    wp.api = 401

    def index(child: str) -> bytes:
        return (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{wp.url}{child}</loc></sitemap></sitemapindex>"
        ).encode()

    wp.extra["/wp-sitemap.xml"] = (200, "application/xml", index("/deep-1.xml"))
    wp.extra["/deep-1.xml"] = (200, "application/xml", index("/deep-2.xml"))
    wp.extra["/deep-2.xml"] = (200, "application/xml", index("/deep-3.xml"))
    wp.extra["/deep-3.xml"] = (200, "application/xml", index("/wp-sitemap-posts-post-1.xml"))
    status, out, _ = crawl(db_url, wp, capfd)
    assert status == 1
    assert sum(1 for line in out.splitlines() if "nested deeper than 2 levels" in line) == 1
    assert not any(target == "/deep-3.xml" for _, target, _ in wp.requests)


def test_the_per_host_limit_holds_on_the_api_path(wp, db_url, capfd):
    # The site answers slowly enough that a second request at once would overlap the first.
    wp.latency = 0.02
    status, out, _ = crawl(db_url, wp, capfd, "--concurrency", "1", "--delay", "0.05")
    assert status == 0, out
    assert wp.max_in_flight == 1


def test_a_crawl_allowed_two_requests_at_once_reads_the_api_list_once(wp, db_url, capfd):
    status, out, _ = crawl(db_url, wp, capfd, "--concurrency", "2")
    assert status == 0, out
    assert len(api_gets(wp)) == 3
    assert f"answers {N} new" in out and "0 errors" in out
    wp.edit(9, "Matter 9 is closed.")
    status, out, _ = crawl(db_url, wp, capfd, "--concurrency", "2")
    assert status == 0 and "1 changed" in out
    assert changes(db_url, capfd) == [("HL1009", "answer_text_changed")]
