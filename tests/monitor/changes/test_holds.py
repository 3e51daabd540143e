"""Mass change holds: a run that changes too large a share of one source's answers is held from
digests until the operator releases (the digest then carries it) or discards it (never mailed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest

from monitor.changes.detect import detect
from monitor.changes.holds import MIN_QUESTIONS, HoldError, SourceScope, decide_hold, hold_mass_change
from monitor.config import ConfigError, load_settings, mass_change_threshold
from monitor.notify.digest import Mailer, send_due_digests
from monitor.notify.subscriptions import make_filters, subscribe
from monitor.queries.status import monitor_status
from monitor.queries.views import change_events, holds
from storage.record import record_page
from storage.terms import HoldState
from tests.support.helpers import ANSWER

SITE = "https://blog.example"
SCOPE = SourceScope.of_crawl("blog", [f"{SITE}/"])
MONDAY_8AM = datetime(2026, 11, 30, 8, 0)
ANSWERS = [replace(ANSWER, uin=f"HL{3000 + n}") for n in range(10)]


class Recorder:
    """A transport that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def _mailer(transport: Recorder) -> Mailer:
    return Mailer(
        transport=transport, sender="pq <pq@example.org>", base_url="https://pq.example", secret="s"
    )


def run(sessions, answers, at, site=SITE, threshold=0.2):
    """A crawl of the blog (a page per answer) and the runner's detection with its hold check."""
    for answer in answers:
        with sessions.begin() as s:
            url = f"{site}/{answer.uin.lower()}/"
            record_page(s, source_kind="blog", url=url, answers=[answer], observed_at=at)
    with sessions.begin() as s:
        detection = detect(s, now=at)
        return hold_mass_change(s, detection, SourceScope.of_crawl("blog", [f"{site}/"]), threshold, at)


def _changed(count: int, text: str = "Changed") -> list:
    return [replace(a, answer_text=f"{text} {n}.") for n, a in enumerate(ANSWERS[:count])]


def _digest_uins(sessions, transport: Recorder, at: datetime) -> set[str]:
    before = len(transport.sent)
    send_due_digests(sessions, _mailer(transport), at)
    bodies = [str(part.get_content()) for m in transport.sent[before:] if (part := m.get_body(("plain",)))]
    return {a.uin for a in ANSWERS if a.uin is not None and any(a.uin in body for body in bodies)}


def _subscribe(sessions) -> None:
    with sessions.begin() as s:
        since = MONDAY_8AM - timedelta(days=3)
        subscribe(s, "reader@example.org", filters=make_filters(), confirmed=True, now=since)


def test_a_run_changing_30_percent_of_a_source_is_held_and_10_percent_is_not(sessions):
    at = MONDAY_8AM - timedelta(days=2)
    assert run(sessions, ANSWERS, at) is None  # a first crawl knows nothing before it
    assert run(sessions, _changed(1), at + timedelta(hours=1)) is None  # 10%
    mass = run(sessions, _changed(3, "Again"), at + timedelta(hours=2))  # 30%
    assert mass is not None and (mass.changed, mass.known) == (3, 10)
    assert mass.line() == (
        f"crawl held 3 changes to 10 answers of blog.example (30%, threshold 20%):"
        f" pqwatch held release {mass.hold_id} or pqwatch held discard {mass.hold_id}"
    )
    with sessions() as s:
        shown = [e for e in change_events(s, include_held=True) if e.hold is not None]
        assert len(shown) == 3 and {e.hold.as_json()["state"] for e in shown if e.hold} == {"held"}
        assert [e for e in change_events(s) if e.hold is not None] == []  # digests never see them
        [waiting] = holds(s, HoldState.HELD)
        assert waiting.event_count == 3 and monitor_status(s).holds_waiting == (waiting,)


def test_another_site_and_a_small_source_are_not_held(sessions):
    at = MONDAY_8AM - timedelta(days=2)
    run(sessions, ANSWERS, at)
    few = ANSWERS[: MIN_QUESTIONS - 1]
    run(sessions, few, at, site="https://small.example")
    # Every answer of a 9-answer blog changes: too small a source to judge by share.
    assert run(sessions, [replace(a, answer_text="New.") for a in few], at + timedelta(hours=1),
               site="https://small.example") is None  # fmt: skip


def test_a_released_hold_goes_out_in_the_next_digest_and_a_discarded_one_never(sessions):
    _subscribe(sessions)
    transport = Recorder()
    at = MONDAY_8AM - timedelta(days=2)
    run(sessions, ANSWERS, at)
    assert len(_digest_uins(sessions, transport, MONDAY_8AM - timedelta(days=1))) == 10  # the new ones
    kept = run(sessions, _changed(3), at + timedelta(days=1, hours=1))
    bot_page = [replace(a, answer_text="Bot page.") for a in ANSWERS[5:8]]
    dropped = run(sessions, bot_page, at + timedelta(days=1, hours=2))
    assert kept is not None and dropped is not None
    assert _digest_uins(sessions, transport, MONDAY_8AM) == set()  # both held
    with sessions.begin() as s:
        decide_hold(s, kept.hold_id, HoldState.RELEASED, MONDAY_8AM)
        decide_hold(s, dropped.hold_id, HoldState.DISCARDED, MONDAY_8AM)
    tuesday = MONDAY_8AM + timedelta(days=1)
    assert _digest_uins(sessions, transport, tuesday) == {a.uin for a in ANSWERS[:3]}
    assert _digest_uins(sessions, transport, tuesday + timedelta(days=1)) == set()
    with sessions() as s:
        states = {e.hold.state for e in change_events(s, include_held=True) if e.hold}
    assert states == {HoldState.RELEASED, HoldState.DISCARDED}
    with sessions.begin() as s, pytest.raises(HoldError, match="already released"):
        decide_hold(s, kept.hold_id, HoldState.DISCARDED, tuesday)


def test_the_threshold_setting_fails_fast_on_a_bad_value():
    assert mass_change_threshold({"PQWATCH_MASS_CHANGE_THRESHOLD": "0.5"}) == 0.5
    assert load_settings({}).mass_change_threshold == 0.2
    for bad in ("lots", "0", "1.5", "nan"):
        with pytest.raises(ConfigError, match="PQWATCH_MASS_CHANGE_THRESHOLD"):
            mass_change_threshold({"PQWATCH_MASS_CHANGE_THRESHOLD": bad})


def test_a_crawls_scope_is_its_site_or_its_source():
    blog = SourceScope.of_crawl("blog", ["https://www.davidalton.net/", "https://www.davidalton.net/feed/"])
    assert (blog.name, blog.hosts) == ("davidalton.net", ("davidalton.net", "www.davidalton.net"))
    assert SourceScope.of_crawl("parliament").name == "parliament"
    assert [kind.value for kind in SourceScope.of_crawl("pages").kinds] == ["html", "hansard"]
