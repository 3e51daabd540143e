"""Scrapy settings: polite and secure by default. The CLI overrides delay and concurrency."""

import os

from spiders.registry import SPIDERS
from spiders.safety import ALLOW_PRIVATE_ENV

BOT_NAME = "pqwatch"
# `scrapy crawl` from the checkout stores, detects changes and sets its exit status as
# `pqwatch crawl` does (that package's crawl command replaces Scrapy's).
COMMANDS_MODULE = "monitor.crawl.scrapy_commands"
SPIDER_MODULES = [spec.module for spec in SPIDERS.values()]
USER_AGENT = "pqwatch/0.1 (written-answers change monitor; +https://github.com/pqwatch/pqwatch)"

# Polite: robots.txt, one request at a time per host, a delay, AutoThrottle.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Keeps that limit at a delay of 0, which Scrapy's own downloader does not (see the class).
DOWNLOADER = "spiders.middlewares.PoliteDownloader"
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_TIMES = 3
PQWATCH_RETRY_BASE_DELAY = 2.0  # seconds before the first retry; doubled each time
PQWATCH_RETRY_MAX_DELAY = 120.0
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False
# Why 1: Scrapy starts this many tasks for every response; storing is synchronous anyway.
CONCURRENT_ITEMS = 1

# Secure: certificates checked, only http(s), no remote control, sizes capped.
DOWNLOAD_VERIFY_CERTIFICATES = True
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# The SSRF guard: only public addresses, checked by the resolver Twisted's HostnameEndpoint asks
# at every connection (redirects included). It guards the HTTP/1.1 handler, named here so a
# Scrapy default changing to another handler cannot bypass it.
DOWNLOAD_HANDLERS_BASE = {
    "http": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
    "https": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
}
TWISTED_DNS_RESOLVER = "spiders.middlewares.GuardedResolver"
# Tests and the demo set it (they crawl 127.0.0.1); see spiders.safety.ALLOW_PRIVATE_ENV.
PQWATCH_ALLOW_PRIVATE_ADDRESSES = os.environ.get(ALLOW_PRIVATE_ENV, "")
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 turns on an HTTP server that runs the Python code posted to it; never here.
REMOTE_CONTROL_ENABLED = False
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # After OffsiteMiddleware (50), before robots.txt (100): a refused URL costs no request.
    "spiders.middlewares.RefusePrivateAddresses": 60,
    # After robots.txt (100): drops a request, start URLs included, once its host is unreachable.
    "spiders.reach.SkipUnreachableHosts": 110,
    "spiders.middlewares.BackoffRetry": 550,  # in place of Scrapy's RetryMiddleware
    "spiders.middlewares.ConditionalRequests": 560,
    # Above RedirectMiddleware (600): sees a 3xx before it is followed.
    "spiders.middlewares.RefuseOffsiteRedirects": 650,
}
# Not needed, and each costs every response a pass: Scrapy's own depth count (listing pages
# count their own depth).
SPIDER_MIDDLEWARES = {"scrapy.spidermiddlewares.depth.DepthMiddleware": None}
# Why off: Scrapy parses a callback's source on every response to warn about `return value` in
# a generator (its cache misses bound methods); our callbacks are tested instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
ITEM_PIPELINES = {"spiders.pipelines.StoragePipeline": 300}
# Scrapy's own extension and middleware lists, cut to what a pqwatch crawl uses. Why the *_BASE
# settings: Scrapy imports every component they name, disabled or not, and the remote control's
# import alone (aiohttp's web server) cost every crawl a tenth of a second; cookies, HTTP auth,
# the HTTP cache, feeds, telnet and the memory debugger are never used here.
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}
EXTENSIONS = {"spiders.progress.Progress": 500}
DOWNLOADER_MIDDLEWARES_BASE = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware": 350,
    "scrapy.downloadermiddlewares.defaultheaders.DefaultHeadersMiddleware": 400,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": 750,
    "scrapy.downloadermiddlewares.stats.DownloaderStats": 850,
}

LOG_LEVEL = "WARNING"
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# The CLI and `scrapy crawl` (monitor.crawl.scrapy_commands) set it from PQWATCH_DB_URL / .env.
PQWATCH_DB_URL = "sqlite:///pqwatch.sqlite3"
PQWATCH_PROGRESS = False
PQWATCH_PROGRESS_POSITION = 0  # which bar, when several crawl processes share a terminal

# The blog source's full verification: every this many days (and with `crawl blog --full`) a blog
# crawl re-reads every post, through the WordPress REST API where it works, instead of only those
# the API or sitemap says changed since the last change crawl. It catches an edit that did not
# touch the post's `modified` time, and posts gone from the site. A refused API is tried again then.
PQWATCH_FULL_VERIFY_DAYS = float(os.environ.get("PQWATCH_FULL_VERIFY_DAYS", "7"))
