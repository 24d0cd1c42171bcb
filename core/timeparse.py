"""Find English time expressions in a text and resolve them against an anchor moment.

Extraction uses this to date memories ("I moved to Lisbon last March", said on 10 June
2024, is March 2024); search uses it to turn query phrases ("last May", "in 2023",
"recently") into time filters.

Design: named regexes (`_timewords.PATTERNS`, built from its word tables) each paired
with a resolver that turns a match into a period: inclusive start, exclusive end, a
`Precision`, and whether the anchor was needed. All rules run over the whole text; the
candidates are then kept longest first, so "last Saturday" is one mention and "5 May
2023" beats "May 2023". No model, no guessing: a phrase no rule knows gives nothing.
Periods are whole days of the anchor's wall clock, carrying its tzinfo (naive in, naive
out); only ranges running up to now ("recently", "the past week", "earlier this month")
end at, and "later this month" starts at, the anchor moment. Calendar arithmetic is
`dateutil.relativedelta` ("a month ago" on 31 March falls in February).

Choices, each the common reading:
- Weeks run Monday-Sunday (ISO): "last/this/next week" are the ISO weeks before, of and
  after the anchor's; a weekend is the Saturday-Sunday of such a week.
- "N days ago" is that day; "N weeks/months/years ago", "in N ..." and "N ... from now"
  are the calendar week/month/year holding the shifted day, with that precision ("two
  weeks ago" said on Saturday 20 May 2023 is the week of Monday 1 May). Vague counts are
  nominal: "a couple of" = 2, "a few" = "several" = 3.
- "last Friday" is the latest Friday before the anchor's day (said on a Saturday, the day
  before; on a Friday, a week before); "this Friday" is the Friday of the anchor's week,
  "next Friday" that of the week after, "this coming Friday" the first one after today,
  "this past Friday" = "last Friday".
- "last March" is the latest March already over, "next March" the first not yet begun,
  "this March" the anchor year's. Seasons alike, but "this summer" is the nearest one.
- Bare references ("in March", "on Friday", "March 5", "in the spring", "early June")
  follow `prefer`: "past" is the latest occurrence already begun, "future" the first not
  yet over (both take one under way), "nearest" the closest, ties going to the past.
- "early/mid/late" cut a month at days 10 and 20, a year at April and August (RANGE).
- Seasons are meteorological, northern hemisphere: spring = March-May, summer, autumn
  (fall), winter = December-February; "winter 2022" begins in December 2022.
- a/b/yyyy (or a-b-yyyy) is day-first only when a > 12, else month-first: 05/06/2023 is
  6 May. ISO dates are exact; dotted dates and two-digit years are not read.
- A bare year (1900-2100) needs a preposition before it ("in", "since", "of", "by", ...)
  and no counted noun after it ("of 2000 people"), or a month/season ("May 2023").
  "since 2023" is the year 2023; what "since" means to a filter is the caller's business.
- "recently"/"lately" run from midnight 30 days before the anchor's day up to now; "a
  while ago" is one to six months before the anchor's day; "the other day" two to seven
  days before. A day that does not exist ("31 April 2023") yields what is left ("April
  2023").
- Parts of days are not modelled: "this morning", "tonight" are today, "last night" is
  yesterday, all DAY.
- "May", "March", "August" are months only with a day number or year, after a modifier
  or preposition ("in may", "last March", "on may 5"), or capitalised mid-sentence ("we
  loved May"); "this May" needs the capital ("this may hurt"). Month abbreviations
  ("Sept") count only next to a day number; weekday abbreviations not at all.
- Words that only introduce a time are not in the mention ("in 2023", "on Friday" give
  "2023", "Friday"); words that change it are ("last", "early", "ago", "in two weeks").
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple, get_args

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]

from reverie.core import _timewords as words

Prefer = Literal["past", "future", "nearest"]
"""Which occurrence a bare reference ("in March", "on Friday") stands for."""

_Mode = Literal["past", "future", "nearest", "last", "next", "this"]
_Span = tuple[date, date]


class Precision(enum.StrEnum):
    """The kind of period a mention stands for; RANGE is any span that is not a unit."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    SEASON = "season"
    YEAR = "year"
    RANGE = "range"


