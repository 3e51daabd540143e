"""The pages in a real browser: Debian's Chromium, headless, driven by Playwright. A reader opens
the front page, follows a change to its question, reads the two sources side by side, and the
pages fit a 390 px wide phone screen. Screenshots of each page at 1280 and 390 px go to
tests/artifacts/ (CI keeps them)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from monitor.changes.detect import detect_changes
from monitor.web.app import create_app
from spiders.records import AnswerRecord
from storage.record import record_page
from tests.support.digests import RecordingTransport, mailer
from tests.support.web import NOW, WEB_SECRET, serve_in_thread

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
WIDTHS = (1280, 390)
ANSWER = AnswerRecord(
    house="Lords",
    uin="HL2472",
    date_tabled=date(2021, 9, 7),
    heading="Hikvision: Surveillance",
    question_text="To ask His Majesty's Government whether they have met the Information Commissioner.",
    answer_text="I will be meeting the Commissioner shortly. Officials continue to review the figures.",
    answering_member="Baroness Williams of Trafford",
    answering_body="Home Office",
    date_answered=date(2021, 9, 21),
)
API = "https://questions-statements-api.parliament.uk/api/writtenquestions/questions/1"
BLOG = "https://www.davidalton.net/2021/09/21/hikvision-and-the-very-long-address-of-a-blog-post-about-it/"


def chromium_path() -> str:
    """Debian's Chromium: .ci/run installs it; without it this test fails, never skips."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is not installed: apt-get install chromium (as .ci/run does)"
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module's tests."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def transport() -> RecordingTransport:
    """Where the site's mails go."""
    return RecordingTransport()


@pytest.fixture
def site(sessions: sessionmaker[Session], transport: RecordingTransport) -> Iterator[str]:
    """The app over a database where the record answered, then a blog copy said otherwise."""
    stored = [
        ("api", API, ANSWER, datetime(2026, 11, 1, 9)),
        (
            "blog",
            BLOG,
            replace(ANSWER, answer_text=ANSWER.answer_text.replace("shortly", "next week")),
            datetime(2026, 11, 2, 9),
        ),
        (
            "api",
            API.replace("/1", "/2"),
            replace(ANSWER, date_tabled=date(2024, 1, 5), heading="Prisons"),
            datetime(2026, 11, 3, 9),
        ),
    ]
    for kind, url, answer, at in stored:
        with sessions.begin() as session:
            record_page(session, source_kind=kind, url=url, answers=[answer], observed_at=at)
        with sessions.begin() as session:
            detect_changes(session, now=at)
    app = create_app(sessions, WEB_SECRET, "https://pqwatch.example", clock=lambda: NOW)
    with serve_in_thread(app) as url:
        # The site's public address is where it runs, so the browser's Origin is its own.
        links = replace(mailer(transport), secret=WEB_SECRET, base_url=url)
        app.extensions["pqwatch"] = replace(app.extensions["pqwatch"], base_url=url, mailer=links)
        yield url


def screenshot(page: Page, name: str) -> None:
    """Save the whole page as tests/artifacts/<name>-<width>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


def fits(page: Page) -> bool:
    """Whether the page needs no horizontal scrolling at its viewport's width."""
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reader_opens_a_change_and_reads_the_record_beside_the_blog_copy(
    browser: Browser, site: str, width: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800}, java_script_enabled=False)
    page.goto(site + "/")
    assert page.title() == "Recent changes · pqwatch"
    assert page.locator("main ol.changes li").count() >= 2
    assert fits(page)
    screenshot(page, "index")

    page.locator("main ol.changes li a", has_text="HL2472").first.click()
    page.wait_for_load_state()
    assert "/questions/lords/HL2472" in page.url
    assert page.title() in ("Hikvision: Surveillance · pqwatch", "Prisons · pqwatch")

    page.goto(site + "/questions/lords/HL2472")
    assert page.title() == "Lords written question HL2472 · pqwatch"  # two sessions: no one heading
    assert page.locator("section.question").count() == 2
    assert page.locator("p.note").inner_text().startswith("2 different questions carry the UIN HL2472")
    side = page.locator("section.disagree").first
    assert side.locator("del").first.inner_text() == "shortly."
    assert side.locator("ins").first.inner_text() == "next week."
    columns = side.locator(".columns > div")
    left, right = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert left and right
    if width >= 1000:
        assert left["y"] == right["y"] and left["x"] < right["x"]  # side by side
    else:
        assert right["y"] > left["y"]  # stacked on a phone
    assert fits(page)
    label = page.locator("form.follow label").first
    assert label.inner_text() == "Your e-mail address"
    assert page.locator("form.follow input[type=email]").first.get_attribute("required") is not None
    screenshot(page, "question")


