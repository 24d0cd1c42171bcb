"""From the model's reply to statements worth keeping: parsed, rewritten, attributed,
grounded and scored. Pure functions; the extractor supplies the episode.

Who a statement is about is decided here, by rule, not trusted to the model: the
message's author; or a third person the author names in the message ("my sister Ana
moved to Berlin"); never the other participant (a small model often turns "Cool, Gina!
I love jazz" into "Gina loves jazz").
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from reverie.core.chat.session import USER_SPEAKER
from reverie.core.extract.grounding import MIN_SUPPORT, content_words, grounding_support
from reverie.core.extract.rewrite import (
    SECOND_PERSON,
    is_about_author,
    is_about_owner,
    owner_voice,
    third_person,
    tidy,
)
from reverie.core.types import MemoryKind

log = logging.getLogger("reverie.extract")

MIN_WORDS = 5
REVIEW_BELOW = 0.6  # confidence under this sends a memory to the review inbox
THIRD_PARTY_FACTOR = 0.85  # told about someone else: one step removed from the source
DOCUMENT_FACTOR = 0.85  # a passage of a file is read with less context than a chat turn

_LEADING_NAME = re.compile(r"^([A-Z][a-zà-ÿ'’-]+(?:\s+[A-Z][a-zà-ÿ'’-]+)?)(?:'s)?\b")


@dataclass(frozen=True)
class Statement:
    """A statement that passed every check, ready to become a memory."""

    kind: MemoryKind
    text: str
    about: str
    support: float
    confidence: float


def parse_facts(raw: str) -> list[tuple[MemoryKind, str]] | None:
    """The (kind, text) pairs of a schema-shaped reply; None when the reply is not one
    (cut off, or not JSON), so the caller can ask again."""
    try:
        facts = json.loads(raw).get("facts") if raw else None
    except (json.JSONDecodeError, AttributeError):
        facts = None
    if not isinstance(facts, list):
        log.warning("extraction reply was not valid (%d chars)", len(raw))
        return None
    out: list[tuple[MemoryKind, str]] = []
    for fact in facts:
        try:
            out.append((MemoryKind(fact["kind"]), str(fact["text"])))
        except (KeyError, ValueError, TypeError):
            continue
    return out


def assertions(text: str) -> str:
    """The message without its questions: "Weren't you nervous?" asserts nothing.

    Statements are grounded against this, so a question can't become a memory.
    """
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(s for s in sentences if s and not s.rstrip("\"')").endswith("?"))


def worth_asking(text: str) -> bool:
    """Whether a message asserts enough to be worth a model call."""
    return len(assertions(text).split()) >= MIN_WORDS


def judge(
    kind: MemoryKind, said: str, *, speaker: str, source: str, participants: frozenset[str],
    document: bool,
) -> Statement | None:
    """The statement the model wrote about `source`, checked; None when it fails a check.

    `source` is the message's text, `speaker` its author, `participants` everyone who
    speaks in the conversation.
    """
    owner = speaker == USER_SPEAKER
    text = tidy(owner_voice(said) if owner else third_person(said, speaker))
    if text.endswith("?") or SECOND_PERSON.search(text):
        return None
    about = _subject(text, speaker, source, participants)
    if about is None:
        return None
    stated = assertions(source)
    support = grounding_support(text, stated, participants | {about})
    if support < MIN_SUPPORT:
        return None
    confidence = 0.5 + 0.5 * (support - MIN_SUPPORT) / (1 - MIN_SUPPORT)
    if about != speaker:
        confidence *= THIRD_PARTY_FACTOR
    if document:
        confidence *= DOCUMENT_FACTOR
    return Statement(kind, text, about, support, round(confidence, 3))


def _subject(
    text: str, speaker: str, source: str, participants: frozenset[str]
) -> str | None:
    match = _LEADING_NAME.match(text)
    name = match.group(1) if match else None
    if name is not None and name.lower() != speaker.lower():
        if name.lower() in {p.lower() for p in participants}:
            return None  # the other participant: the model misread who said what
        if _named_mid_sentence(name, source):
            return name
    if speaker == USER_SPEAKER:
        return speaker if is_about_owner(text) else None
    return speaker if is_about_author(text, speaker) else None


def _named_mid_sentence(name: str, source: str) -> bool:
    """True when `source` writes `name` capitalised after another word of its sentence,
    so it is a name and not a capitalised first word ("After", "Honestly")."""
    return re.search(rf"[\w,;:]\s+{re.escape(name)}\b", source) is not None


SAME_STATEMENT = 0.8  # share of the shorter statement's words the longer one holds


def distinct(found: list[Statement]) -> list[Statement]:
    """`found` without statements another one already says; of two that say the same,
    the one that says more is kept (the first one on a tie)."""
    kept: list[tuple[Statement, set[str]]] = []
    for statement in found:
        words = set(content_words(statement.text, frozenset({statement.about.lower()})))
        twin = next((i for i, (_, other) in enumerate(kept) if _same(words, other)), None)
        if twin is None:
            kept.append((statement, words))
        elif len(words) > len(kept[twin][1]):
            kept[twin] = (statement, words)
    return [statement for statement, _ in kept]


def _same(first: set[str], second: set[str]) -> bool:
    if not first or not second:
        return first == second
    return len(first & second) / min(len(first), len(second)) >= SAME_STATEMENT
