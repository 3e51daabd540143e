"""Every blog platform members and campaign groups use, from its saved site: `crawl blog` from the
address a user would give finds every post and reads every answer, with no per-site configuration,
and the furniture never reaches an answer or a fingerprint."""

from __future__ import annotations

import json

import pytest
from lxml import etree
from lxml.cssselect import CSSSelector

from monitor.cli.commands import main
from monitor.demo.site import LocalSite
from spiders.normalise import html_document
from spiders.sources.blog.discover import discover_html
from spiders.sources.blog.parse import read_post, read_rendered
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
        base = site.url
        site.replace(saved.served(base), saved.content_types)
        status, out = crawl(db_url, base + saved.start, capfd=capfd)
        assert status == 0, out
        assert "dead link (" not in out, out  # every listing and post it followed was the site's
        fetched = {target for method, target, _ in site.requests if method == "GET"}
        assert main(["--db", db_url, "export", "--format", "json"]) == 0
        views = json.loads(capfd.readouterr().out)
    # Every post was read, the one without answers too.
    assert set(saved.answers) <= fetched, sorted(set(saved.answers) - fetched)
    found = {(view["uin"], source["url"]) for view in views for source in view["sources"]}
    expected = {(uin, base + path) for path, uins in saved.answers.items() for uin in uins}
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


WORDPRESS = [name for name in SITES if name.startswith("wp-")]


def _content_element_inner_html(html: str) -> str:
    """The inner HTML of a WordPress post's content element, as its REST API's content.rendered."""
    (element, *_) = CSSSelector(".wp-block-post-content, article .entry-content")(html_document(html))
    return (element.text or "") + "".join(
        etree.tostring(child, encoding="unicode", with_tail=True) for child in element
    )


@pytest.mark.parametrize("name", WORDPRESS)
def test_a_post_read_from_its_rendered_body_gives_the_answers_and_fingerprint_of_its_page(name):
    saved = saved_site(name)
    base = "https://blog.example"
    for path in saved.answers:
        html = saved.html(path, base)
        page = read_post(html, base + path)
        rendered = read_rendered(_content_element_inner_html(html), base + path, page.title, page.published)
        assert rendered.parse().post.answers == page.parse().post.answers, path
        assert rendered.fingerprint == page.fingerprint, path
        # A change to the body is a change to both.
        edited = read_rendered(
            _content_element_inner_html(html).replace("</p>", " Edited.</p>", 1),
            base + path,
            page.title,
            page.published,
        )
        assert edited.fingerprint != page.fingerprint


# ---------------------------------------------------------------------------------------------
# The content region, found from the answers themselves

EMAIL = (
    "<p>Lord Collins of Highbury, the Foreign, Commonwealth and Development Office, has provided the"
    " following answer to your written parliamentary question (HL2275):</p>"
    "<p>Question by Lord Alton of Liverpool:<br>To ask His Majesty's Government what steps they are"
    " taking on Tigray. (HL2275)</p><p>Tabled on: 26 February 2024</p>"
    "<p>Answer:<br>Lord Collins of Highbury:</p><p>We are pressing for access.</p>"
    "<p>Date and time of answer: 11 Mar 2024 at 15:02.</p>"
)
TEASER = (
    "Lord Sharpe of Epsom, the Home Office, has provided the following answer to your written"
    " parliamentary question (HL9301): Question: To ask"
)


def _page(body: str) -> str:
    return f"<html><head><title>T</title></head><body>{body}</body></html>"


def test_a_post_column_wrapped_in_a_widget_is_read_and_a_sidebar_widget_is_not():
    # Blogger: the whole post column is <div class="widget Blog">; its sidebar is widgets too.
    page = _page(
        '<div class="main section" id="main"><div class="widget Blog" id="Blog1"><div class="post-outer">'
        f'<h3 class="post-title entry-title">Tigray</h3><div class="post-body entry-content">{EMAIL}</div>'
        '</div></div></div><div class="sidebar section" id="sidebar-right-1">'
        '<div class="widget PopularPosts">'
        f"<ul><li>{TEASER}</li></ul></div></div>"
    )
    read = read_post(page, "https://blog.example/2024/03/tigray.html")
    (answer,) = read.parse().post.answers
    assert answer.uin == "HL2275" and answer.answer_text == "We are pressing for access."
    assert read.root.get("class") == "post-body entry-content"


