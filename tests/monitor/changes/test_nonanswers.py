"""Non-answers: every rule flags its saved real examples and none of its near misses, and an
ordinary answer (or no answer) is not a non-answer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.changes.nonanswers import NON_ANSWER_RULES, RULES_BY_NAME, classify

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nonanswers"
API_SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "detail-1679416.json"


def _load() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.glob("*.json"))
    }


FIXTURE_FILES = _load()
EXAMPLES = [
    pytest.param(rule, example["text"], id=f"{rule}-{n}")
    for rule, fixture in FIXTURE_FILES.items()
    for n, example in enumerate(fixture["examples"])
]
NEAR_MISSES = [
    pytest.param(rule, miss["text"], id=f"{rule}-{n}")
    for rule, fixture in FIXTURE_FILES.items()
    for n, miss in enumerate(fixture["near_misses"])
]


def test_every_rule_has_a_fixture_file_and_every_file_a_rule() -> None:
    assert set(FIXTURE_FILES) == {rule.name for rule in NON_ANSWER_RULES}


@pytest.mark.parametrize("rule", [rule.name for rule in NON_ANSWER_RULES])
def test_every_rule_has_a_sourced_example_and_an_explained_near_miss(rule: str) -> None:
    fixture = FIXTURE_FILES[rule]
    assert fixture["rule"] == rule
    assert fixture["examples"] and fixture["near_misses"]
    assert all(example["text"] and example["source"].startswith("http") for example in fixture["examples"])
    assert all(miss["text"] and miss["why"] for miss in fixture["near_misses"])


def test_rule_names_are_unique_snake_case_with_a_one_line_meaning() -> None:
    names = [rule.name for rule in NON_ANSWER_RULES]
    assert len(names) == len(set(names)) == len(RULES_BY_NAME)
    for rule in NON_ANSWER_RULES:
        assert rule.name.isidentifier() and rule.name == rule.name.lower()
        assert rule.meaning and "\n" not in rule.meaning
        assert all(cue == cue.lower() for cue in rule.cues)


@pytest.mark.parametrize(("rule", "text"), EXAMPLES)
def test_a_real_example_is_classified_as_its_rule(rule: str, text: str) -> None:
    assert RULES_BY_NAME[rule].matches(text)
    assert classify(text) == rule


@pytest.mark.parametrize(("rule", "text"), NEAR_MISSES)
def test_a_near_miss_is_not_a_non_answer(rule: str, text: str) -> None:
    assert not RULES_BY_NAME[rule].matches(text)
    assert classify(text) is None


def _as_api_html(text: str) -> str:
    """The text as the Written Questions API would carry it: paragraphs, entities, typographic quotes."""
    paragraphs = text.replace("'", "\u2019").replace("&", "&amp;").split("\n\n")
    return "".join(f"<p>{paragraph}</p><p>&nbsp;</p>" for paragraph in paragraphs)


def _wrapped(text: str) -> str:
    """The text hard-wrapped as a pasted e-mail would be, with non-breaking spaces here and there."""
    words = text.split(" ")
    return "".join(
        word + ("\n" if n % 7 == 6 else "\u00a0" if n % 5 == 4 else " ") for n, word in enumerate(words)
    ).strip()


@pytest.mark.parametrize(("rule", "text"), EXAMPLES)
def test_an_example_reads_the_same_as_html_wrapped_or_shouted(rule: str, text: str) -> None:
    assert classify(_as_api_html(text)) == rule
    assert classify(_wrapped(text)) == rule
    assert classify(text.upper()) == rule


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "I will write to the noble Lord and place a copy of my letter in the Library of the House.",
            "will_write",
        ),
        (
            "I shall write to the noble and learned Baroness, and a copy will be placed in the Library.",
            "will_write",
        ),
        ("I refer the noble Lord to the Answer I gave on 3 May (HL1234).", "refers_to_earlier_answer"),
        (
            "I refer my hon. Friend to the answer given on 4 March 2024 to Question 16932.",
            "refers_to_earlier_answer",
        ),
        ("I will reply to my right hon. Friend as soon as possible.", "holding_as_soon_as_possible"),
        (
            "It has not proved possible to respond to the right hon. Member in the time available "
            "before Dissolution.",
            "prorogation",
        ),
        (
            "It has not proved possible to respond to the hon. Member in the time available before "
            "Prorogation. I will write to the hon. Member.",
            "prorogation",
        ),
    ],
)
def test_the_lords_and_friends_forms_and_rule_order(text: str, rule: str) -> None:
    assert classify(text) == rule


def test_no_answer_and_an_empty_answer_are_not_non_answers() -> None:
    assert classify(None) is None
    assert classify("") is None
    assert classify("   \n ") is None


def test_a_long_ordinary_answer_is_not_a_non_answer() -> None:
    answer = json.loads(API_SAMPLE.read_text(encoding="utf-8"))["value"]["answerText"]
    assert len(answer) > 1000
    assert classify(answer) is None


def test_a_refusal_deep_inside_a_long_answer_is_not_read() -> None:
    substance = "The Department has published the figures for each region in its annual report. " * 40
    assert classify(substance + "I will write to the hon. Member with the figures for Scotland.") is None
    assert classify(substance + "Earlier figures could be provided only at disproportionate cost.") is None


@pytest.mark.parametrize(
    "text",
    [
        "I refer the hon. Member " + "to the " * 20_000,
        "information " + "is not " * 20_000,
        "I will write to " + "the hon. " * 20_000,
        "before " + "it has not proved possible to respond " * 5_000 + "Prorogation",
        "." * 100_000,
        "<p" * 50_000,
    ],
)
def test_pathological_input_classifies_at_once(text: str) -> None:
    started = time.perf_counter()
    classify(text)
    assert time.perf_counter() - started < 0.1
