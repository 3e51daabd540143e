"""A progress bar for manual crawls on a terminal: requests done of requests known so far."""

from __future__ import annotations

import sys

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from tqdm import tqdm


class Progress:
    """Show a tqdm bar on stderr while the crawl runs (only when PQWATCH_PROGRESS is set)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.bar: tqdm | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        """Connect to the crawl's signals, or stay out when no bar is wanted."""
        if not crawler.settings.getbool("PQWATCH_PROGRESS"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(extension.done, signal=signals.response_received)
        crawler.signals.connect(extension.failed, signal=signals.request_dropped)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self) -> None:
        """Start the bar."""
        position = self.crawler.settings.getint("PQWATCH_PROGRESS_POSITION")
        self.bar = tqdm(
            total=0,
            unit="page",
            desc=f"crawl {position + 1}" if position else "crawl",
            position=position,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def scheduled(self) -> None:
        """Grow the total by one queued request."""
        if self.bar is not None:
            self.bar.total += 1
            self.bar.refresh()

    def done(self) -> None:
        """Advance the bar and show the running counts."""
        if self.bar is None:
            return
        stats = self.crawler.stats
        self.bar.set_postfix(
            new=stats.get_value("pqwatch/answers_new", 0),
            changed=stats.get_value("pqwatch/answers_changed", 0),
            errors=stats.get_value("pqwatch/errors", 0),
            refresh=False,
        )
        self.bar.update(1)

    def failed(self) -> None:
        """A dropped request will not come back: count it as done."""
        if self.bar is not None:
            self.bar.update(1)

    def closed(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