def test_answer_lines_in_comments_sidebars_and_related_posts_never_place_the_region():
    stamp = "<p>Date and time of answer: 02 Feb 2023 at 09:00.</p>"
    page = _page(
        f'<main><article><h1>Tigray</h1><div class="entry-content">{EMAIL}'
        f'<div id="jp-relatedposts" class="jp-relatedposts"><p>{TEASER}</p></div></div></article>'
        f'<div id="comments" class="comments-area"><ol class="comment-list">'
        f'<li class="comment">{stamp}</li></ol></div>'
        f'<aside><section class="widget"><p>{TEASER}</p></section></aside></main>'
    )
    read = read_post(page, "https://blog.example/p/")
    assert read.root.get("class") == "entry-content"
    assert "HL9301" not in read.text and "02 Feb 2023" not in read.text
    assert [a.uin for a in read.parse().post.answers] == ["HL2275"]


def test_a_post_body_of_text_and_line_breaks_is_the_region_not_its_header():
    body = EMAIL.replace("<p>", "").replace("</p>", "<br><br>")
    page = _page(
        '<div class="post hentry"><h3 class="post-title">Tigray</h3>'
        '<div class="post-header">Posted by Lord A</div>'
        f'<div class="post-body entry-content" id="post-body-1">{body}</div>'
        '<div class="post-footer">Labels: FCDO</div></div>'
    )
    read = read_post(page, "https://blog.example/2024/03/tigray.html")
    assert read.root.get("id") == "post-body-1"
    assert "Posted by" not in read.text and "Labels" not in read.text
    assert [a.uin for a in read.parse().post.answers] == ["HL2275"]


def test_a_lone_answer_line_is_read_with_the_lines_around_it():
    # Blogger's editor writes one <div> a line: a Hansard-style paste has one anchor line.
    page = _page(
        '<div class="post"><div class="post-body">'
        "<div>Lord Alton of Liverpool – To ask His Majesty's Government what steps they are"
        " taking. [HL8104]</div>"
        "<div>Lord Ahmad of Wimbledon – We are taking several steps.</div></div></div>"
    )
    read = read_post(page, "https://blog.example/p/")
    (answer,) = read.parse().post.answers
    assert answer.uin == "HL8104" and answer.answer_text == "We are taking several steps."
    assert read.root.get("class") == "post-body"


def test_a_title_holding_an_answer_line_does_not_widen_the_region():
    title = (
        "Lord Collins, the FCDO, has provided the following answer to your written parliamentary"
        " question (HL2275)"
    )
    page = _page(
        f'<article><h1 class="entry-title">{title}</h1><p class="meta">March 2024</p>'
        f'<div class="entry-content">{EMAIL}</div></article>'
    )
    read = read_post(page, "https://blog.example/p/")
    assert read.root.get("class") == "entry-content"
    assert read.parse().problems == ()


# ---------------------------------------------------------------------------------------------
# Finding posts

HOSTS = frozenset({"blog.example"})
B = "https://blog.example"


def test_a_block_theme_listing_gives_its_post_template_entries_and_its_next_page():
    saved = saved_site("wp-twentytwentyfour")
    found = discover_html(saved.html("/", B), B + "/", HOSTS)
    listed = [path for path, file in saved.pages.items() if file in ("post1.html", "post2.html")]
    assert not found.is_post
    assert set(found.posts) >= {B + path for path in listed}
    assert found.listings == (B + "/page/2/",)


def test_a_page_names_its_feeds_but_not_its_comments_feed():
    head = (
        '<link rel="alternate" type="application/rss+xml" href="/feed/">'
        '<link rel="alternate" type="application/rss+xml" href="/comments/feed/">'
        '<link rel="alternate" type="application/atom+xml" href="/feed/atom/">'
        '<link rel="alternate" type="application/feed+json" href="/feed/json/">'
        '<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts/1">'
        '<link rel="alternate" type="application/rss+xml" href="https://elsewhere.example/feed/">'
    )
    found = discover_html(f"<html><head>{head}</head><body class='home blog'></body></html>", B + "/", HOSTS)
    assert found.feeds == (B + "/feed/", B + "/feed/atom/", B + "/feed/json/")


