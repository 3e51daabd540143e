"""Per-host politeness holds at --delay 0: never more than --concurrency requests in flight to
one host (robots.txt included), in one crawl process or shared between several."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from monitor.cli import main
from monitor.demo.sample_blog import generate_blog
from monitor.demo.site import LocalSite


class CountingSite(LocalSite):
    """A LocalSite that takes a moment over each request and records the most served at once."""

    def __init__(self, pause: float = 0.02) -> None:
        super().__init__()
        self.pause = pause
        self.in_flight = self.peak = 0
        self._count = threading.Lock()

    def _respond(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        with self._count:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.pause)  # a server-side delay, so overlapping requests are seen
            super()._respond(h, head)
        finally:
            with self._count:
                self.in_flight -= 1


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
