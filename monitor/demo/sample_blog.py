"""Deterministic sample of a WordPress (Divi) blog that republishes Lords written answers.

It imitates davidalton.net (shared/reference/data-sources.md §4) so the scraper and the
change monitor can be exercised offline. Generation 1 is the baseline; each later generation
edits a known set of answers (listed in ``SampleBlog.manifest``) and, as real WordPress does,
churns page furniture (footer timestamp, script nonce) on every page.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

HTML_TYPE = "text/html; charset=UTF-8"
RSS_TYPE = "application/rss+xml; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=UTF-8"
PER_PAGE = 10
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALTON = "Lord Alton of Liverpool"
MINISTERS = (
    ("Lord Ahmad of Wimbledon", "Foreign, Commonwealth and Development Office"),
    ("Baroness Williams of Trafford", "Home Office"),
    ("Lord True", "Cabinet Office"),
    ("Lord Kamall", "Department of Health and Social Care"),
)
# minister index | title phrase | question clause
TOPICS = tuple(
    (int(m), t, c)
    for m, t, c in (
        line.split("|")
        for line in """\
1|Hikvision and surveillance cameras|the use of Hikvision surveillance cameras in public buildings
0|forced labour in Xinjiang|the use of Uyghur forced labour in supply chains from Xinjiang
0|the humanitarian situation in Tigray|humanitarian access to the Tigray region of Ethiopia
0|violence in Plateau State, Nigeria|attacks on villages in Plateau State, Nigeria
0|the detention of Jimmy Lai|the continued detention of Jimmy Lai in Hong Kong
0|human rights in North Korea|the findings of the UN Commission of Inquiry on North Korea
0|famine in Sudan|the number of people facing acute food insecurity in Sudan
0|blasphemy laws in Pakistan|the use of blasphemy laws against religious minorities in Pakistan
0|Rohingya refugees|conditions in the Rohingya refugee camps in Cox’s Bazar
1|British National (Overseas) visas|the processing of British National (Overseas) visa applications
1|asylum for persecuted minorities|the time taken to decide asylum claims from religious minorities
2|ministerial meetings with Chinese officials|meetings between Ministers and Chinese officials
2|Chinese state-linked suppliers|the procurement of technology from Chinese state-linked companies
3|PPE contracts and Xinjiang|PPE contracts awarded to companies with links to Xinjiang
3|hospices and palliative care|the funding of hospices and palliative care services
3|COVID-19 vaccines for poorer countries|the supply of COVID-19 vaccines to low-income countries
""".splitlines()
    )
)
QUESTIONS = (
    "To ask {gov} what assessment they have made of {c}.",
    "To ask {gov} what steps they are taking to address {c}; and whether they will make a statement.",
    "To ask {gov} what discussions they have had with international partners about {c}.",
    "To ask {gov}, further to the Written Answer by {m} on {d} {mon} (HL{n}), what further "
    "assessment they have made of {c}.",
)
# Answer sentences by minister index ("*": any). "[a|b]" shows a; a "reworded" edit makes it b.
SENTENCE_TEXT = """\
0 The UK remains [deeply|gravely] concerned and raises the situation at the highest levels.
0 Ministers and [officials|senior officials] regularly raise these issues with their counterparts.
0 We will [continue to work|keep working] with partners to hold those responsible to account.
0 The UK has provided [£10 million|more than £10 million] in humanitarian assistance this year.
0 Our Embassy continues to monitor the situation [closely|very closely].
0 We raised this matter at the [|47th session of the ]UN Human Rights Council in June.
1 The Home Office keeps all such matters under [careful|close and careful] review.
1 Decisions on asylum claims are made [on a case-by-case basis|on their individual merits].
1 The Commissioner’s role is to [encourage|promote] compliance with the Surveillance Camera Code.
1 We are [committed|firmly committed] to protecting people from persecution.
1 I will be meeting the Commissioner [shortly|in the coming weeks] to discuss these issues.
1 The Government does not [comment|routinely comment] on individual cases.
2 The Government Security Group publishes guidance [for|to] departments on sensitive equipment.
2 Details of ministerial meetings are published [quarterly|every quarter] on GOV.UK.
2 The Procurement Bill will strengthen the grounds for excluding [suppliers|high-risk suppliers].
2 Departments are responsible for their own security [arrangements|arrangements and purchasing].
2 The Integrated Review sets out the Government’s [approach|overall approach].
2 We keep our approach under [constant|regular] review.
3 The Department has [published guidance for|issued guidance to] NHS trusts on ethical procurement.
3 NHS Supply Chain requires suppliers to comply with the Modern Slavery Act [2015|2015 in full].
3 The UK has donated more than [30|30.6] million vaccine doses through COVAX.
3 Integrated care boards commission palliative care [services|services for their areas].
3 The Department is working [closely|very closely] with NHS England on this matter.
3 Information on the number of contracts is not held [centrally|centrally by the Department].
* The Government takes these concerns [extremely|very] seriously.
* On 12 January, the Foreign Secretary announced [a series of|new] measures on Xinjiang.
* We will set out further details [in due course|shortly].
* The UK is committed to promoting the ethical [development and deployment|use] of technology.
* We continue to engage with civil society organisations on this [issue|question].
* The UK’s position on this matter [has not changed|remains unchanged].
"""
TOPIC_SENTENCE = "[We are|The Government is] aware of reports concerning {c}."
ADDENDA = (
    "I will write to the noble Lord and place a copy of my letter in the Library.",
    "We will provide a further update to the House in due course.",
    "Officials will continue to keep the noble Lord informed of developments.",
)
NEWS = (
    "Lord Alton writes: the international community can no longer look away from this.",
    # looks like the start of an answer e-mail but is not one: a trap for parsers
    "Lord Benyon, the Foreign, Commonwealth and Development Office, has spoken of the UK’s "
    "commitment, but words must be matched by action.",
    "The full text of the speech is available on the Parliament website.",
    "Click here to read the report published today by the All-Party Parliamentary Group.",
)
COMMENTERS = ("Mary Sheridan", "John Okafor", "Teresa Wong", "Paul Hennessy", "Ruth Abraha")
COMMENTS = (
    "Thank you for continuing to raise this in Parliament.",
    "A disappointing answer from the Minister – the same words we have heard for years.",
    "Is there any update on {uin}? The answer says a meeting would take place “shortly”.",
)
# Lords sessions (start, first UIN), newest first: UINs restart each session, so only
# (uin, tabled date) identifies a question.
SESSIONS = ((date(2022, 5, 10), 1), (date(2021, 5, 11), 1), (date(2019, 12, 19), 11000))
STAMP_BASE = datetime(2023, 1, 2, 6, 0)  # footer timestamps: fixed per generation, never the clock

Pair = tuple[str, str]  # (shown wording, alternative wording)


def _pair(text: str) -> Pair:
    return tuple(re.sub(r"\[([^|\]]*)\|([^\]]*)\]", rf"\{k}", text) for k in (1, 2))  # type: ignore


SENTENCES = {
    k: tuple(_pair(line[2:]) for line in SENTENCE_TEXT.splitlines() if line[0] in (k, "*")) for k in "0123"
}


@dataclass(frozen=True)
class SamplePost:
    """One generated post as WordPress stores it: what its REST API item is made of."""

    pid: int
    slug: str
    title: str
    published: datetime  # local time
    content_html: str  # the post body as its page's entry-content holds it (`the_content`)


@dataclass(frozen=True)
class SampleBlog:
    """A generated site: bodies and content types by URL path, plus the true answer changes."""

    pages: dict[str, bytes]
    content_types: dict[str, str]
    manifest: list[dict]
    redirects: dict[str, str] = field(default_factory=dict)  # "/?p=ID" -> permalink (LocalSite)
    posts: tuple[SamplePost, ...] = ()


@dataclass(frozen=True)
class _Answer:
    uin: str
    tabled: date
    minister: str
    department: str
    label: str
    question: str  # without the trailing "(HLn)"
    paragraphs: tuple[tuple[Pair, ...], ...]
    answered: datetime
    rule: str  # the "=" separator printed before this answer when it is not the first


@dataclass(frozen=True)
class _Post:
    pid: int
    published: datetime
    slug: str
    title: str
    categories: tuple[str, ...]
    answers: tuple[_Answer, ...]
    news: tuple[str, ...]
    comments: tuple[tuple[str, str, datetime], ...]
    shares: int
    recent_first: bool = False  # furniture edit: "Recent Posts" moved to the top of the sidebar

    @property
    def path(self) -> str:
        """The permalink path, /YYYY/MM/DD/slug/."""
        return f"/{self.published:%Y/%m/%d}/{self.slug}/"


def _esc(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br />\n")


def _meta_date(d: date) -> str:
    return f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}"


def _rfc822(t: datetime) -> str:
    return f"{DAYS[t.weekday()]}, {t.day:02d} {MONTHS[t.month - 1][:3]} {t:%Y %H:%M:%S} +0000"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower().replace("’", ""))[:200].strip("-")


def _comment(rng: random.Random, when: datetime, uin: str) -> tuple[str, str, datetime]:
    return rng.choice(COMMENTERS), rng.choice(COMMENTS).format(uin=uin), when


def _answer(rng: random.Random, published: date) -> tuple[_Answer, str]:
    mi, title, clause = rng.choice(TOPICS)
    minister, department = MINISTERS[mi]
    answered = datetime.combine(published - timedelta(days=rng.randint(1, 4)), datetime.min.time())
    answered += timedelta(hours=rng.randint(9, 18), minutes=rng.randint(0, 59))
    tabled = answered.date() - timedelta(days=rng.randint(7, 21))
    earlier = tabled - timedelta(days=rng.randint(14, 60))
    gov = "His Majesty’s Government" if tabled >= date(2022, 9, 8) else "Her Majesty’s Government"
    question = rng.choice(QUESTIONS).format(
        gov=gov, c=clause, m=minister, d=earlier.day, mon=MONTHS[earlier.month - 1], n=rng.randint(100, 9000)
    )
    sizes = [rng.randint(1, 3) for _ in range(rng.randint(1, 4))]
    pool = [_pair(TOPIC_SENTENCE.format(c=clause))] + rng.sample(SENTENCES[str(mi)], sum(sizes) - 1)
    paragraphs = tuple(tuple(pool[sum(sizes[:n]) : sum(sizes[: n + 1])]) for n in range(len(sizes)))
    label = rng.choice(("Question:", f"Question by {ALTON}:"))
    return _Answer(
        "", tabled, minister, department, label, question, paragraphs, answered, "=" * rng.randint(19, 30)
    ), title


def _news(rng: random.Random, published: datetime) -> tuple[str, tuple[str, ...]]:
    mi, _, clause = rng.choice(TOPICS)
    title = rng.choice(("Meeting in Parliament to highlight {c}", "Lords speech on {c}"))
    lines = [rng.choice(NEWS), rng.choice(NEWS)]
    if rng.random() < 0.5:  # oral question transcripts are not written answers (§4.2)
        lines += [
            f"House of Lords {_ordinal(published.day)} {MONTHS[published.month - 1]} {published.year}",
            f"{ALTON}: My Lords, what assessment have the Government made of {clause}?",
            f"{MINISTERS[mi][0]}: My Lords, the noble Lord raises an important point.",
        ]
    return title.format(c=clause), tuple(lines)


def _build_posts(n_posts: int, rng: random.Random) -> list[_Post]:
    start = datetime(2021, 2, 1)  # so that even the earliest question is tabled in 2021
    span = int((datetime(2022, 12, 20) - start).total_seconds())
    times = sorted(start + timedelta(seconds=rng.randrange(span)) for _ in range(n_posts))
    posts: list[_Post] = []
    seen: set[str] = set()
    pid = 20000
    for published in times:
        pid += rng.randint(1, 9)  # WordPress ids grow with time but skip revisions, attachments
        answers: tuple[_Answer, ...] = ()
        news: tuple[str, ...] = ()
        if rng.random() < 0.1:
            title, news = _news(rng, published)
            categories: tuple[str, ...] = rng.choice((("News",), ("Uncategorized",)))
        else:
            made = [_answer(rng, published.date()) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
            answers = tuple(a for a, _ in made)
            title = rng.choice(
                ("Replies to Parliamentary Questions on {t}", "Government replies to my questions about {t}")
            )
            title = title.format(t="; and ".join(dict.fromkeys(t for _, t in made)))
            categories = rng.choice((("News",), ("Featured parliamentary activity", "News"), ("Parliament",)))
        slug = base = _slugify(title)
        for n in range(2, n_posts + 2):  # WordPress appends -2, -3… to a slug taken that day
            if f"{published:%Y/%m/%d}/{slug}" not in seen:
                break
            slug = f"{base[:195]}-{n}"
        seen.add(f"{published:%Y/%m/%d}/{slug}")
        comments = tuple(
            _comment(rng, published + timedelta(hours=rng.randint(2, 200)), "this")
            for _ in range(rng.randint(1, 3) if rng.random() < 0.2 else 0)
        )
        posts.append(
            _Post(pid, published, slug, title, categories, answers, news, comments, rng.randint(0, 250))
        )
    # Number questions in tabling order within each session, leaving gaps for other peers.
    counters: dict[date, int] = {}
    numbered: dict[tuple[int, int], str] = {}
    for tabled, i, j in sorted(
        (a.tabled, i, j) for i, p in enumerate(posts) for j, a in enumerate(p.answers)
    ):
        session, first = next(s for s in SESSIONS if tabled >= s[0])
        counters[session] = counters.get(session, first - 1) + rng.randint(1, 3)
        numbered[i, j] = f"HL{counters[session]}"
    return [
        replace(p, answers=tuple(replace(a, uin=numbered[i, j]) for j, a in enumerate(p.answers)))
        for i, p in enumerate(posts)
    ]


def _edit_text(a: _Answer, rng: random.Random, append: bool) -> _Answer:
    paras = [list(p) for p in a.paragraphs]
    k = rng.randrange(len(paras))
    if append:
        paras[k].append((rng.choice(ADDENDA),) * 2)
    else:
        s = rng.randrange(len(paras[k]))
        paras[k][s] = paras[k][s][::-1]  # every pair's two wordings differ, so this is a real edit
    return replace(a, paragraphs=tuple(tuple(p) for p in paras))


def _apply_changes(posts: list[_Post], seed: int, generation: int, rate: float) -> list[dict]:
    """Edit posts in place for generations 2..generation; return the answer changes."""
    manifest: list[dict] = []
    touched: set[int] = set()  # a post changes at most once, so later edits never undo earlier ones
    for g in range(2, generation + 1):
        rng = random.Random(f"{seed}:generation:{g}")
        n = round(rate * len(posts))
        k, r = divmod(n, 3)
        eligible = [i for i, p in enumerate(posts) if p.answers and i not in touched]
        edited = rng.sample(eligible, min(2 * k + r, len(eligible)))
        n_text = min(k + (r > 0), len(edited))
        for pos, i in enumerate(edited):
            p = posts[i]
            j = rng.randrange(len(p.answers))
            a = p.answers[j]
            if pos < n_text:
                new, kind = _edit_text(a, rng, pos % 2 == 0), "answer_text_changed"
            else:
                moved = a.answered + timedelta(days=rng.randint(1, 5))
                new, kind = replace(a, answered=moved), "answer_date_changed"
            posts[i] = replace(p, answers=p.answers[:j] + (new,) + p.answers[j + 1 :])
            manifest.append({"path": p.path, "uin": a.uin, "date_tabled": a.tabled.isoformat(), "kind": kind})
        chosen = set(edited)
        rest = [i for i in range(len(posts)) if i not in touched and i not in chosen]
        for pos, i in enumerate(rng.sample(rest, min(n - len(edited), len(rest)))):
            p = posts[i]
            if pos % 3 == 0:
                p = replace(p, shares=p.shares + rng.randint(1, 40))
            elif pos % 3 == 1:  # a new comment that quotes a UIN but changes no answer
                uin = p.answers[0].uin if p.answers else "this"
                p = replace(
                    p, comments=p.comments + (_comment(rng, STAMP_BASE + timedelta(days=7 * g), uin),)
                )
            else:
                p = replace(p, recent_first=True)
            posts[i] = p
            chosen.add(i)
        touched |= chosen
    return sorted(manifest, key=lambda m: (m["path"], m["uin"], m["kind"]))


def _post_lines(p: _Post) -> list[str]:
    """Plain-text paragraphs of a post body ("\\n" marks a <br />)."""
    lines = list(p.news)
    for n, a in enumerate(p.answers):
        t = a.answered
        lines += [a.rule] if n else []
        lines += [
            f"{a.minister}, the {a.department}, has provided the following answer to your "
            f"written parliamentary question ({a.uin}):",
            f"{a.label}\n{a.question} ({a.uin}) ",
            f"Tabled on: {a.tabled.day:02d} {MONTHS[a.tabled.month - 1]} {a.tabled.year}",
            f"Answer:\n{a.minister}",
            *(" ".join(shown for shown, _ in para) for para in a.paragraphs),
            f"Date and time of answer: {t.day:02d} {MONTHS[t.month - 1][:3]} {t.year} at {t:%H:%M}.",
        ]
    return lines


PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="UTF-8">
<title>{title} | David Alton</title>
<link rel="canonical" href="{url}">
<meta property="og:type" content="{og_type}">
<meta property="og:title" content="{title}">
<meta property="og:url" content="{url}">
<link rel="alternate" type="application/rss+xml" title="David Alton &raquo; Feed"
 href="{base}/feed/">
<script nonce="{nonce}">var et_pb_custom = {{"ajaxurl":"{base}/wp-admin/admin-ajax.php"}};</script>
</head>
<body class="{body_class} et_right_sidebar">
<div id="page-container">
<header id="main-header"><div class="container"><a href="{base}/" id="logo">Lord David Alton</a>
<nav id="top-menu-nav"><ul id="top-menu"><li><a href="{base}/">Home</a></li>
<li><a href="{base}/about">About</a></li></ul></nav></div></header>
<div id="main-content"><div class="container"><div id="content-area" class="clearfix">
<div id="left-area">
{main}</div>
<div id="sidebar">
{widgets}
<div class="et_social_inline">Share This <span class="et_social_count">{shares}</span></div>
</div>
</div></div></div>
<footer id="main-footer"><div id="footer-bottom"><div class="container">
<p id="footer-info">Page generated {stamp:%Y-%m-%d %H:%M:%S} UTC</p></div></div></footer>
</div>
</body>
</html>
"""
WIDGETS = (
    """<div id="text-2" class="et_pb_widget widget_text">
<h4 class="widgettitle">Lord David Alton</h4><div class="textwidget">
<p>For 18 years David Alton was a Member of the House of Commons and today he is an Independent
Crossbench Life Peer in the UK House of Lords.</p></div></div>""",
    """<div id="text-3" class="et_pb_widget widget_text"><h4 class="widgettitle">Social Media</h4>
<div class="textwidget"><p><a href="https://twitter.com/DavidAltonHL">Twitter</a></p></div></div>""",
    """<div id="blog_subscription-2" class="et_pb_widget widget_blog_subscription">
<h4 class="widgettitle">Subscribe to Blog</h4><form action="{base}/" method="post"><p>Enter your
email address to subscribe to this blog and receive notifications of new posts by email.</p>
<input type="email" name="email"><button type="submit">Subscribe</button></form></div>""",
    """<div id="search-2" class="et_pb_widget widget_search">
<h4 class="widgettitle">Site Search</h4>
<form role="search" method="get" action="{base}/"><input type="text" name="s"></form></div>""",
    """<div id="recent-posts-2" class="et_pb_widget widget_recent_entries">
<h4 class="widgettitle">Recent Posts</h4><ul>{recent}</ul></div>""",
)
POST = """<article id="post-{pid}"
 class="et_pb_post post type-post post-{pid} status-publish hentry">
<div class="et_post_meta_wrapper"><h1 class="entry-title">{title}</h1>{meta}</div>
<div class="entry-content">
{content}</div>
</article>
"""
COMMENT = """<li class="comment" id="li-comment-{cid}"><article><div class="comment_postinfo">
<span class="fn">{name}</span> <span class="comment_date">on {date} at {when:%H:%M}</span></div>
<div class="comment-content"><p>{text}</p></div></article></li>"""
LISTED = """<article id="post-{pid}" class="et_pb_post post type-post post-{pid}">
<h2 class="entry-title"><a href="{url}">{title}</a></h2>{meta}
<div class="post-content"><p>{excerpt}</p></div></article>
"""
ITEM = """<item>
<title>{title}</title>
<link>{url}</link>
<dc:creator><![CDATA[lordalton]]></dc:creator>
<pubDate>{date}</pubDate>
{categories}<guid isPermaLink="false">{base}/?p={pid}</guid>
<description><![CDATA[{excerpt}]]></description>
<content:encoded><![CDATA[{content}]]></content:encoded>
</item>
"""
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>David Alton</title>
<atom:link href="{base}/feed/" rel="self" type="application/rss+xml" />
<link>{base}</link>
<description>Lord Alton of Liverpool</description>
<lastBuildDate>{date}</lastBuildDate>
<language>en-GB</language>
{items}</channel>
</rss>
"""


class _Renderer:
    """Renders pages; holds what every page shares (base URL, generation, sidebar)."""

    def __init__(self, posts: list[_Post], base: str, seed: int, generation: int) -> None:
        self.base, self.seed, self.generation = base, seed, generation
        self.stamp = STAMP_BASE + timedelta(days=7 * (generation - 1))
        self.lines = {p.pid: _post_lines(p) for p in posts}
        self.content = {
            pid: "".join(f"<p>{_esc(line)}</p>\n" for line in lines) for pid, lines in self.lines.items()
        }
        recent = "".join(
            f'\n<li><a href="{base}{p.path}">{_esc(p.title)}</a>'
            f'<div class="rpwe-summary">{_esc(self.excerpt(p, 7))}</div></li>'
            for p in posts[:-6:-1]
        )
        self.widgets = [w.format(base=base, recent=recent) for w in WIDGETS]

    def excerpt(self, p: _Post, words: int = 40) -> str:
        """Plain-text excerpt of a post, as WordPress shows in listings."""
        split = " ".join(x for x in self.lines[p.pid] if not x.startswith("==")).split()
        return " ".join(split[:words]) + ("…" if len(split) > words else "")

    def meta(self, p: _Post) -> str:
        """The Divi post-meta line: date | categories."""
        cats = ", ".join(
            f'<a href="{self.base}/category/{_slugify(c)}/" rel="category tag">{c}</a>' for c in p.categories
        )
        published = f'<span class="published">{_meta_date(p.published)}</span>'
        return f'<p class="post-meta">{published} | {cats}</p>'

    def page(
        self,
        path: str,
        title: str,
        body_class: str,
        og_type: str,
        main: str,
        shares: int,
        recent_first: bool = False,
    ) -> bytes:
        """Wrap main content in the theme: head, header, sidebar, share widget, footer."""
        nonce = hashlib.sha1(f"{self.seed}:{self.generation}:{path}".encode()).hexdigest()[:10]
        stamp = self.stamp + timedelta(seconds=zlib.crc32(path.encode()) % 3600)
        widgets = self.widgets[-1:] + self.widgets[:-1] if recent_first else self.widgets
        return PAGE.format(
            title=html.escape(title),
            url=self.base + path,
            og_type=og_type,
            base=self.base,
            nonce=nonce,
            body_class=body_class,
            main=main,
            widgets="\n".join(widgets),
            shares=shares,
            stamp=stamp,
        ).encode()

    def post(self, p: _Post) -> bytes:
        """A single post page, with its comments."""
        main = POST.format(pid=p.pid, title=_esc(p.title), meta=self.meta(p), content=self.content[p.pid])
        if p.comments:
            items = "".join(
                COMMENT.format(
                    cid=f"{p.pid}{n}", name=name, date=_meta_date(when), when=when, text=_esc(text)
                )
                for n, (name, text, when) in enumerate(p.comments)
            )
            count = f"{len(p.comments)} Comment" + "s" * (len(p.comments) > 1)
            main += (
                f'<div id="comments"><h3 class="page_title">{count}</h3>\n'
                f'<ol class="commentlist">{items}</ol></div>\n'
            )
        body_class = f"post-template-default single single-post postid-{p.pid}"
        return self.page(p.path, p.title, body_class, "article", main, p.shares, p.recent_first)

    def listing(self, n: int, chunk: list[_Post], last: int) -> bytes:
        """Home page n (1-based) with up to PER_PAGE posts, newest first."""
        path = "/" if n == 1 else f"/page/{n}/"
        main = "".join(
            LISTED.format(
                pid=p.pid,
                url=self.base + p.path,
                title=_esc(p.title),
                meta=self.meta(p),
                excerpt=_esc(self.excerpt(p)),
            )
            for p in chunk
        )
        older = f'<a href="{self.base}/page/{n + 1}/">« Older Entries</a>' if n < last else ""
        newer_path = "/" if n == 2 else f"/page/{n - 1}/"
        newer = f'<a href="{self.base}{newer_path}">Next Entries »</a>' if n > 1 else ""
        main += (
            f'<div class="pagination clearfix"><div class="alignleft">{older}</div>'
            f'<div class="alignright">{newer}</div></div>\n'
        )
        body_class = "home blog" + (f" paged paged-{n}" if n > 1 else "")
        title = "Lord Alton of Liverpool" if n == 1 else f"Page {n}"
        return self.page(path, title, body_class, "website", main, zlib.crc32(path.encode()) % 100)

    def feed(self, newest: list[_Post]) -> bytes:
        """RSS 2.0 feed of the newest posts, with full content as WordPress sends by default."""
        items = "".join(
            ITEM.format(
                title=_esc(p.title),
                url=self.base + p.path,
                date=_rfc822(p.published),
                base=self.base,
                pid=p.pid,
                excerpt=self.excerpt(p),
                content=self.content[p.pid],
                categories="".join(f"<category><![CDATA[{c}]]></category>\n" for c in p.categories),
            )
            for p in newest
        )
        return FEED.format(base=self.base, date=_rfc822(self.stamp), items=items).encode()


def generate_blog(
    n_posts: int = 1000,
    generation: int = 1,
    seed: int = 2472,
    change_rate: float = 0.05,
    base_url: str = "http://127.0.0.1:8000",
) -> SampleBlog:
    """Generate the sample blog; generation 1 is the baseline, later ones carry known edits."""
    if n_posts < 1 or generation < 1:
        raise ValueError("n_posts and generation must be at least 1")
    base = base_url.rstrip("/")
    posts = _build_posts(n_posts, random.Random(seed))
    manifest = _apply_changes(posts, seed, generation, change_rate)
    r = _Renderer(posts, base, seed, generation)
    pages = {p.path: r.post(p) for p in posts}
    newest = posts[::-1]
    last = (len(newest) + PER_PAGE - 1) // PER_PAGE
    for n in range(1, last + 1):
        chunk = newest[(n - 1) * PER_PAGE : n * PER_PAGE]
        pages["/" if n == 1 else f"/page/{n}/"] = r.listing(n, chunk, last)
    pages["/feed/"] = r.feed(newest[:PER_PAGE])
    pages["/robots.txt"] = b"User-agent: *\nDisallow: /wp-admin/\n"
    types = {path: HTML_TYPE for path in pages}
    types["/feed/"], types["/robots.txt"] = RSS_TYPE, TEXT_TYPE
    stored = tuple(SamplePost(p.pid, p.slug, p.title, p.published, r.content[p.pid]) for p in posts)
    return SampleBlog(pages, types, manifest, {f"/?p={p.pid}": p.path for p in posts}, stored)


def output_file(outdir: Path, path: str) -> Path:
    """Map a URL path to the file main() writes it to."""
    if path == "/feed/":
        return outdir / "feed" / "index.xml"
    if path.endswith("/"):
        return outdir / path.strip("/") / "index.html"
    return outdir / path.lstrip("/")


def main(argv: list[str] | None = None) -> int:
    """Command line: write a generated blog and its manifest.json to a directory."""
    ap = argparse.ArgumentParser(
        prog="python -m monitor.demo.sample_blog", description=__doc__.splitlines()[0]
    )
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--generation", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2472)
    ap.add_argument("--change-rate", type=float, default=0.05)
    ap.add_argument("--base-url", default="http://127.0.0.1:8000")
    args = ap.parse_args(argv)
    blog = generate_blog(args.posts, args.generation, args.seed, args.change_rate, args.base_url)
    for path, body in blog.pages.items():
        target = output_file(args.outdir, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    manifest = json.dumps(blog.manifest, indent=2) + "\n"
    (args.outdir / "manifest.json").write_text(manifest, encoding="utf-8")
    print(f"wrote {len(blog.pages)} pages and {len(blog.manifest)} changes to {args.outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
