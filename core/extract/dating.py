"""When a memory happened: the time its message names, resolved against when it was said.

"I moved to Lisbon last March", said on 10 June 2024, happened in March 2024, not on the
day it was read. The time always comes from the message itself (`core/timeparse.py`),
never from the model's words, which may be copied from the prompt's date or invented.
A memory keeps a note of how its time was worked out, and a relative expression in its
text gets the resolved date beside it, so the memory still reads right next year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from reverie.core.timeparse import Precision, TimeMention, find_times
from reverie.core.types import MemoryKind

# Tense decides a bare "in May": "ran a marathon in May" is the last May, "is training
# for a marathon in May" the next one; with no tense word, the nearer of the two.
_PAST = re.compile(
    r"\b(was|were|did|had|went|got|took|made|ran|saw|met|lost|won|bought|found|left|came|"
    r"told|said|felt|began|wrote|gave|sold|spent|ago|last|\w+ed)\b", re.I)
_FUTURE = re.compile(r"\b(will|'ll|going to|gonna|plan(?:s|ning)? to|next|soon|tomorrow)\b", re.I)


@dataclass(frozen=True)
class Dated:
    """A statement with the time it refers to."""

    text: str
    when: datetime
    note: str | None


def spoken_date(moment: datetime) -> str:
    """A day as a person writes it: "10 June 2024"."""
    return f"{moment.day} {moment:%B %Y}"


def date_statement(text: str, kind: MemoryKind, source: str, said_at: datetime) -> Dated:
    """Date `text`, a statement drawn from `source` (said at `said_at`).

    The statement takes the time of an expression it repeats from the source; failing
    that, an event or plan takes the source's only time expression. A vague one
    ("recently") leaves the time at the moment it was said.
    """
    prefer: Literal["future", "past", "nearest"] = "nearest"
    if kind is MemoryKind.PLAN or _FUTURE.search(text):
        prefer = "future"
    elif _PAST.search(text):
        prefer = "past"
    mentions = find_times(source, said_at, prefer=prefer)
    chosen = _chosen(text, kind, mentions)
    if chosen is None or chosen.precision is Precision.RANGE:
        return Dated(text, said_at, None)
    if kind is not MemoryKind.PLAN and _PAST.search(text) and chosen.start > said_at:
        # "I signed up for the class, it starts next Monday": the signing up happened
        # when it was said; the date stays beside the words it belongs to.
        return Dated(_annotated(text, chosen), said_at, None)
    note = f'"{chosen.text}", said on {spoken_date(said_at)}: {chosen.describe()}'
    # "today", "this week": the moment it was said is inside the period and more exact.
    when = said_at if chosen.start <= said_at < chosen.end else chosen.start
    return Dated(_annotated(text, chosen), when, note)


def _chosen(text: str, kind: MemoryKind, mentions: list[TimeMention]) -> TimeMention | None:
    lowered = text.lower()
    for mention in mentions:
        if mention.text.lower() in lowered:
            return mention
    if len(mentions) == 1 and kind in (MemoryKind.EVENT, MemoryKind.PLAN):
        return mentions[0]
    return None


def _annotated(text: str, mention: TimeMention) -> str:
    """The statement with the resolved date after a relative expression it repeats."""
    if not mention.relative:
        return text
    found = re.search(re.escape(mention.text), text, re.IGNORECASE)
    if found is None:
        return text
    return f"{text[: found.end()]} ({mention.describe()}){text[found.end():]}"