def test_the_pages_are_usable_by_keyboard(browser: Browser, site: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(site + "/questions/lords/HL2472?tabled=2021-09-07")
    assert page.locator("header").count() == 1 and page.locator("main").count() == 1
    assert page.evaluate("document.documentElement.lang") == "en-GB"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "email":
            break
    else:
        raise AssertionError("the follow form's e-mail field cannot be reached by Tab")
    page.keyboard.type("reader@example.org")
    assert page.locator("form.follow input[type=email]").input_value() == "reader@example.org"


def test_a_reader_follows_a_question_and_confirms_from_the_mail(
    browser: Browser, site: str, transport: RecordingTransport
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800}, java_script_enabled=False)
    page.goto(site + "/questions/lords/HL2472?tabled=2021-09-07")
    page.fill("form.follow input[type=email]", "reader@example.org")
    page.click("form.follow button")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Check your mail to confirm"
    assert fits(page)
    screenshot(page, "follow")

    assert [message["To"] for message in transport.sent] == ["reader@example.org"]
    text = transport.sent[0].get_body(("plain",))
    assert text is not None
    link = re.search(re.escape(site) + r"/confirm/\S+", text.get_content())
    assert link, text.get_content()
    page.goto(link.group(0))
    assert "HL2472" in page.locator("main").inner_text()  # the page says what is confirmed
    page.locator("main button").first.click()
    page.wait_for_load_state()
    assert "confirmed" in page.locator("main").inner_text().lower()
    screenshot(page, "confirmed")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reader_reads_the_timeliness_table_and_chart_and_chooses_a_session(
    browser: Browser, site: str, width: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800}, java_script_enabled=False)
    page.goto(site + "/")
    page.locator("header nav a", has_text="Timeliness").click()
    page.wait_for_load_state()
    assert page.title() == "Timeliness of answers · pqwatch"
    chart = page.locator("figure svg[role=img]")
    box = chart.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 30  # drawn, without any script
    assert page.locator("figure svg rect").count() == 1  # one body answered an ordinary question
    assert page.locator("table tbody th[scope=row]").all_inner_texts() == ["Home Office"]
    assert fits(page)  # the wide table scrolls inside its own region on a phone
    screenshot(page, "stats")

    page.select_option("select#session", "2021-22")
    page.locator("form.filters button").click()
    page.wait_for_load_state()
    assert "session=2021-22" in page.url
    # HL2472 was tabled on 7 September 2021: in session 2021-22; the 2024 question is not.
    assert page.locator("table tbody td").first.inner_text() == "1"
    assert page.locator("select#session").input_value() == "2021-22"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reader_filters_the_changes_opens_a_department_and_a_member(
    browser: Browser, site: str, width: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800}, java_script_enabled=False)
    page.goto(site + "/")
    page.fill("#f-department", "home office")
    page.select_option("#f-kind", "new")
    page.locator("form.filters button").click()
    page.wait_for_load_state()
    assert "/changes?" in page.url and "kind=new" in page.url
    assert page.locator("p.note").inner_text().startswith("Showing changes where department: home office")
    assert (
        page.locator("ol.changes li .kind").all_inner_texts()
        == ["New"] * page.locator("ol.changes li").count()
    )
    assert fits(page)
    screenshot(page, "changes")

    page.locator("header nav a", has_text="Departments").click()
    page.wait_for_load_state()
    page.locator("main a", has_text="Home Office").click()
    page.wait_for_load_state()
    assert page.title() == "Home Office · pqwatch" and page.url.endswith("/departments/home-office")
    assert page.locator("#latest ~ ol.changes li").count() >= 1
    assert fits(page)
    screenshot(page, "department")

    page.goto(site + "/members")
    page.locator("main a", has_text="Baroness Williams of Trafford").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Baroness Williams of Trafford"
    assert "HL2472" in page.locator("section", has=page.locator("#answered")).inner_text()
    assert fits(page)
    screenshot(page, "member")


