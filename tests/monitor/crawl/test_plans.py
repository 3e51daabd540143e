"""What to crawl: the config's sources with the arguments their spiders are given."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from monitor.config import load_settings
from monitor.crawl.plans import configured_crawls


def test_the_routine_run_asks_for_yesterday_today_and_a_sweep_of_the_unanswered(tmp_path: Path) -> None:
    config = tmp_path / "pqwatch.toml"
    config.write_text(
        '[parliament]\napi_base = "http://127.0.0.1:9"\n'
        '[[blog]]\nname = "local"\nstart_urls = ["http://127.0.0.1:8/"]\nmax_listing_pages = 2\n'
    )
    settings = load_settings({"PQWATCH_REFRESH_DAYS": "5"}, config_file=str(config))
    assert configured_crawls(settings, date(2026, 3, 2)) == {
        "parliament": (
            "parliament",
            {
                "api_base": "http://127.0.0.1:9",
                "windows": [
                    {"answeredWhenFrom": "2026-03-01", "answeredWhenTo": "2026-03-02"},
                    {"correctedWhenFrom": "2026-03-01", "correctedWhenTo": "2026-03-02"},
                    {"tabledWhenFrom": "2026-01-31", "tabledWhenTo": "2026-03-02", "answered": "Unanswered"},
                ],
                "house": "",
                "full_refresh": False,
                "refresh_days": 5,
            },
        ),
        "statements": (
            "statements",
            {
                "api_base": "http://127.0.0.1:9",
                "made_from": "2026-02-23",
                "made_to": "2026-03-02",
                "house": "",
            },
        ),
        "local": ("blog", {"start_urls": ["http://127.0.0.1:8/"], "max_listing_pages": 2}),
    }