@dataclass(frozen=True)
class TimeMention:
    """One time expression found in a text and the span of time it stands for.

    `start` is inclusive and `end` exclusive; both carry the anchor's tzinfo (naive when
    the anchor is). `relative` is True when the anchor was needed ("yesterday") and False
    for absolute expressions ("5 May 2023"). `text == source[start_char:end_char]`.
    """

    text: str
    start_char: int
    end_char: int
    start: datetime
    end: datetime
    precision: Precision
    relative: bool

    def describe(self) -> str:
        """The period in words: "19 January 2023", "week of 12 June 2023", "March 2024"."""
        first, year = self.start.date(), self.start.year
        season = words.SEASON_TITLES.get(first.month, "season")
        texts = {
            Precision.DAY: _day_text(first),
            Precision.WEEK: f"week of {_day_text(first)}",
            Precision.MONTH: f"{words.MONTH_TITLES[first.month - 1]} {year}",
            Precision.SEASON: f"{season} {year}"
            + (f"–{(year + 1) % 100:02d}" if first.month == 12 else ""),
            Precision.YEAR: str(year),
        }
        last = (self.end - timedelta(microseconds=1)).date()
        return texts.get(self.precision) or _range_text(first, last)


def _day_text(day: date) -> str:
    return f"{day.day} {words.MONTH_TITLES[day.month - 1]} {day.year}"


