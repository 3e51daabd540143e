"""Scrapy's command line in the checkout (`scrapy crawl NAME`, scrapy.cfg): COMMANDS_MODULE in
spiders.settings names this package, whose `crawl` replaces Scrapy's own (see crawl.py)."""
