"""Fetch and parse: Scrapy spiders (thin), pure parsers, normalisation and the pipeline into storage."""
