"""The framework's own floor for bench.peers: Scrapy with pqwatch's crawl settings fetching every
post and doing nothing with it (no parse, no database), so the table shows how much of pqwatch's
change crawl is Scrapy itself.

    python -m bench.peers_scrapy --base URL --paths FILE --concurrency N
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from spiders.run import crawl_settings


class FetchOnly(Spider):
    """Request every URL; count what came back."""

    name = "fetch_only"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.fetched = 0

    async def start(self) -> AsyncIterator[Request]:
        """One request per post."""
        for url in self.urls:
            yield Request(url, callback=self.parse)

    def parse(self, response: Response) -> None:
        """Count it, nothing more: the point is what fetching alone costs."""
        self.fetched += response.status == 200


def main(argv: list[str] | None = None) -> int:
    """Fetch every path once; exit 1 when any fetch failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers_scrapy")
    parser.add_argument("--base", required=True)
    parser.add_argument("--paths", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    args = parser.parse_args(argv)
    settings = crawl_settings("sqlite://", 0.0, args.concurrency, False, False, 2.0)
    # pqwatch's own middlewares, pipeline and progress bar need its database: left out here.
    settings.set("DOWNLOADER_MIDDLEWARES", {}, priority="cmdline")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("EXTENSIONS", {}, priority="cmdline")
    settings.set("SPIDER_MODULES", [], priority="cmdline")
    settings.set("PQWATCH_ALLOW_PRIVATE_ADDRESSES", "1", priority="cmdline")  # the site is on 127.0.0.1
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FetchOnly)
    urls = [args.base + path for path in args.paths.read_text().split()]
    process.crawl(crawler, urls=urls)
    process.start()
    spider = crawler.spider
    return 0 if isinstance(spider, FetchOnly) and spider.fetched == len(urls) else 1


if __name__ == "__main__":
    raise SystemExit(main())
