"""A question first seen already answered (every blog copy, every first crawl of the API) reaches a
digest with its answer and question, under a section that says so; a question first seen without
an answer is a new question; one answered after it was first seen is newly answered."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage

from monitor.notify.digest import send_due_digests
from tests.support.digests import MONDAY_8AM, RecordingTransport, add_events, add_subscriber, mailer
from tests.support.helpers import ANSWER

UNANSWERED = replace(
    ANSWER, uin="HL2480", answer_text="", date_answered=None, answered_at=None, answering_member=None
)


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML parts of a digest."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def one_digest(sessions) -> EmailMessage:  # type: ignore[no-untyped-def]
    """Send the due digests and return the one mail sent."""
    transport = RecordingTransport()
    send_due_digests(sessions, mailer(transport), MONDAY_8AM)
    [message] = transport.sent
    return message


def test_a_question_first_seen_answered_is_shown_with_its_answer_under_a_fitting_section(sessions):
    add_subscriber(sessions)
    add_events(sessions, ANSWER)
    message = one_digest(sessions)
    text, html = bodies(message)
    assert "First seen, already answered (1)\n" in text
    assert "Newly answered" not in text and "New questions" not in text
    assert "  > New to pqwatch, already answered\n" in text
    assert f"  Answer: {ANSWER.answer_text}\n" in text
    assert f"  Question: {ANSWER.question_text}\n" in text
    assert "First seen, already answered (1)</h2>" in html
    assert "<strong>New to pqwatch, already answered</strong>" in html
    assert f"Answer:</span> {ANSWER.answer_text}</div>" in html
    assert "Newly answered" not in html
    assert message["Subject"] == "pqwatch: 1 first seen already answered: Lords HL2472 (30 November 2026)"


def test_a_question_first_seen_unanswered_is_a_new_question_with_no_answer(sessions):
    add_subscriber(sessions)
    add_events(sessions, UNANSWERED)
    text, html = bodies(one_digest(sessions))
    assert "New questions (1)\n" in text and "  > New question\n" in text
    assert "Answer:" not in text and "already answered" not in text
    assert "New questions (1)</h2>" in html and "Answer:" not in html


def test_a_holding_answer_seen_first_is_a_new_question_and_a_holding_answer_not_an_answer(sessions):
    add_subscriber(sessions)
    holding = replace(UNANSWERED, answer_text="I will write to the noble Lord.", is_holding=True)
    add_events(sessions, holding)
    text, _ = bodies(one_digest(sessions))
    assert "New questions (1)" in text and "Holding answers, withdrawals and transfers (1)" in text
    assert "already answered" not in text


def test_a_question_answered_after_it_was_first_seen_is_new_then_newly_answered(sessions):
    add_subscriber(sessions)
    add_events(sessions, UNANSWERED, at=MONDAY_8AM - timedelta(hours=3))
    add_events(sessions, replace(UNANSWERED, answer_text="We met on 1 September."))
    text, _ = bodies(one_digest(sessions))
    # The first sighting is told as it was (no answer yet); the answer comes once, as its own event.
    assert "New questions (1)" in text and "Newly answered (1)" in text
    assert text.count("We met on 1 September.") == 1 and "already answered" not in text
