"""Vocabulary tables for `reverie.core.timeparse`: the words, not the rules.

Everything here is lower case; the parser matches case-insensitively and looks at the
original capitalisation itself where it matters ("May" the month against "may" the verb).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

MONTHS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        "january february march april may june july august september october november "
        "december".split(),
        start=1,
    )
}
"""Full month names, accepted wherever a month may stand."""

MONTH_ABBREVIATIONS: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
"""Short month names, accepted only next to a day number ("Mar 5", "5 Sept 2023")."""

ANY_MONTHS: dict[str, int] = {**MONTHS, **MONTH_ABBREVIATIONS}
"""Full and short month names together."""

MONTH_TITLES: tuple[str, ...] = tuple(name.title() for name in MONTHS)
"""Month names as `TimeMention.describe` writes them, January first."""

AMBIGUOUS_MONTHS: frozenset[str] = frozenset({"may", "march", "august", "mar"})
"""Month names that are also common English words ("I may go", "we march", "august")."""

MONTH_CONTEXT: frozenset[str] = frozenset(
    "in of during since until till by from before after through throughout around "
    "last next early mid late".split()
)
"""A word just before an ambiguous month name that makes it a month ("in may")."""

WEEKDAYS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        "monday tuesday wednesday thursday friday saturday sunday".split()
    )
}
"""Weekday names, Monday = 0 as in `date.weekday()`. Abbreviations are not supported."""

NUMBERS: dict[str, int] = {
    **{
        word: number
        for number, word in enumerate(
            "one two three four five six seven eight nine ten eleven twelve".split(), start=1
        )
    },
    "a": 1, "an": 1, "a couple of": 2, "a couple": 2, "couple of": 2,
    "a few": 3, "few": 3, "several": 3,
}  # fmt: skip
"""Counts written as words; vague ones take a nominal value (a few = several = 3)."""

SEASONS: dict[str, int] = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
"""Season names and the month each begins (meteorological, northern hemisphere)."""

SEASON_TITLES: dict[int, str] = {3: "spring", 6: "summer", 9: "autumn", 12: "winter"}
"""The name `describe` gives a season, by the month it begins."""

SEASON_CONTEXT: frozenset[str] = frozenset(
    "in during over through throughout since until till by before after".split()
)
"""A word before a bare season name ("in the spring") that makes it a time, not a thing."""

YEAR_CONTEXT: tuple[str, ...] = tuple(
    "in during since of by from until till through throughout before after around circa".split()
)
"""Words that let a bare four-digit number stand for a year ("in 2023")."""

QUANTITY_NOUNS: tuple[str, ...] = tuple(
    "people persons users members employees students words pages steps times votes "
    "dollars euros pounds yen usd eur gbp bucks km kilometres kilometers miles metres "
    "meters feet kg kilos calories points units items copies rows lines".split()
)
"""Nouns after a four-digit number that make it a count, not a year ("of 2000 people")."""

DAY_WORDS: dict[str, int] = {
    "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
    "earlier today": 0, "later today": 0, "last night": -1,
    "the day before yesterday": -2, "day before yesterday": -2,
    "the day after tomorrow": 2, "day after tomorrow": 2,
    **{
        f"{day}{part}": offset
        for day, offset in (("yesterday", -1), ("tomorrow", 1))
        for part in ("", " morning", " afternoon", " evening", " night")
    },
}  # fmt: skip
"""Phrases naming one day, as an offset in days from the anchor's day."""

VAGUE: frozenset[str] = frozenset(
    {"recently", "lately", "a while ago", "a while back", "the other day"}
)
"""Phrases for a loose period before the anchor; `timeparse` gives each its range."""


