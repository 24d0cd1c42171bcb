"""The rows of the timeline tree and how they read.

At day zoom the top rows are days; at week, month or year zoom they are periods, each
holding its days. A day holds its items (turns and memories), read when it is opened.
Every row that holds others has a `key`, stable while rows move, which the model uses
as the internal id of its children's indexes.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from reverie.core.types import DayCount, ItemKind, TimelineItem
from reverie.desktop.labels import plural, short_date, speaker_name


class Zoom(enum.Enum):
    """How much time a top row of the timeline spans."""

    DAY = "Day"
    WEEK = "Week"
    MONTH = "Month"
    YEAR = "Year"


@dataclass
class Day:
    """A day row: its ISO day, how many items, and the items once read."""

    key: int
    day: str
    count: int
    items: list[TimelineItem] | None = None  # None until fetched; newest first
    complete: bool = False  # every item is in `items` (busy days are read in pages)
    owner: int = 0  # the key of its period, or 0 at the top
    summary: str = ""  # the day's summary card, read with its page (DayCount.summary)

    @property
    def start(self) -> str:
        """Rows are ordered by where they start (newest first)."""
        return self.day


@dataclass
class Period:
    """A week, month or year row holding its days (all known at once: day_counts)."""

    key: int
    start: str  # ISO day the period starts on
    label: str
    count: int
    days: list[Day] = field(default_factory=list)
    owner: int = 0
    summary: str = ""  # a week's summary card (DayCount.week_summary of its Monday)


Node = Day | Period


def period_of(day: str, zoom: Zoom) -> tuple[str, str]:
    """The period `day` falls in at `zoom`: (its first ISO day, how it reads)."""
    when = date.fromisoformat(day)
    if zoom is Zoom.WEEK:
        monday = when - timedelta(days=when.weekday())
        return monday.isoformat(), f"Week of {short_date(monday)}"
    if zoom is Zoom.MONTH:
        return when.replace(day=1).isoformat(), f"{when:%B %Y}"
    if zoom is Zoom.YEAR:
        return when.replace(month=1, day=1).isoformat(), f"{when.year}"
    return day, short_date(when)


def group(days: Iterable[DayCount], zoom: Zoom) -> list[tuple[str, str, list[DayCount]]]:
    """Days (newest first) gathered into periods (newest first): (start, label, days)."""
    periods: list[tuple[str, str, list[DayCount]]] = []
    for entry in days:
        start, label = period_of(entry.day, zoom)
        if not periods or periods[-1][0] != start:
            periods.append((start, label, []))
        periods[-1][2].append(entry)
    return periods


def day_label(day: str, count: int) -> str:
    """How a day row reads: "Sat 8 Mar 2026 · 5 items"."""
    return f"{short_date(date.fromisoformat(day))} · {plural(count, 'item')}"


def period_label(period: Period) -> str:
    """How a period row reads: "March 2026 · 12 days · 140 items"."""
    return f"{period.label} · {plural(len(period.days), 'day')} · {plural(period.count, 'item')}"


def item_label(item: TimelineItem) -> str:
    """How an item row reads: time, speaker or memory kind, text on one line."""
    text = " ".join(item.text.split())
    pin = "★ " if item.pinned else ""
    if item.kind is ItemKind.EPISODE:
        return f"{item.time:%H:%M}   {speaker_name(item.label)}: {text}"
    return f"{item.time:%H:%M}   {pin}{item.label} · {text}"


def item_tooltip(item: TimelineItem) -> str:
    """The full text, as rich text so that Qt wraps long lines."""
    if item.kind is ItemKind.EPISODE:
        what = speaker_name(item.label)
    else:
        what = f"{item.kind.value} ({item.label})"
    body = html.escape(item.text).replace("\n", "<br>")
    when = f"{short_date(item.time)}, {item.time:%H:%M}"
    return f"<p><b>{html.escape(what)}</b> · {when}</p><p>{body}</p>"
