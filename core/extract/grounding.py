"""Grounding: is a statement supported by the source text it cites?

A cheap lexical check, strict on purpose: most of the statement's content words must
occur in the source (allowing simple inflection). A small model that paraphrases a
little passes; one that invents does not.
"""

from __future__ import annotations

import re

from reverie.core.retrieve.keyword import STOPWORDS

_WORD = re.compile(r"[a-z0-9']+")
MIN_SUPPORT = 0.7
STEM_CHARS = 5


def content_words(text: str, ignore: frozenset[str] = frozenset()) -> list[str]:
    """The statement's words that carry meaning, lower-cased."""
    words = (w.strip("'") for w in _WORD.findall(text.lower()))
    return [w for w in words if w and w not in STOPWORDS and w not in ignore and len(w) > 1]


def stem(word: str) -> str:
    """A word cut to a crude stem, so that simple inflections meet."""
    # Plural and third-person "s" first, so "loves" meets "love" and "classes" "class".
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "sses", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word[:STEM_CHARS]


def support(statement: str, source: str, ignore: frozenset[str] = frozenset()) -> float:
    """The share of the statement's content words found in the source (0 to 1)."""
    wanted = content_words(statement, ignore)
    if not wanted:
        return 0.0
    present = {stem(w) for w in content_words(source)}
    found = sum(1 for w in wanted if stem(w) in present)
    return found / len(wanted)


# Words of dates: the prompt gives the model the day of the message, and the time a
# memory holds is worked out from the message itself (extract/dating.py), so a date the
# model writes is neither evidence for a statement nor against it.
TIME_WORDS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "yesterday", "today", "tomorrow", "week", "month",
    "year", "day", "ago", "last", "next", "recently",
})


def grounding_support(statement: str, source: str, names: frozenset[str]) -> float:
    """How well the source supports the statement (0 to 1), names and dates aside; 0 when
    the statement has fewer than two words of content.

    `names` (the speakers) are left out of the count: naming who said it is not evidence,
    and a statement with nothing but names is not a fact.
    """
    ignore = frozenset(n.lower() for n in names) | {"user", "assistant"} | TIME_WORDS
    if len(content_words(statement, ignore)) < 2:
        return 0.0
    return support(statement, source, ignore)


def is_grounded(statement: str, source: str, names: frozenset[str]) -> bool:
    """True when the source supports the statement (see `grounding_support`)."""
    return grounding_support(statement, source, names) >= MIN_SUPPORT


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
SPAN_SENTENCES = 3  # a supporting span is at most this many sentences long


def supporting_span(statement: str, source: str) -> tuple[int, int] | None:
    """The character range of `source` that best supports `statement`: the shortest
    run of up to three sentences holding the most of its content words; None when the
    source shares none of them (a memory the user wrote, or a summary)."""
    wanted = {stem(w) for w in content_words(statement)}
    if not wanted:
        return None
    sentences = [(m.start(), m.end(), {stem(w) for w in content_words(m.group())})
                 for m in _SENTENCE.finditer(source) if m.group().strip()]
    best: tuple[int, int, int] | None = None  # (found, -length, start index)
    span = None
    for first in range(len(sentences)):
        covered: set[str] = set()
        for last in range(first, min(first + SPAN_SENTENCES, len(sentences))):
            covered |= sentences[last][2] & wanted
            start, end = sentences[first][0], sentences[last][1]
            score = (len(covered), start - end, -first)
            if covered and (best is None or score > best):
                best, span = score, (start, end)
    if span is None:
        return None
    text = source[span[0]:span[1]]
    # The sentence pattern takes leading spaces with it; the highlight should not.
    return span[0] + (len(text) - len(text.lstrip())), span[1] - (len(text) - len(text.rstrip()))