def test_a_reader_subscribes_to_a_filtered_view_confirms_and_unsubscribes(
    browser: Browser, site: str, transport: RecordingTransport
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800}, java_script_enabled=False)
    page.goto(site + "/changes?department=Home+Office&kind=answer_text_changed")
    page.fill("#subscribe-email", "newsroom@example.org")
    page.select_option("#subscribe-frequency", "weekly")
    page.locator("form.follow button").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Check your mail to confirm"
    assert "department: Home Office; changes: answer_text_changed" in page.locator("main").inner_text()
    page.locator("main a", has_text="Back").click()
    page.wait_for_load_state()
    assert "department=Home+Office" in page.url

    [mail] = transport.sent
    text = mail.get_body(("plain",))
    assert text is not None
    link = re.search(re.escape(site) + r"/confirm/\S+", text.get_content())
    assert link, text.get_content()
    page.goto(link.group(0))
    page.locator("main button").first.click()
    page.wait_for_load_state()
    assert "Subscription confirmed" in page.locator("h1").inner_text()
    assert "weekly" in page.locator("main").inner_text()
    page.locator("main a", has_text="Change these settings").click()
    page.wait_for_load_state()
    page.locator("form[action*='/unsubscribe/'] button").click()
    page.wait_for_load_state()
    assert "unsubscribed" in page.locator("main").inner_text().lower()
    assert fits(page)


# The pages a reader browses; each must have its landmarks, one heading and a name for every control.
MAIN_PAGES = (
    "/",
    "/changes?kind=new",
    "/departments",
    "/departments/home-office",
    "/members",
    "/members/baroness-williams-of-trafford",
    "/stats",
    "/search?q=commissioner",
    "/questions/lords/HL2472?tabled=2021-09-07",
)
UNNAMED_CONTROLS = """() => [
    ...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')
].filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
               && !el.textContent.trim()).map(el => el.outerHTML)"""


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_every_page_has_landmarks_one_heading_and_named_controls(
    browser: Browser, site: str, path: str
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800}, java_script_enabled=True)
    page.goto(site + path)
    assert page.locator("header").count() == 1 and page.locator("main").count() == 1
    assert page.locator("nav[aria-label=Site]").count() == 1
    assert page.locator("h1").count() >= 1
    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert fits(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reader_searches_past_versions_and_opens_a_hit(browser: Browser, site: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800}, java_script_enabled=False)
    page.goto(site + "/")
    page.locator("header nav a", has_text="Search").click()
    page.wait_for_load_state()
    # The blog copy once said "next week"; the record says "shortly": both are found.
    page.fill("#s-q", '"next week"')
    page.locator("form[role=search] button").click()
    page.wait_for_load_state()
    assert "q=%22next+week%22" in page.url
    hits = page.locator("ol.hits li")
    assert hits.count() >= 1
    assert hits.first.locator("mark").first.inner_text().lower() in ("next", "next week")
    assert fits(page)
    screenshot(page, "search")
    hits.first.locator("a").first.click()
    page.wait_for_load_state()
    assert "/questions/lords/HL2472" in page.url
