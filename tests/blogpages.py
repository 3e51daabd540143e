"""Small hand-made WordPress-style pages for crawl tests (the generator covers the big corpus)."""

from __future__ import annotations

from html import escape

SIDEBAR = (
    '<div id="sidebar"><div class="et_pb_widget"><h4>Lord David Alton</h4><p>For 18 years David '
    'Alton was a Member of the House of Commons.</p></div><div class="et_pb_widget"><h4>Recent '
    'Posts</h4><ul><li><a href="/x/">Lord True, the Cabinet Office, has provided the following '
    "answer to your written parliamentary question (HL9999)</a></li></ul></div></div>"
)


def email(
    uin: str,
    tabled: str,
    answered: str,
    answer: str,
    minister: str = "Baroness Williams of Trafford",
    body: str = "the Home Office",
) -> list[str]:
    """The paragraphs of one Lords notification e-mail."""
    return [
        f"{minister}, {body}, has provided the following answer to your written parliamentary"
        f" question ({uin}):",
        "Question:",
        f"To ask His Majesty’s Government what steps they are taking on {uin}. ({uin})",
        f"Tabled on: {tabled}",
        "Answer:",
        minister,
        answer,
        f"Date and time of answer: {answered}.",
    ]


def post(
    base: str,
    path: str,
    paragraphs: list[str],
    *,
    footer: str = "Page generated 1",
    shares: int = 3,
    comments: list[str] = (),
    charset: str = "UTF-8",
) -> str:
    """A single-post page with sidebar, share count, nonce script, comments and footer."""
    content = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    comment_html = "".join(f'<li class="comment"><p>{escape(c)}</p></li>' for c in comments)
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>Post</title>'
        f'<link rel="canonical" href="{base}{path}"></head>'
        f'<body class="post-template-default single single-post"><div id="main-content">'
        f'<article class="et_pb_post post"><h1 class="entry-title">Post</h1>'
        f'<p class="post-meta"><span class="published">Sep 21, 2021</span></p>'
        f'<div class="entry-content">{content}</div>'
        f'<div class="et_social_inline">Share This <span class="et_social_count">{shares}</span></div>'
        f'</article><div id="comments"><ol class="commentlist">{comment_html}</ol></div>'
        f'{SIDEBAR}</div><script nonce="{footer}">var x=1;</script>'
        f'<footer id="main-footer">{escape(footer)}</footer></body></html>'
    )


def listing(links: list[str], older: str | None = None) -> str:
    """A listing page linking posts, with an "Older Entries" link."""
    articles = "".join(
        f'<article class="et_pb_post post"><h2 class="entry-title"><a href="{href}">Post</a></h2></article>'
        for href in links
    )
    nav = f'<div class="alignleft"><a href="{older}">« Older Entries</a></div>' if older else ""
    return f'<html><body class="home blog">{articles}{nav}{SIDEBAR}</body></html>'


P1 = "/2021/09/21/hikvision/"
P2 = "/2021/09/22/sudan/"
P3 = "/2021/09/23/news/"


def site_pages(
    base: str,
    *,
    answer1: str = "I will meet the Commissioner shortly.",
    answered2: str = "22 Sep 2021 at 10:15",
    footer: str = "gen 1",
    shares: int = 3,
    comments: tuple[str, ...] = (),
) -> dict[str, bytes]:
    """Three posts on two listing pages, plus a feed."""
    pages = {
        P1: post(
            base,
            P1,
            email("HL2472", "07 September 2021", "21 Sep 2021 at 15:56", answer1),
            footer=footer,
            shares=shares,
            comments=list(comments),
        ),
        P2: post(
            base,
            P2,
            email(
                "HL2500",
                "08 September 2021",
                answered2,
                "Aid is arriving.",
                minister="Lord Ahmad of Wimbledon",
                body="the Foreign, Commonwealth and Development Office",
            )
            + ["=" * 25]
            + email(
                "HL2501",
                "08 September 2021",
                "22 Sep 2021 at 10:16",
                "More aid.",
                minister="Lord Ahmad of Wimbledon",
                body="the Foreign, Commonwealth and Development Office",
            ),
            footer=footer,
        ),
        P3: post(base, P3, ["A meeting in Parliament about Hong Kong."], footer=footer),
        "/": listing([P1, P2], older="/page/2/"),
        "/page/2/": listing([P3, f"{P1}page/2/?et_blog", "/?p=25324"]),
        "/feed/": (
            f'<?xml version="1.0"?><rss version="2.0"><channel><item><link>{base}{P2}</link></item>'
            f"</channel></rss>"
        ),
    }
    return {path: body.encode() for path, body in pages.items()}