@pytest.mark.parametrize(
    ("head", "body_class", "is_post"),
    [
        ("", "single single-post", True),
        ("", "item-view", True),  # Blogger
        ("", "post-template", True),  # Ghost
        ("", "path-node page-node-type-article", True),  # Drupal
        ("", "home blog", False),
        ("", "feed-view", False),  # Blogger
        ('<script type="application/ld+json">{"@type": "BlogPosting"}</script>', "", True),
        (
            '<script type="application/ld+json">'
            '{"@graph": [{"@type": "WebPage"}, {"@type": "Article"}]}</script>',
            "",
            True,
        ),
        (
            '<script type="application/ld+json">'
            '{"@type": "Blog", "blogPost": [{"@type": "BlogPosting"}]}</script>',
            "",
            False,
        ),
        ('<script type="application/ld+json">{"@type": "CollectionPage"}</script>', "", False),
        (
            '<script type="application/ld+json">not json</script><meta property="og:type" content="article">',
            "",
            True,
        ),
    ],
)
def test_a_page_is_a_post_by_its_body_class_json_ld_type_or_open_graph_type(head, body_class, is_post):
    page = f'<html><head>{head}</head><body class="{body_class}"><p>Text</p></body></html>'
    assert discover_html(page, B + "/x/", HOSTS).is_post is is_post


def test_a_page_nothing_classifies_is_a_post_when_it_holds_answers_and_lists_no_other_post():
    post = _page(f"<div><h1>Tigray</h1>{EMAIL}</div>")
    assert discover_html(post, B + "/tigray/", HOSTS).is_post
    listing = _page(
        f'<div><h2 class="post-title"><a href="/one/">One</a></h2>{EMAIL}'
        f'<h2 class="post-title"><a href="/two/">Two</a></h2>{EMAIL}</div>'
    )
    found = discover_html(listing, B + "/", HOSTS)
    assert not found.is_post and found.posts == (B + "/one/", B + "/two/")


def test_date_shaped_permalinks_are_posts_in_any_markup_and_date_archives_are_not():
    links = "".join(
        f'<a href="{href}">x</a>'
        for href in (
            "/2024/03/05/a-post/",
            "/2024/03/a-blogger-post.html",
            "/blog/2023/11/month-and-name/",
            "/2024/03/",
            "/2024/03/05/",
            "/2024/03/page/2/",
            "/2024/03/05/a-post/#comment-3",
            "https://elsewhere.example/2024/03/05/theirs/",
        )
    )
    found = discover_html(f"<html><body class='archive'>{links}</body></html>", B + "/", HOSTS)
    assert found.posts == (
        B + "/2024/03/05/a-post/",
        B + "/2024/03/a-blogger-post.html",
        B + "/blog/2023/11/month-and-name/",
    )


def test_older_posts_pagination_is_followed_by_rel_next_path_or_query_but_continue_reading_is_not():
    links = (
        '<a class="more-link" href="/2024/03/05/a-post/">Continue reading »</a>'
        '<a href="/news?page=1">Older posts</a>'
        '<a class="blog-pager-older-link"'
        ' href="/search?updated-max=2024-03-01T10:00:00Z&amp;max-results=7">Older Posts</a>'
        '<a class="page-numbers" href="/page/3/">3</a>'
        '<a href="/about/">Next steps for the campaign</a>'
    )
    page = f'<html><head><link rel="next" href="/page/2/"></head><body class="blog">{links}</body></html>'
    found = discover_html(page, B + "/", HOSTS)
    assert found.listings == (
        B + "/page/2/",
        B + "/news?page=1",
        B + "/search?updated-max=2024-03-01T10%3A00%3A00Z&max-results=7",
        B + "/page/3/",
    )
    assert found.posts == (B + "/2024/03/05/a-post/",)
