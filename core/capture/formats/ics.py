"""Calendars (`.ics`): one piece per event, and per to-do.

An event's piece says what, when, where and with whom, then its description; its
time is when the event starts (an all-day event at midnight, as written). A repeating
event is one piece saying how it repeats, not one per occurrence; a changed
occurrence (one with a RECURRENCE-ID) is a piece of its own. Alarms, time-zone
definitions and free/busy blocks are not read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from icalendar import Calendar, Component

from reverie.core.capture.chunking import document_source, unique_locators
from reverie.core.capture.formats import Format
from reverie.core.capture.parsed import (
    ParseContext,
    ParsedSource,
    Piece,
    SourceKind,
    Trust,
    UnreadableFile,
    short_reason,
)
from reverie.core.capture.text import decode_text

_KINDS = {"VEVENT": "event", "VTODO": "todo"}


def parse_ics(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source whose pieces are the calendar's events and to-dos, in file order."""
    text = decode_text(context.path, raw)
    if not text.strip():
        return [document_source(context, [])]
    components = [
        component
        for calendar in _read_calendars(text, context)
        for component in calendar.walk()
        if component.name in _KINDS
    ]
    located = [(_locator(item, index), item) for index, item in enumerate(components, 1)]
    locators = unique_locators([locator for locator, _ in located])
    pieces = [
        Piece(
            locator=locator,
            text=_describe(item),
            speaker=context.path.name,
            time=_time(item) or context.modified,
        )
        for locator, (_, item) in zip(locators, located, strict=True)
    ]
    return [document_source(context, pieces)]


def _read_calendars(text: str, context: ParseContext) -> list[Calendar]:
    try:
        # As bytes: icalendar reads a one-line *string* as the path of a file to open,
        # and a hostile calendar must not make Reverie read another file.
        calendars = Calendar.from_ical(text.encode("utf-8"), multiple=True)
    # icalendar raises ValueError for most damage, but hostile input finds other paths.
    except Exception as error:
        raise UnreadableFile(context.path, _damage(error)) from None
    if not calendars:
        # icalendar drops a component that never ends: the file was cut short.
        reason = "damaged calendar: cut short (a BEGIN without its END)"
        raise UnreadableFile(context.path, reason)
    return calendars


def _locator(component: Component, index: int) -> str:
    kind = _KINDS.get(component.name or "", "item")
    uid = " ".join(str(component.get("UID", "")).split())
    locator = f"{kind} {uid}" if uid else f"{kind} {index}"
    recurrence = _moment(component, "RECURRENCE-ID")
    return f"{locator} @ {recurrence.isoformat()}" if recurrence is not None else locator


def _describe(component: Component) -> str:
    """What a person would say about the event or to-do, one fact per line."""
    summary = _text(component, "SUMMARY") or "(untitled)"
    lines = [f"To do: {summary}" if component.name == "VTODO" else summary]
    start = _moment(component, "DTSTART")
    if start is not None:
        lines.append(f"When: {_when(start, _end(component, start))}")
    due = _moment(component, "DUE")
    if due is not None:
        lines.append(f"Due: {_format(due)}")
    facts = [
        ("Where", _text(component, "LOCATION")),
        ("With", ", ".join(_people(component))),
        ("Repeats", _repeats(component)),
        ("Status", _text(component, "STATUS").lower() if component.name == "VTODO" else ""),
    ]
    lines.extend(f"{label}: {value}" for label, value in facts if value)
    description = _text(component, "DESCRIPTION", keep_lines=True)
    if description:
        lines.extend(["", description])
    return "\n".join(lines)


def _time(component: Component) -> datetime | None:
    """When the item happens: its start, else (a to-do) when it is due."""
    moment = _moment(component, "DTSTART") or _moment(component, "DUE")
    if moment is None or isinstance(moment, datetime):
        return moment
    return datetime(moment.year, moment.month, moment.day)


def _moment(component: Component, name: str) -> date | None:
    """A date or date-time property, or None when it is missing or unreadable."""
    value = getattr(component.get(name), "dt", None)
    return value if isinstance(value, date) else None


def _end(component: Component, start: date) -> date | None:
    end = _moment(component, "DTEND")
    if end is None:
        duration = getattr(component.get("DURATION"), "dt", None)
        end = start + duration if isinstance(duration, timedelta) else None
    if end is not None and not isinstance(end, datetime):
        end -= timedelta(days=1)  # an all-day event's end date is the day after
    return end


def _when(start: date, end: date | None) -> str:
    if end is None or not _later(end, start):
        return _format(start)
    if isinstance(start, datetime) and isinstance(end, datetime) and start.date() == end.date():
        return f"{_format(start, zone=False)} to {end:%H:%M}{_zone(start.tzinfo)}"
    return f"{_format(start)} to {_format(end)}"


def _later(end: date, start: date) -> bool:
    """Whether `end` is after `start`; False when the two cannot be compared."""
    try:
        return type(end) is type(start) and end > start
    except TypeError:  # one has an offset and the other not
        return False


def _format(moment: date, zone: bool = True) -> str:
    if not isinstance(moment, datetime):
        return f"{moment:%a %Y-%m-%d} (all day)"
    return f"{moment:%a %Y-%m-%d %H:%M}" + (_zone(moment.tzinfo) if zone else "")


def _zone(zone: tzinfo | None) -> str:
    if zone is None:
        return ""
    name = str(getattr(zone, "key", "") or zone.tzname(None) or "")
    return f" ({name})" if name else ""


def _text(component: Component, name: str, keep_lines: bool = False) -> str:
    value = component.get(name)
    if isinstance(value, list):  # a property given twice: the first counts
        value = value[0] if value else None
    if value is None:
        return ""
    if keep_lines:
        return "\n".join(line.rstrip() for line in str(value).strip().splitlines())
    return " ".join(str(value).split())


def _people(component: Component) -> list[str]:
    attendees = component.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    names: list[str] = []
    for attendee in attendees:
        params = getattr(attendee, "params", {})
        name = str(params.get("CN") or attendee).strip()
        name = name.removeprefix("mailto:").removeprefix("MAILTO:")
        if name and name not in names:
            names.append(name)
    return names


def _repeats(component: Component) -> str:
    rule = component.get("RRULE")
    if rule is None or isinstance(rule, list) or not hasattr(rule, "to_ical"):
        return ""
    encoded = rule.to_ical()
    return encoded.decode("utf-8", errors="replace") if isinstance(encoded, bytes) else ""


def _damage(error: Exception) -> str:
    return f"damaged calendar: {short_reason(str(error) or type(error).__name__)}"


FORMAT = Format(
    name="ics",
    kind=SourceKind.FILE,
    trust=Trust.USER_FILE,
    suffixes=(".ics",),
    parse=parse_ics,
)
