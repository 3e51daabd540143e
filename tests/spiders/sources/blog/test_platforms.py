"""Every blog platform members and campaign groups use, from its saved site: `crawl blog` from the
address a user would give finds every post and reads every answer, with no per-site configuration,
and the furniture never reaches an answer or a fingerprint."""

from __future__ import annotations

import json

import pytest

from monitor.cli.commands import main
from monitor.demo.site import LocalSite
from spiders.sources.blog.parse import read_post
from tests.support.helpers import crawl
from tests.support.platforms import FURNITURE_MARK, refurnished, saved_site, saved_sites

SITES = saved_sites()


def test_every_platform_the_issue_names_has_a_saved_site():
    named = {
        *("wp-twentytwentyone", "wp-astra", "wp-generatepress", "wp-genesis", "wp-divi"),
        *("wp-twentytwentytwo", "wp-twentytwentythree", "wp-twentytwentyfour", "wp-twentytwentyfive"),
        *("blogger", "ghost", "substack", "medium", "squarespace", "wix", "nationbuilder", "drupal"),
    }
    assert named <= set(SITES), sorted(named - set(SITES))


@pytest.mark.parametrize("name", SITES)
def test_a_crawl_from_the_start_address_finds_every_post_and_reads_every_answer(name, db_url, capfd):
    saved = saved_site(name)
    with LocalSite() as site:
        site.replace(saved.served(site.url), saved.content_types)
        status, out = crawl(db_url, site.url + saved.start, capfd=capfd)
        assert status == 0, out
        assert main(["--db", db_url, "export", "--format", "json"]) == 0
        views = json.loads(capfd.readouterr().out)
    found = {(view["uin"], source["url"]) for view in views for source in view["sources"]}
    expected = {(uin, site.url + path) for path, uins in saved.answers.items() for uin in uins}
    assert found == expected
    for view in views:
        for text in (view["question_text"], view["answer_text"]):
            assert text and "<" not in text
            assert not any(word in text for word in saved.furniture), (view["uin"], text)


@pytest.mark.parametrize("name", SITES)
def test_furniture_changes_neither_the_answers_nor_the_fingerprint(name):
    saved = saved_site(name)
    base = "https://blog.example"
    for path, uins in saved.answers.items():
        if not uins:
            continue
        html = saved.html(path, base)
        assert FURNITURE_MARK in html, f"{saved.pages[path]} marks no furniture"
        before, after = (
            read_post(html, base + path),
            read_post(refurnished(html, "Changed 4 Dec"), base + path),
        )
        assert after.fingerprint == before.fingerprint
        assert after.parse() == before.parse()
        assert [answer.uin for answer in before.parse().post.answers] == uins