MODIFIERS: dict[str, Literal["last", "next", "this"]] = {
    "last": "last", "previous": "last", "past": "last", "this past": "last",
    "next": "next", "coming": "next", "this coming": "next", "this": "this",
}  # fmt: skip
"""Words before a weekday, month or season, and the occurrence each selects."""


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first, any run of spaces as `\\s+`."""
    ordered = sorted(set(words), key=lambda word: (-len(word), word))
    return "|".join(r"\s+".join(map(re.escape, word.split())) for word in ordered)


def normalise(phrase: str) -> str:
    """Lower case with single spaces: the key form of the tables above."""
    return " ".join(phrase.lower().split())


# Regex pieces the patterns are built from; each names the groups its resolver reads.
_COUNT = rf"(?P<n>\d{{1,3}}|{alternation(NUMBERS)})"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_YEAR = r"(?P<year>19\d\d|20\d\d|2100)"
_MONTH = rf"(?P<month>{alternation(MONTHS)})"
_ANY_MONTH = rf"(?P<month>{alternation(ANY_MONTHS)})\b\.?"
_WEEKDAY = alternation(WEEKDAYS)
_LEAD = rf"(?:(?:{_WEEKDAY}),?\s+)?"  # the weekday of "Friday, 5 May 2023"
_DAY_NUMBER = r"(?P<day>3[01]|[12]\d|0?[1-9])(?P<ord>st|nd|rd|th)?"
_MODIFIER = rf"(?P<mod>{alternation(MODIFIERS)})"
_CALENDAR_MODIFIER = alternation(set(MODIFIERS) - {"past"})  # "past week" is a range
_THIRD = r"(?P<third>early|mid|late)"
_NOT_A_COUNT = rf"(?!\s*(?:%|[-–/]\s*\d|(?:{alternation(QUANTITY_NOUNS)})\b))"

PATTERNS: dict[str, str] = {
    "numeric date": r"\b(?:(?P<iso_year>\d{4})-(?P<iso_month>\d\d?)-(?P<iso_day>\d\d?)(?!\d)"
    r"|(?P<a>\d\d?)(?P<sep>[/-])(?P<b>\d\d?)(?P=sep)(?P<year>\d{4})\b)",
    "day month": rf"\b{_LEAD}(?:the\s+)?{_DAY_NUMBER}\s+(?:(?P<of>of)\s+)?{_ANY_MONTH}"
    rf"(?:,?\s+{_YEAR}\b)?",
    "month day": rf"\b{_LEAD}{_ANY_MONTH}\s+(?:the\s+)?{_DAY_NUMBER}\b(?:,?\s+{_YEAR}\b)?",
    "month": rf"\b(?:{_MODIFIER}\s+|{_THIRD}[-\s]+)?{_MONTH}\b(?:,?\s+(?:of\s+)?{_YEAR}\b)?",
    "season": rf"\b(?:{_MODIFIER}\s+)?(?P<season>{alternation(SEASONS)})\b"
    rf"(?:,?\s+(?:of\s+)?{_YEAR}\b)?",
    "year": rf"\b(?:{alternation(YEAR_CONTEXT)})\s+(?:the\s+year\s+)?"
    rf"(?P<x>{_YEAR})\b{_NOT_A_COUNT}",
    "third of year": rf"\b{_THIRD}[-\s]+{_YEAR}\b{_NOT_A_COUNT}",
    "calendar unit": rf"\b(?:{_THIRD}\s+)?(?P<mod>{_CALENDAR_MODIFIER})\s+"
    r"(?P<unit>weekend|week|month|year)\b(?!\s+of\b)",
    "earlier or later this": r"\b(?P<dir>earlier|later)\s+this\s+(?P<unit>week|month|year)\b",
    "past count units": rf"\b(?:(?:the|these)\s+)?(?:past|last)\s+{_COUNT}\s+{_UNIT}\b",
    "past unit": rf"\b(?:the\s+(?:past|last)|past)\s+{_UNIT}\b(?!\s+of\b)",
    "count units ago": rf"\b{_COUNT}\s+{_UNIT}\s+(?P<dir>ago|back|from\s+now)\b",
    "in count units": rf"\bin\s+{_COUNT}\s+{_UNIT}\b",
    "weekday": rf"\b(?:{_MODIFIER}\s+)?(?P<weekday>{_WEEKDAY})\b",
    "day word": rf"\b(?:{alternation(DAY_WORDS)})\b",
    "vague": rf"\b(?:{alternation(VAGUE)})\b",
}
"""The surface forms, by name: case-insensitive regexes whose named groups the resolvers
in `timeparse` read. Group `x`, where present, is the mention; around it is context that
is not part of it (the "in" of "in 2023")."""
