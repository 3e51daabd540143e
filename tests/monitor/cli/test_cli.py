"""The command line beyond crawling: CSV export, history with diffs, the progress bar, sitemaps,
and the offline demo."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from monitor.cli.commands import main
from monitor.demo.site import LocalSite
from tests.support.helpers import P1, P2, crawl, site_pages


def test_export_csv_has_a_header_and_one_row_per_question(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    assert main(["--db", db_url, "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capfd.readouterr().out)))
    assert [r["uin"] for r in rows] == ["HL2472", "HL2500", "HL2501"]
    assert rows[0]["answered_at"] == "2021-09-21T15:56" and rows[0]["sources"] == site.url + P1


def test_export_filters_by_department(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    assert main(["--db", db_url, "export", "--department", "foreign, commonwealth"]) == 0
    out = capfd.readouterr().out
    assert '"HL2500"' in out and '"HL2472"' not in out


def test_history_diff_shows_the_word_change_between_versions(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    site.replace(site_pages(site.url, answer1="I will meet the Commissioner tomorrow."))
    crawl(db_url, site.url + "/", capfd=capfd)
    assert main(["--db", db_url, "history", "hl2472", "--diff"]) == 0
    out = capfd.readouterr().out
    assert "Lords HL2472 tabled 2021-09-07" in out
    assert "v1" in out and "v2" in out
    assert "answer_text: I will meet the Commissioner [-shortly.-] {+tomorrow.+}" in out


def test_changes_text_lists_each_event_with_its_source(site, db_url, capfd):
    crawl(db_url, site.url + "/", capfd=capfd)
    assert main(["--db", db_url, "changes"]) == 0
    lines = [line for line in capfd.readouterr().out.splitlines() if " new " in line]
    assert len(lines) == 3 and site.url + P2 in lines[1]


def test_a_sitemap_index_is_a_start_page(db_url, capfd):
    with LocalSite() as site:
        pages = site_pages(site.url)
        pages["/wp-sitemap.xml"] = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{site.url}/wp-sitemap-posts-post-1.xml</loc></sitemap>"
            f"<sitemap><loc>{site.url}/wp-sitemap-users-1.xml</loc></sitemap></sitemapindex>"
        ).encode()
        pages["/wp-sitemap-posts-post-1.xml"] = (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{site.url}{P1}</loc></url></urlset>"
        ).encode()
        site.replace(pages, {p: "application/xml" for p in pages if p.endswith(".xml")})
        status, out = crawl(db_url, site.url + "/wp-sitemap.xml", capfd=capfd)
        assert status == 0, out
        requested = {target for _, target, _ in site.requests}
    assert "/wp-sitemap-users-1.xml" not in requested  # users and taxonomies are not posts
    assert main(["--db", db_url, "export"]) == 0
    assert '"HL2472"' in capfd.readouterr().out


def test_a_manual_crawl_shows_progress(site, db_url, tmp_path):
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "spiders.run",
            "blog",
            "--db",
            db_url,
            "--delay",
            "0",
            "--args",
            json.dumps({"start_urls": [site.url + "/"]}),
            "--progress",
            "--counts-file",
            str(tmp_path / "c.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert "crawl:" in finished.stderr and "page" in finished.stderr


def test_the_demo_finds_exactly_the_true_changes_offline(capfd):
    assert main(["demo"]) == 0
    out = capfd.readouterr().out
    assert "0 false changes, 0 misses" in out
    assert "answer_text_changed" in out and "answer_date_changed" in out
