"""The lexical checks around the chat model: support before it, attribution after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reverie.core.chat.support import attribute, has_support, is_question, question_support
from reverie.core.types import Hit, ItemKind, SourceRef


def hit(text: str, ref: str = "1") -> Hit:
    return Hit(id=f"ep_{ref}", kind=ItemKind.EPISODE, text=text, score=1.0,
               time=datetime(2026, 3, 2, tzinfo=UTC),
               sources=(SourceRef("chat", ref),), speaker="Alex")


@pytest.mark.parametrize(("text", "asks"), [
    ("Where did I park?", True), ("when is Maya's birthday", True),
    ("Did Sam book the table", True), ("I went running today.", False),
    ("hello!", False), ("Tell me a joke", False),
])
def test_questions_are_told_from_other_messages(text: str, asks: bool) -> None:
    assert is_question(text) is asks


def test_names_and_times_are_not_counted_as_support() -> None:
    turn = "Sam is training for a half marathon in May."
    # "Sam" and "May" are in the turn but say nothing about a skiing trip.
    assert question_support("Where did Sam go skiing in May?", turn, frozenset({"Sam"})) == 0
    assert question_support("What is Sam training for?", turn, frozenset({"Sam"})) == 1
    assert question_support("What did I do?", turn) == 1.0  # nothing to judge by
    assert not has_support("Where did Sam go skiing?", [hit(turn)], frozenset({"Sam"}), 0.3)
    assert has_support("Which marathon is it?", [hit(turn)], frozenset(), 0.3)


def test_an_answer_cites_the_items_holding_its_own_words() -> None:
    hits = [hit("We booked the Thai place on Elm Street.", "a"),
            hit("I switched to oat milk because dairy upsets my stomach.", "b")]
    found = attribute("Because dairy upsets your stomach.", "Why oat milk?", hits)
    assert found.cited == (1,)
    assert found.grounded
    # Words copied from the question prove nothing: an echo cites nothing.
    echo = attribute("You switched to oat milk.", "Why did I switch to oat milk?", hits)
    assert echo.cited == ()
    assert echo.grounded
    invented = attribute("A red bicycle in Vienna.", "Why oat milk?", hits)
    assert invented.cited == ()
    assert not invented.grounded
