"""Time expressions found in text and resolved against an anchor (`reverie.core.timeparse`).

Most cases are table rows: a text, an anchor, a `prefer`, and the one mention expected,
with its period and precision. The default anchor is Monday 10 June 2024, 15:00.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reverie.core.timeparse import Precision, Prefer, TimeMention, find_times, first_time

MON = datetime(2024, 6, 10, 15, 0)  # a Monday
DAY, WEEK, MONTH, SEASON, YEAR, RANGE = (
    Precision.DAY,
    Precision.WEEK,
    Precision.MONTH,
    Precision.SEASON,
    Precision.YEAR,
    Precision.RANGE,
)


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """A naive moment, as the default anchor is naive."""
    return datetime(year, month, day, hour)


def only(text: str, anchor: datetime = MON, prefer: Prefer = "nearest") -> TimeMention:
    """The single mention `text` must hold."""
    mentions = find_times(text, anchor, prefer=prefer)
    assert len(mentions) == 1, mentions
    return mentions[0]


def check(mention: TimeMention, start: datetime, end: datetime, precision: Precision) -> None:
    assert (mention.start, mention.end, mention.precision) == (start, end, precision)


# --- the brief's examples -------------------------------------------------------------


def test_last_march_said_in_june_is_march_of_that_year() -> None:
    mention = only("I moved to Lisbon last March", at(2024, 6, 10))
    assert mention.text == "last March"
    check(mention, at(2024, 3, 1), at(2024, 4, 1), MONTH)
    assert mention.relative
    assert mention.describe() == "March 2024"


def test_yesterday_is_the_day_before_the_anchor() -> None:
    mention = only("Lost my job yesterday", at(2023, 1, 20, 9))
    check(mention, at(2023, 1, 19), at(2023, 1, 20), DAY)
    assert mention.describe() == "19 January 2023"


def test_two_weeks_ago_is_the_iso_week_holding_the_day_two_weeks_back() -> None:
    # Saturday 20 May 2023 minus two weeks is Saturday 6 May, in the week of Monday 1 May.
    mention = only("two weeks ago", at(2023, 5, 20, 12))
    check(mention, at(2023, 5, 1), at(2023, 5, 8), WEEK)
    assert mention.describe() == "week of 1 May 2023"


# --- one table per family ---------------------------------------------------------------

Row = tuple[str, str, datetime, datetime, Precision]

DAY_WORDS: list[Row] = [
    ("today", "today", at(2024, 6, 10), at(2024, 6, 11), DAY),
    ("see you tonight", "tonight", at(2024, 6, 10), at(2024, 6, 11), DAY),
    ("this morning I ran", "this morning", at(2024, 6, 10), at(2024, 6, 11), DAY),
    ("this evening", "this evening", at(2024, 6, 10), at(2024, 6, 11), DAY),
    ("Yesterday was odd", "Yesterday", at(2024, 6, 9), at(2024, 6, 10), DAY),
    ("tomorrow evening", "tomorrow evening", at(2024, 6, 11), at(2024, 6, 12), DAY),
    ("the day before yesterday", "the day before yesterday", at(2024, 6, 8), at(2024, 6, 9), DAY),
    ("day after tomorrow", "day after tomorrow", at(2024, 6, 12), at(2024, 6, 13), DAY),
    ("we argued last night", "last night", at(2024, 6, 9), at(2024, 6, 10), DAY),
]

COUNTED: list[Row] = [
    ("3 days ago", "3 days ago", at(2024, 6, 7), at(2024, 6, 8), DAY),
    ("a couple of days ago", "a couple of days ago", at(2024, 6, 8), at(2024, 6, 9), DAY),
    ("a few weeks ago", "a few weeks ago", at(2024, 5, 20), at(2024, 5, 27), WEEK),
    ("two months ago", "two months ago", at(2024, 4, 1), at(2024, 5, 1), MONTH),
    ("a year ago", "a year ago", at(2023, 1, 1), at(2024, 1, 1), YEAR),
    ("several years back", "several years back", at(2021, 1, 1), at(2022, 1, 1), YEAR),
    ("in 3 days", "in 3 days", at(2024, 6, 13), at(2024, 6, 14), DAY),
    ("in two weeks", "in two weeks", at(2024, 6, 24), at(2024, 7, 1), WEEK),
    ("2 weeks from now", "2 weeks from now", at(2024, 6, 24), at(2024, 7, 1), WEEK),
    ("in a month", "in a month", at(2024, 7, 1), at(2024, 8, 1), MONTH),
]

CALENDAR: list[Row] = [
    ("last week", "last week", at(2024, 6, 3), at(2024, 6, 10), WEEK),
    ("this week", "this week", at(2024, 6, 10), at(2024, 6, 17), WEEK),
    ("NEXT WEEK", "NEXT WEEK", at(2024, 6, 17), at(2024, 6, 24), WEEK),
    ("last month", "last month", at(2024, 5, 1), at(2024, 6, 1), MONTH),
    ("next month", "next month", at(2024, 7, 1), at(2024, 8, 1), MONTH),
    ("this year", "this year", at(2024, 1, 1), at(2025, 1, 1), YEAR),
    ("last year", "last year", at(2023, 1, 1), at(2024, 1, 1), YEAR),
    ("last weekend", "last weekend", at(2024, 6, 8), at(2024, 6, 10), RANGE),
    ("this weekend", "this weekend", at(2024, 6, 15), at(2024, 6, 17), RANGE),
    ("next weekend", "next weekend", at(2024, 6, 22), at(2024, 6, 24), RANGE),
    ("this past weekend", "this past weekend", at(2024, 6, 8), at(2024, 6, 10), RANGE),
    ("the coming week", "coming week", at(2024, 6, 17), at(2024, 6, 24), WEEK),
    ("late last year", "late last year", at(2023, 9, 1), at(2024, 1, 1), RANGE),
    ("early next month", "early next month", at(2024, 7, 1), at(2024, 7, 11), RANGE),
]

RANGES: list[Row] = [
    ("over the past week", "the past week", at(2024, 6, 3), MON, RANGE),
    ("past few days", "past few days", at(2024, 6, 7), MON, RANGE),
    ("in the last two months", "the last two months", at(2024, 4, 10), MON, RANGE),
    ("earlier this week", "earlier this week", at(2024, 6, 10), MON, RANGE),
    ("earlier this month", "earlier this month", at(2024, 6, 1), MON, RANGE),
    ("later this month", "later this month", MON, at(2024, 7, 1), RANGE),
    ("I have been tired recently", "recently", at(2024, 5, 11), MON, RANGE),
    ("lately", "lately", at(2024, 5, 11), MON, RANGE),
    ("a while ago", "a while ago", at(2023, 12, 10), at(2024, 5, 10), RANGE),
    ("I saw her the other day", "the other day", at(2024, 6, 3), at(2024, 6, 9), RANGE),
]

WEEKDAYS: list[Row] = [
    ("last Friday", "last Friday", at(2024, 6, 7), at(2024, 6, 8), DAY),
    ("this Friday", "this Friday", at(2024, 6, 14), at(2024, 6, 15), DAY),
    ("next Friday", "next Friday", at(2024, 6, 21), at(2024, 6, 22), DAY),
    ("last Monday", "last Monday", at(2024, 6, 3), at(2024, 6, 4), DAY),
    ("this coming Monday", "this coming Monday", at(2024, 6, 17), at(2024, 6, 18), DAY),
    ("this past Saturday", "this past Saturday", at(2024, 6, 8), at(2024, 6, 9), DAY),
    ("on Monday", "Monday", at(2024, 6, 10), at(2024, 6, 11), DAY),
    ("on Wednesday", "Wednesday", at(2024, 6, 12), at(2024, 6, 13), DAY),
    ("on Friday", "Friday", at(2024, 6, 7), at(2024, 6, 8), DAY),
]

MONTHS: list[Row] = [
    ("last June", "last June", at(2023, 6, 1), at(2023, 7, 1), MONTH),
    ("next June", "next June", at(2025, 6, 1), at(2025, 7, 1), MONTH),
    ("next July", "next July", at(2024, 7, 1), at(2024, 8, 1), MONTH),
    ("this March", "this March", at(2024, 3, 1), at(2024, 4, 1), MONTH),
    ("in March", "March", at(2024, 3, 1), at(2024, 4, 1), MONTH),
    ("in August", "August", at(2024, 8, 1), at(2024, 9, 1), MONTH),
    ("in June", "June", at(2024, 6, 1), at(2024, 7, 1), MONTH),
    ("in may", "may", at(2024, 5, 1), at(2024, 6, 1), MONTH),
    ("I loved May", "May", at(2024, 5, 1), at(2024, 6, 1), MONTH),
    ("March 2023", "March 2023", at(2023, 3, 1), at(2023, 4, 1), MONTH),
    ("March of 2023", "March of 2023", at(2023, 3, 1), at(2023, 4, 1), MONTH),
    ("in May 2023", "May 2023", at(2023, 5, 1), at(2023, 6, 1), MONTH),
    ("early March", "early March", at(2024, 3, 1), at(2024, 3, 11), RANGE),
    ("mid-March 2023", "mid-March 2023", at(2023, 3, 11), at(2023, 3, 21), RANGE),
    ("late February 2024", "late February 2024", at(2024, 2, 21), at(2024, 3, 1), RANGE),
]

DATES: list[Row] = [
    ("on 5 May 2023", "5 May 2023", at(2023, 5, 5), at(2023, 5, 6), DAY),
    ("May 5, 2023", "May 5, 2023", at(2023, 5, 5), at(2023, 5, 6), DAY),
    ("the 5th of May 2023", "the 5th of May 2023", at(2023, 5, 5), at(2023, 5, 6), DAY),
    ("2023-05-05T10:00", "2023-05-05", at(2023, 5, 5), at(2023, 5, 6), DAY),
    ("05/05/2023", "05/05/2023", at(2023, 5, 5), at(2023, 5, 6), DAY),
    ("06/05/2023", "06/05/2023", at(2023, 6, 5), at(2023, 6, 6), DAY),  # month-first
    ("13/05/2023", "13/05/2023", at(2023, 5, 13), at(2023, 5, 14), DAY),  # day-first: 13 > 12
    ("12-25-2023", "12-25-2023", at(2023, 12, 25), at(2023, 12, 26), DAY),
    ("Friday, 5 May 2023", "Friday, 5 May 2023", at(2023, 5, 5), at(2023, 5, 6), DAY),
    ("Sept 5 2023", "Sept 5 2023", at(2023, 9, 5), at(2023, 9, 6), DAY),
    ("on may 5", "may 5", at(2024, 5, 5), at(2024, 5, 6), DAY),
    ("the 5th of May", "the 5th of May", at(2024, 5, 5), at(2024, 5, 6), DAY),
    ("Dec 25", "Dec 25", at(2023, 12, 25), at(2023, 12, 26), DAY),  # nearest: 168 < 198 days
]

YEARS: list[Row] = [
    ("in 2023", "2023", at(2023, 1, 1), at(2024, 1, 1), YEAR),
    ("during 2019 we", "2019", at(2019, 1, 1), at(2020, 1, 1), YEAR),
    ("since 2020", "2020", at(2020, 1, 1), at(2021, 1, 1), YEAR),
    ("the class of 1999", "1999", at(1999, 1, 1), at(2000, 1, 1), YEAR),
    ("in the year 2000", "2000", at(2000, 1, 1), at(2001, 1, 1), YEAR),
    ("in early 2023", "early 2023", at(2023, 1, 1), at(2023, 5, 1), RANGE),
    ("mid-2021", "mid-2021", at(2021, 5, 1), at(2021, 9, 1), RANGE),
]

SEASONS: list[Row] = [
    ("last summer", "last summer", at(2023, 6, 1), at(2023, 9, 1), SEASON),
    ("last winter", "last winter", at(2023, 12, 1), at(2024, 3, 1), SEASON),
    ("this winter", "this winter", at(2023, 12, 1), at(2024, 3, 1), SEASON),  # the nearest
    ("this summer", "this summer", at(2024, 6, 1), at(2024, 9, 1), SEASON),
    ("next spring", "next spring", at(2025, 3, 1), at(2025, 6, 1), SEASON),
    ("in the spring", "spring", at(2024, 3, 1), at(2024, 6, 1), SEASON),
    ("summer 2022", "summer 2022", at(2022, 6, 1), at(2022, 9, 1), SEASON),
    ("winter 2022", "winter 2022", at(2022, 12, 1), at(2023, 3, 1), SEASON),
    ("the fall of 2020", "fall of 2020", at(2020, 9, 1), at(2020, 12, 1), SEASON),
    ("last fall", "last fall", at(2023, 9, 1), at(2023, 12, 1), SEASON),
    ("over the summer", "summer", at(2024, 6, 1), at(2024, 9, 1), SEASON),
]


@pytest.mark.parametrize(
    ("text", "written", "start", "end", "precision"),
    DAY_WORDS + COUNTED + CALENDAR + RANGES + WEEKDAYS + MONTHS + DATES + YEARS + SEASONS,
)
def test_expression_resolves(
    text: str, written: str, start: datetime, end: datetime, precision: Precision
) -> None:
    mention = only(text)
    assert mention.text == written
    assert text[mention.start_char : mention.end_char] == written
    check(mention, start, end, precision)


@pytest.mark.parametrize(
    ("text", "relative"),
    [
        ("5 May 2023", False),
        ("2023-05-05", False),
        ("in 2023", False),
        ("summer 2022", False),
        ("March 2023", False),
        ("May 5", True),
        ("in March", True),
        ("yesterday", True),
        ("last summer", True),
        ("recently", True),
    ],
)
def test_relative_says_whether_the_anchor_was_needed(text: str, relative: bool) -> None:
    assert only(text).relative is relative


# --- anchors and preferences -------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        (at(2024, 6, 15, 10), at(2024, 6, 14)),  # said on a Saturday: the day before
        (at(2024, 6, 14, 10), at(2024, 6, 7)),  # said on a Friday: a week before
        (at(2024, 6, 16, 10), at(2024, 6, 14)),  # said on a Sunday
    ],
)
def test_last_friday_depends_on_the_day_it_is_said(anchor: datetime, expected: datetime) -> None:
    assert only("last Friday", anchor).start == expected


@pytest.mark.parametrize(
    ("text", "prefer", "expected"),
    [
        ("in March", "past", at(2024, 3, 1)),
        ("in March", "future", at(2025, 3, 1)),
        ("in March", "nearest", at(2024, 3, 1)),
        ("in June", "past", at(2024, 6, 1)),  # the current month has begun ...
        ("in June", "future", at(2024, 6, 1)),  # ... and is not over
        ("on Friday", "past", at(2024, 6, 7)),
        ("on Friday", "future", at(2024, 6, 14)),
        ("on Friday", "nearest", at(2024, 6, 7)),  # 3 days back beats 4 ahead
        ("on Wednesday", "past", at(2024, 6, 5)),
        ("May 5th", "past", at(2024, 5, 5)),
        ("May 5th", "future", at(2025, 5, 5)),
        ("in the winter", "future", at(2024, 12, 1)),
        ("in the winter", "past", at(2023, 12, 1)),
        ("early June", "future", at(2024, 6, 1)),
        ("late June", "past", at(2023, 6, 21)),  # late June 2024 has not begun
        ("late June", "future", at(2024, 6, 21)),
    ],
)
def test_prefer_picks_the_occurrence_of_bare_references(
    text: str, prefer: Prefer, expected: datetime
) -> None:
    assert only(text, prefer=prefer).start == expected


@pytest.mark.parametrize("prefer", ["past", "future", "nearest"])
def test_tense_words_override_prefer(prefer: Prefer) -> None:
    assert only("last March", prefer=prefer).start == at(2024, 3, 1)
    assert only("next March", prefer=prefer).start == at(2025, 3, 1)
    assert only("this Friday", prefer=prefer).start == at(2024, 6, 14)
    assert only("last summer", prefer=prefer).start == at(2023, 6, 1)


def test_leap_day_without_a_year_finds_a_leap_year() -> None:
    assert only("Feb 29", at(2023, 6, 10), prefer="past").start == at(2020, 2, 29)
    assert only("Feb 29", at(2023, 6, 10), prefer="future").start == at(2024, 2, 29)


def test_a_month_ago_on_the_31st_uses_calendar_months() -> None:
    assert only("a month ago", at(2024, 3, 31)).start == at(2024, 2, 1)


def test_anchor_in_january_reaches_into_the_previous_year() -> None:
    check(only("last month", at(2024, 1, 15)), at(2023, 12, 1), at(2024, 1, 1), MONTH)
    check(only("last week", at(2024, 1, 3)), at(2023, 12, 25), at(2024, 1, 1), WEEK)
    check(only("this winter", at(2024, 1, 15)), at(2023, 12, 1), at(2024, 3, 1), SEASON)


# --- what must not match -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I may go",
        "This may hurt",
        "May I come in?",
        "we march at dawn",
        "March was cold",  # sentence-initial March with nothing else is not trusted
        "an august institution",
        "prices fall every year",
        "it cost 2000 dollars",
        "a crowd of 2000 people",
        "Summer is lovely",
        "I read 5 books",
        "he is 3 weeks old",
        "we meet on Fridays",
        "version 2.0 shipped",
        "yesterdays and todays",
        "Mayday Marching Springfield",
        "in 2 hours",
        "3/4 of the cake",
        "2023-02-30",
        "the week before my trip",
        "",
    ],
)
def test_no_mention(text: str) -> None:
    assert find_times(text, MON) == []


def test_a_day_that_does_not_exist_falls_back_to_its_month() -> None:
    mention = only("on 31 April 2023")
    assert mention.text == "April 2023"
    assert mention.precision is MONTH


# --- spans, order, overlap -------------------------------------------------------------------


def test_spans_point_into_the_text_left_to_right() -> None:
    text = "I moved to Lisbon last March and lost my job yesterday, in 2023 I think."
    mentions = find_times(text, MON)
    assert [m.text for m in mentions] == ["last March", "yesterday", "2023"]
    for mention in mentions:
        assert text[mention.start_char : mention.end_char] == mention.text
    assert mentions[0].start_char == text.index("last March")
    assert mentions[1].end_char == text.index(",")


@pytest.mark.parametrize(
    "text",
    [
        "last Saturday",
        "the day before yesterday",
        "Friday, 5 May 2023",
        "5 May 2023",
        "this coming Monday",
        "late last year",
        "the summer of 2022",
    ],
)
def test_longest_match_wins(text: str) -> None:
    mention = only(text)
    assert text.endswith(mention.text)
    assert len(mention.text) >= len(text) - len("the ")


def test_several_mentions_do_not_overlap() -> None:
    text = "From 2019 until 2021, then last week and on Friday, 5 May 2023 and a while ago."
    mentions = find_times(text, MON)
    assert [m.text for m in mentions] == [
        "2019",
        "2021",
        "last week",
        "Friday, 5 May 2023",
        "a while ago",
    ]
    for left, right in itertools.pairwise(mentions):
        assert left.end_char <= right.start_char


def test_first_time() -> None:
    found = first_time("back in 2019, and again last week", MON)
    assert found is not None
    assert found.text == "2019"
    assert first_time("nothing here", MON) is None


def test_unknown_prefer_is_refused() -> None:
    with pytest.raises(ValueError, match="prefer"):
        find_times("today", MON, prefer="sometime")  # type: ignore[arg-type]


# --- time zones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz", [UTC, timezone(timedelta(hours=-4)), timezone(timedelta(hours=5, minutes=30))]
)
def test_aware_anchor_keeps_its_tzinfo_and_wall_clock_day(tz: timezone) -> None:
    anchor = datetime(2024, 6, 10, 23, 30, tzinfo=tz)
    for text in ("yesterday", "last March", "in 2023", "recently", "later this month"):
        mention = only(text, anchor)
        assert mention.start.tzinfo is tz
        assert mention.end.tzinfo is tz
    check(
        only("today", anchor),
        datetime(2024, 6, 10, tzinfo=tz),
        datetime(2024, 6, 11, tzinfo=tz),
        DAY,
    )
    assert only("recently", anchor).end == anchor


def test_zoneinfo_anchor() -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    anchor = datetime(2024, 3, 31, 12, tzinfo=lisbon)  # the day clocks go forward
    mention = only("yesterday", anchor)
    assert mention.start == datetime(2024, 3, 30, tzinfo=lisbon)
    assert mention.start.tzinfo is lisbon


def test_naive_anchor_gives_naive_results() -> None:
    mention = only("last week")
    assert mention.start.tzinfo is None
    assert mention.end.tzinfo is None


# --- describe ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("yesterday", "9 June 2024"),
        ("last week", "week of 3 June 2024"),
        ("last March", "March 2024"),
        ("summer 2022", "summer 2022"),
        ("winter 2022", "winter 2022–23"),
        ("in 2023", "2023"),
        ("early March", "1–10 March 2024"),
        ("early 2023", "1 January – 30 April 2023"),
        ("a while ago", "10 December 2023 – 9 May 2024"),
        ("last weekend", "8–9 June 2024"),
    ],
)
def test_describe(text: str, described: str) -> None:
    assert only(text).describe() == described


# --- properties -------------------------------------------------------------------------------

_PIECES = [
    "last", "next", "this", "in", "on", "of", "the", "early", "mid-", "late", "ago",
    "from now", "May", "may", "March", "june", "Friday", "summer", "fall", "weeks",
    "days", "a few", "two", "3", "31", "5th", "2023", "1999", "12/31/2024", "2024-02-29",
    "yesterday", "recently", "the other day", "weekend", ",", ".", "  ", "\n",
]  # fmt: skip

_TEXTS = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=4)), max_size=14).map(" ".join),
)
_ZONES = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=5, minutes=45))]
)


@settings(max_examples=400, deadline=None, database=None)
@given(
    text=_TEXTS,
    anchor=st.datetimes(),
    zone=_ZONES,
    prefer=st.sampled_from(["past", "future", "nearest"]),
)
def test_find_times_never_raises_and_mentions_are_well_formed(
    text: str, anchor: datetime, zone: timezone | None, prefer: Prefer
) -> None:
    anchor = anchor.replace(tzinfo=zone)
    mentions = find_times(text, anchor, prefer=prefer)
    previous_end = 0
    for mention in mentions:
        assert mention.start < mention.end
        assert mention.text == text[mention.start_char : mention.end_char]
        assert mention.text.strip() == mention.text != ""
        assert mention.start_char >= previous_end  # sorted and non-overlapping
        previous_end = mention.end_char
        assert mention.start.tzinfo is zone
        assert mention.end.tzinfo is zone
        assert mention.describe()
