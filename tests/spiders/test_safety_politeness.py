"""Per-host politeness holds at --delay 0: never more than --concurrency requests in flight to
one host (robots.txt included), in one crawl process or shared between several."""

from __future__ import annotations

import pytest

from monitor.cli import main
from monitor.demo.sample_blog import generate_blog
from tests.support.processes import CountingSite


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_no_more_than_the_concurrency_is_ever_in_flight_to_a_host_at_delay_0(concurrency, tmp_path):
    with CountingSite() as site:
        blog = generate_blog(30, base_url=site.url)
        site.replace(blog.pages, blog.content_types, blog.redirects)
        db = f"sqlite:///{tmp_path / 'pqwatch.sqlite3'}"
        args = ["--db", db, "crawl", "blog", "--delay", "0", "--concurrency", str(concurrency)]
        assert main([*args, "--start-url", site.url + "/"]) == 0
    assert any(path == "/robots.txt" for _, path, _ in site.requests)
    assert len(site.requests) > 30
    assert 1 <= site.peak <= concurrency
