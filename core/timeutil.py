"""Times as Reverie stores them.

A time without an offset is taken as written: its day is the wall-clock day of the
source, and for ordering it counts as UTC. Times with an offset keep it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from reverie.core.errors import BadInput


def parse_time(value: str) -> datetime:
    """Parse an ISO-8601 time (a trailing `Z` allowed) or raise `BadInput`."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"not an ISO-8601 time: {value!r}") from None


def to_ts(moment: datetime) -> float:
    """Seconds since the epoch; naive times count as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def day_of(moment: datetime) -> str:
    """The ISO date of the time as written in its own offset."""
    return moment.date().isoformat()
