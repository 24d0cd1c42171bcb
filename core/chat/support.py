"""Does memory hold an answer, and which memories did an answer come from?

Two cheap lexical checks around the chat model, so that neither decision is left to a
small model that invents freely:

- `has_support`, before the model: a question is answered only when some retrieved
  item holds enough of its content words. Names of people and words of time are left
  out of the count: every turn of a conversation names its people, and the time is
  already a filter. The dense similarity was measured as a signal too and did not
  separate answerable from unanswerable questions (docs/retrieval.md, "Chat").
- `attribute`, after the model: the items that hold the answer's own words (those not
  copied from the question) are the ones it cites. This works the same for any model,
  and a small one does not cite reliably. An answer whose words are mostly in no item
  is marked not grounded, and the UI says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reverie.core.extract.grounding import TIME_WORDS, content_words, stem
from reverie.core.types import Hit

# Words a question is phrased with that say nothing about what it asks for.
QUESTION_FILLER = frozenset(
    """
    much many often kind type sort something anything ever likely might ways some things
    thing one get got go went like think feel felt did do does doing would usually
    remember recall know tell
    """.split()
)
# Words an answer is phrased with that are not evidence of where it came from.
ANSWER_FILLER = frozenset(
    """
    answer question memory memories reverie remember recall said says told mentioned
    yes no not don't know sure sorry hello hi thanks help happy i'm i've i'll i'd you're
    you've you'll it's that's there's let's can't won't didn't doesn't isn't wasn't
    """.split()
)
_QUESTION_OPENERS = frozenset(
    """
    who whom whose what when where which why how did do does is are was were has have
    had can could will would should shall may might
    """.split()
)
_FIRST_WORD = re.compile(r"[a-z']+")
CITE_SHARE = 0.34  # an item holding a third of the answer's own words is a source
GROUNDED_SHARE = 0.5  # an answer is grounded when half its own words are in the items
MAX_CITED = 3


def is_question(text: str) -> bool:
    """A message that asks something: ends with "?" or opens like a question."""
    stripped = text.strip().lower()
    if stripped.endswith("?"):
        return True
    first = _FIRST_WORD.match(stripped)
    return first is not None and first.group(0) in _QUESTION_OPENERS


def _name_words(names: frozenset[str]) -> frozenset[str]:
    return frozenset(word for name in names for word in name.lower().split())


def question_support(question: str, text: str, names: frozenset[str] = frozenset()) -> float:
    """The share (0 to 1) of the question's content words that `text` holds.

    A question with no content words left ("what did I do?") is not judged: 1.0.
    """
    ignore = _name_words(names) | TIME_WORDS | QUESTION_FILLER
    wanted = content_words(question, ignore)
    if not wanted:
        return 1.0
    present = {stem(word) for word in content_words(text)}
    return sum(1 for word in wanted if stem(word) in present) / len(wanted)


def has_support(
    question: str, hits: Sequence[Hit], names: frozenset[str], minimum: float
) -> bool:
    """True when some hit holds at least `minimum` of the question's content words."""
    return any(question_support(question, hit.text, names) >= minimum for hit in hits)


@dataclass(frozen=True)
class Attribution:
    """Which hits (0-based, best first) an answer came from, and whether it is grounded."""

    cited: tuple[int, ...]
    grounded: bool


def attribute(
    answer: str, question: str, hits: Sequence[Hit], names: frozenset[str] = frozenset()
) -> Attribution:
    """The hits an answer draws on: those holding most of its own words, best first."""
    asked = {stem(word) for word in content_words(question)}
    ignore = _name_words(names) | ANSWER_FILLER
    own = {stem(word) for word in content_words(answer, ignore)} - asked
    if not own:
        # The answer only restates the question (or says it does not know).
        return Attribution((), grounded=True)
    held = [{stem(word) for word in content_words(hit.text)} for hit in hits]
    shares = [len(own & words) / len(own) for words in held]
    by_share = sorted(range(len(hits)), key=lambda i: -shares[i])
    found = [i for i in by_share if shares[i] >= CITE_SHARE]
    cited = found[:MAX_CITED]
    covered = set().union(*held) if held else set()
    grounded = len(own & covered) / len(own) >= GROUNDED_SHARE
    return Attribution(tuple(cited), grounded)