def _range_text(first: date, last: date) -> str:
    if first >= last:
        return _day_text(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{_day_text(last)}"
    if first.year == last.year:
        return f"{first.day} {words.MONTH_TITLES[first.month - 1]} – {_day_text(last)}"
    return f"{_day_text(first)} – {_day_text(last)}"


def find_times(text: str, anchor: datetime, *, prefer: Prefer = "nearest") -> list[TimeMention]:
    """All time expressions in `text`, left to right, non-overlapping (longest match wins).

    `anchor` is the moment the text was said (or now, for a query); `prefer` picks the
    occurrence of a bare reference ("in March") and is overridden by "last/this/next".
    Raises ValueError for an unknown `prefer`; never for any text.
    """
    if prefer not in get_args(Prefer):
        raise ValueError(f"prefer must be past, future or nearest, not {prefer!r}")
    context = _Context(text, anchor, anchor.date(), prefer)
    found: list[tuple[int, int, int, TimeMention]] = []
    for order, (pattern, resolve) in enumerate(_RULES):
        for match in pattern.finditer(text):
            mention = _mention(match, resolve, context)
            if mention is not None:
                length = mention.end_char - mention.start_char
                found.append((-length, mention.start_char, order, mention))
    taken: list[tuple[int, int]] = []  # spans kept so far, sorted and disjoint
    chosen: list[TimeMention] = []
    for *_, mention in sorted(found, key=lambda item: item[:3]):
        span = (mention.start_char, mention.end_char)
        at = bisect.bisect_left(taken, span)
        if (at == 0 or taken[at - 1][1] <= span[0]) and (
            at == len(taken) or span[1] <= taken[at][0]
        ):
            taken.insert(at, span)
            chosen.append(mention)
    return sorted(chosen, key=lambda mention: mention.start_char)


def first_time(text: str, anchor: datetime, *, prefer: Prefer = "nearest") -> TimeMention | None:
    """The leftmost time expression in `text` (see `find_times`), or None if there is none."""
    mentions = find_times(text, anchor, prefer=prefer)
    return mentions[0] if mentions else None


# --- resolution -------------------------------------------------------------------------


class _Hit(NamedTuple):
    """A resolved period; a bound is a datetime only where it is the anchor moment."""

    start: date
    end: date
    precision: Precision
    relative: bool = True


@dataclass(frozen=True)
class _Context:
    text: str
    anchor: datetime
    today: date
    prefer: Prefer


_Resolver = Callable[[re.Match[str], _Context], _Hit | None]

_DAY = timedelta(days=1)


def _mention(match: re.Match[str], resolve: _Resolver, context: _Context) -> TimeMention | None:
    try:
        hit = resolve(match, context)
    except (ValueError, OverflowError):
        return None  # a day that does not exist (31 April) or a year outside 1-9999
    if hit is None:
        return None
    start, end = _moment(hit.start, context.anchor), _moment(hit.end, context.anchor)
    if start >= end:  # "earlier this week" said at 00:00 on a Monday is empty
        return None
    first, last = match.span("x")
    return TimeMention(match["x"], first, last, start, end, hit.precision, hit.relative)


def _moment(value: date, anchor: datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=anchor.tzinfo)


def _group(match: re.Match[str], name: str) -> str | None:
    found: str | None = match.groupdict().get(name)
    return found


def _shift(day: date, **delta: int) -> date:
    moved: date = day + relativedelta(**delta)
    return moved


def _period(day: date, unit: str) -> _Hit:
    """The calendar day, week, month or year holding `day`."""
    if unit == "day":
        return _Hit(day, day + _DAY, Precision.DAY)
    if unit == "week":
        monday = day - timedelta(days=day.weekday())
        return _Hit(monday, monday + timedelta(days=7), Precision.WEEK)
    if unit == "month":
        first = day.replace(day=1)
        return _Hit(first, _shift(first, months=1), Precision.MONTH)
    return _Hit(date(day.year, 1, 1), date(day.year + 1, 1, 1), Precision.YEAR)


def _third(hit: _Hit, which: str | None) -> _Hit:
    """Narrow a month or a year to its early, mid or late third."""
    if not which or hit.precision not in (Precision.MONTH, Precision.YEAR):
        return hit
    if hit.precision is Precision.MONTH:
        cuts = [hit.start, hit.start.replace(day=11), hit.start.replace(day=21), hit.end]
    else:
        cuts = [hit.start, hit.start.replace(month=5), hit.start.replace(month=9), hit.end]
    index = ("early", "mid", "late").index(which.lower())
    return _Hit(cuts[index], cuts[index + 1], Precision.RANGE, hit.relative)


def _distance(span: _Span, today: date) -> int:
    if span[0] > today:
        return (span[0] - today).days
    return max(0, (today - span[1]).days + 1)


def _pick(occurrence: Callable[[int], _Span], today: date, mode: _Mode) -> _Span | None:
    """Choose among a recurring period's occurrences; occurrence(0) is the current one."""
    if mode == "this":
        return occurrence(0)
    spans: list[_Span] = []
    for k in range(-4, 5):
        try:
            spans.append(occurrence(k))
        except ValueError:  # 29 February in a common year
            continue
    if mode in ("last", "past"):
        bound = 1 if mode == "last" else 0  # over, or merely begun
        before = [span for span in spans if span[bound] <= today]
        return before[-1] if before else None
    if mode in ("next", "future"):
        bound = 0 if mode == "next" else 1  # not begun, or merely not over
        return next((span for span in spans if span[bound] > today), None)
    return min(spans, key=lambda span: _distance(span, today), default=None)


def _mode(modifier: str | None, context: _Context) -> _Mode:
    return words.MODIFIERS[words.normalise(modifier)] if modifier else context.prefer


_WORD_BEFORE = re.compile(r"\b([a-z]+)\s+(?:the\s+)?$", re.IGNORECASE)


def _word_before(text: str, position: int) -> str:
    """The word before `position`, skipping one "the"; "" if none."""
    found = _WORD_BEFORE.search(text, max(0, position - 40), position)
    return found.group(1).lower() if found else ""


def _sentence_start(text: str, position: int) -> bool:
    before = text[max(0, position - 200) : position].rstrip(" \t")
    return not before or before[-1] in '.!?\n\r"“('


def _month_ok(match: re.Match[str], context: _Context, *, strong: bool, dated: bool) -> bool:
    """Whether a month name is a month here, not the verb "may" or "march"."""
    written = match["month"]
    if strong or written.lower() not in words.AMBIGUOUS_MONTHS:
        return True
    capital = written[0].isupper()
    modifier = _group(match, "mod")
    if modifier:
        return capital or words.normalise(modifier) != "this"
    start = match.start("x")
    if _word_before(context.text, start) in words.MONTH_CONTEXT | {"on"}:
        return True
    return capital and (dated or not _sentence_start(context.text, start))


def _numeric(match: re.Match[str], context: _Context) -> _Hit:
    if match["iso_year"]:
        day = date(int(match["iso_year"]), int(match["iso_month"]), int(match["iso_day"]))
    else:
        first, second = int(match["a"]), int(match["b"])
        month, day_of_month = (second, first) if first > 12 else (first, second)
        day = date(int(match["year"]), month, day_of_month)
    return _period(day, "day")._replace(relative=False)


def _month_day(match: re.Match[str], context: _Context) -> _Hit | None:
    month, day_of_month, year = (
        words.ANY_MONTHS[match["month"].lower()],
        int(match["day"]),
        match["year"],
    )
    strong = bool(year or match["ord"] or _group(match, "of"))
    if not _month_ok(match, context, strong=strong, dated=True):
        return None
    if year:
        return _period(date(int(year), month, day_of_month), "day")._replace(relative=False)

    def occurrence(k: int) -> _Span:
        day = date(context.today.year + k, month, day_of_month)
        return day, day + _DAY

    span = _pick(occurrence, context.today, context.prefer)
    return _Hit(*span, Precision.DAY) if span else None


def _month(match: re.Match[str], context: _Context) -> _Hit | None:
    month, third, year = words.MONTHS[match["month"].lower()], match["third"], match["year"]
    if not _month_ok(match, context, strong=bool(third or year), dated=False):
        return None
    if year:
        return _third(_period(date(int(year), month, 1), "month"), third)._replace(relative=False)

    def occurrence(k: int) -> _Span:
        hit = _third(_period(date(context.today.year + k, month, 1), "month"), third)
        return hit.start, hit.end

    span = _pick(occurrence, context.today, _mode(match["mod"], context))
    return _Hit(*span, Precision.RANGE if third else Precision.MONTH) if span else None


def _season(match: re.Match[str], context: _Context) -> _Hit | None:
    first_month = words.SEASONS[match["season"].lower()]
    modifier, year = match["mod"], match["year"]
    context_word = _word_before(context.text, match.start("x"))
    if not (modifier or year or context_word in words.SEASON_CONTEXT):
        return None  # "summer is lovely" is a season in general, not a time

    def occurrence(k: int) -> _Span:
        start = date((int(year) if year else context.today.year + k), first_month, 1)
        return start, _shift(start, months=3)

    if year:
        return _Hit(*occurrence(0), Precision.SEASON, relative=False)
    mode = _mode(modifier, context)
    span = _pick(occurrence, context.today, "nearest" if mode == "this" else mode)
    return _Hit(*span, Precision.SEASON) if span else None


def _year(match: re.Match[str], context: _Context) -> _Hit:
    hit = _period(date(int(match["year"]), 1, 1), "year")._replace(relative=False)
    return _third(hit, _group(match, "third"))


def _calendar(match: re.Match[str], context: _Context) -> _Hit:
    unit = match["unit"].lower()
    step = {"last": -1, "this": 0, "next": 1}[words.MODIFIERS[words.normalise(match["mod"])]]
    if unit == "weekend":
        saturday = _period(context.today + timedelta(weeks=step), "week").start + 5 * _DAY
        return _Hit(saturday, saturday + 2 * _DAY, Precision.RANGE)
    return _third(_period(_shift(context.today, **{unit + "s": step}), unit), match["third"])


def _part_of_current(match: re.Match[str], context: _Context) -> _Hit:
    current = _period(context.today, match["unit"].lower())
    if match["dir"].lower() == "earlier":
        return _Hit(current.start, context.anchor, Precision.RANGE)
    return _Hit(context.anchor, current.end, Precision.RANGE)


def _count(written: str) -> int:
    key = words.normalise(written)
    return words.NUMBERS[key] if key in words.NUMBERS else int(key)


def _up_to_now(match: re.Match[str], context: _Context) -> _Hit:
    count = _group(match, "n")
    delta = {match["unit"].lower() + "s": -_count(count) if count else -1}
    return _Hit(_shift(context.today, **delta), context.anchor, Precision.RANGE)


def _counted(match: re.Match[str], context: _Context) -> _Hit:
    sign = -1 if (_group(match, "dir") or "").lower() in ("ago", "back") else 1
    unit = match["unit"].lower()
    return _period(_shift(context.today, **{unit + "s": sign * _count(match["n"])}), unit)


def _weekday(match: re.Match[str], context: _Context) -> _Hit | None:
    weekday = words.WEEKDAYS[match["weekday"].lower()]
    monday = _period(context.today, "week").start

    def occurrence(k: int) -> _Span:
        day = monday + timedelta(days=7 * k + weekday)
        return day, day + _DAY

    modifier = match["mod"]
    if modifier and words.normalise(modifier) == "next":
        span: _Span | None = occurrence(1)
    else:
        span = _pick(occurrence, context.today, _mode(modifier, context))
    return _Hit(*span, Precision.DAY) if span else None


def _day_word(match: re.Match[str], context: _Context) -> _Hit:
    offset = words.DAY_WORDS[words.normalise(match["x"])]
    return _period(context.today + timedelta(days=offset), "day")


def _vague(match: re.Match[str], context: _Context) -> _Hit:
    phrase, today = words.normalise(match["x"]), context.today
    if phrase in ("recently", "lately"):
        return _Hit(today - 30 * _DAY, context.anchor, Precision.RANGE)
    if phrase == "the other day":
        return _Hit(today - 7 * _DAY, today - _DAY, Precision.RANGE)
    return _Hit(_shift(today, months=-6), _shift(today, months=-1), Precision.RANGE)


# --- rules ------------------------------------------------------------------------------


def _rule(name: str, resolve: _Resolver) -> tuple[re.Pattern[str], _Resolver]:
    """Compile a pattern; group `x` is the mention, the whole match if it has no `x`."""
    pattern = words.PATTERNS[name]
    if "(?P<x>" not in pattern:
        pattern = f"(?P<x>{pattern})"
    return re.compile(pattern, re.IGNORECASE), resolve


# Ordered from specific to loose: the order breaks ties between equally long matches.
_RULES: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    _rule("numeric date", _numeric),
    _rule("day month", _month_day),
    _rule("month day", _month_day),
    _rule("month", _month),
    _rule("season", _season),
    _rule("year", _year),
    _rule("third of year", _year),
    _rule("calendar unit", _calendar),
    _rule("earlier or later this", _part_of_current),
    _rule("past count units", _up_to_now),
    _rule("past unit", _up_to_now),
    _rule("count units ago", _counted),
    _rule("in count units", _counted),
    _rule("weekday", _weekday),
    _rule("day word", _day_word),
    _rule("vague", _vague),
)
