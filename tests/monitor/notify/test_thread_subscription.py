"""Following a whole thread: a subscription to one question with `thread` hears of every question
linked to it by follow-ups, either way and through several links, and of nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from monitor.cli.commands import main
from monitor.notify.digest import send_due_digests
from monitor.notify.subscriptions import (
    Filters,
    SubscriptionError,
    filter_labels,
    filters_text,
    make_filters,
    thread_members,
)
from spiders.records import AnswerRecord
from tests.support.digests import MONDAY_8AM, RecordingTransport, add_events, add_subscriber, mailer

# A real thread's shape: 9100 follows up the answer to 7926, and 9200 follows up 9100's answer.
FIRST = AnswerRecord(
    house="Commons",
    uin="7926",
    date_tabled=date(2024, 1, 5),
    heading="Prisons: Overcrowding",
    question_text="To ask the Secretary of State for Justice, how many prisons are over capacity.",
    answer_text="The information is not held centrally.",
    answering_body="Ministry of Justice",
    date_answered=date(2024, 1, 10),
)
SECOND = replace(
    FIRST,
    uin="9100",
    date_tabled=date(2024, 1, 22),
    question_text="To ask the Secretary of State for Justice, pursuant to the Answer of 10 January 2024"
    " to Question 7926, when that information will be collected.",
    answer_text="Later this year.",
    date_answered=date(2024, 1, 29),
)
THIRD = replace(
    FIRST,
    uin="9200",
    date_tabled=date(2024, 2, 5),
    question_text="To ask the Secretary of State for Justice, pursuant to the Answer of 29 January 2024"
    " to Question 9100, in which month.",
    answer_text="In June.",
    date_answered=date(2024, 2, 8),
)
OTHER = replace(FIRST, uin="9300", question_text="To ask the Secretary of State for Justice, about courts.")


def test_following_a_thread_needs_a_question_and_is_kept_and_shown():
    with pytest.raises(SubscriptionError, match="needs the UIN"):
        make_filters(thread=True)
    filters = make_filters(uin="7926", thread=True)
    assert Filters.from_json(filters.as_json()) == filters
    assert filters_text(filters.as_json()) == "uin=7926 thread=yes"
    assert filter_labels(filters.as_json()) == (("UIN", "7926"), ("With its thread", "yes"))
    assert "thread" not in make_filters(uin="7926").as_json()  # the stored form of older ones


def test_a_thread_reaches_every_follow_up_either_way_and_nothing_else(sessions):
    add_events(sessions, FIRST, SECOND, THIRD, OTHER)
    expected = {("Commons", "7926"), ("Commons", "9100"), ("Commons", "9200")}
    with sessions() as session:
        assert thread_members(session, "7926", "Commons") == expected
        assert thread_members(session, "9200", None) == expected  # a number: a Commons UIN
        assert thread_members(session, "9300", "Commons") == {("Commons", "9300")}


def test_a_thread_subscriber_hears_of_the_follow_ups_and_a_question_subscriber_does_not(sessions):
    add_subscriber(sessions, "thread@example.org", uin="7926", thread=True)
    add_subscriber(sessions, "question@example.org", uin="7926")
    add_events(sessions, FIRST, SECOND, THIRD, OTHER)
    transport = RecordingTransport()
    assert send_due_digests(sessions, mailer(transport), MONDAY_8AM).sent == 2
    bodies = {}
    for message in transport.sent:
        text = message.get_body(("plain",))
        assert text is not None
        bodies[message["To"]] = text.get_content()
    thread, question = bodies["thread@example.org"], bodies["question@example.org"]
    assert all(f"Commons {uin}" in thread for uin in ("7926", "9100", "9200"))
    assert "9300" not in thread
    assert "Commons 7926" in question and "9100" not in question and "9200" not in question


def test_the_command_line_follows_a_thread(sessions, db_url, capsys):
    follow = ["subscribe", "reader@example.org", "--uin", "7926", "--thread", "--confirmed"]
    assert main(["--db", db_url, *follow]) == 0
    assert "uin=7926 thread=yes" in capsys.readouterr().out
    assert main(["--db", db_url, "subscribe", "reader@example.org", "--thread", "--confirmed"]) == 2
    assert capsys.readouterr().err.strip().endswith("following a thread needs the UIN of a question in it")
