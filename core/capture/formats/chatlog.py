"""Chat logs kept as Markdown or plain text (docs/formats.md, "Chat logs").

A turn is a line in one of these shapes:

    [2024-03-12 14:05] Alice: text          also `<alice> text`, as IRC clients log
    2024-03-12 14:05 Alice: text            also `2024-03-12 14:05:33 <alice> text`
    **Alice** (2024-03-12 14:05): text
    Alice: text                             under a `# 2024-03-12` heading

A turn under a date heading has no time of its own: it gets the heading's day at
midnight plus one second per turn, so turns keep their order. Lines without a time or
a speaker continue the turn above them. Times are wall clock, without an offset.

Passed over: headings, timestamped lines without a speaker (joins, quits, `* alice
waves`), separators (`---`, `-!-`) and text before the first turn. A file is taken as
a chat log only when most of its lines are turns (see `sniff`), so a note with a
"Note: …" line stays a note.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from reverie.core.capture.formats import Format
from reverie.core.capture.formats._chat_common import Turns, gather, head_text, split_lines
from reverie.core.capture.parsed import ParseContext, ParsedSource, SourceKind, Trust
from reverie.core.capture.text import decode_text

NAME = "chatlog"
SUFFIXES = (".md", ".markdown", ".txt", ".log")
MIN_TURNS = 3
MIN_SHARE = 0.6  # of the head's lines that are neither blank, headings nor separators

_WHEN = r"(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<clock>\d{1,2}:\d{2}(?::\d{2})?)"
# A name starts with a letter, digit or @: "* alex waves" and "-!- …" are log events.
_NAME = r"(?P<name>[\w@][^:<>\[\]*]{0,39}?)"
_NICK = r"<[@+%~&]?(?P<nick>[^>\s]{1,40})>"  # IRC: a mode sign may precede the nick
_SAID = rf"(?:{_NAME}:|{_NICK})(?:\s+(?P<text>.*))?"
_STAMPED_TURNS = (
    re.compile(rf"\[{_WHEN}\]\s+{_SAID}"),
    re.compile(rf"{_WHEN}\s+{_SAID}"),
    re.compile(rf"\*\*(?P<name>[^*]{{1,40}})\*\*\s*\({_WHEN}\):(?:\s+(?P<text>.*))?"),
)
_EVENT = re.compile(rf"\[?{_WHEN}\]?(?:\s.*)?")
# Under a date heading the speaker has no time to vouch for it, so a name must look
# like one: up to three words starting with a letter (or an @handle), maybe in bold.
_WORDS = r"@?[^\W\d_][\w.'’-]*(?: [\w.'’-]+){0,2}"
_DAY_TURN = re.compile(
    rf"(?:\*\*(?P<bold>{_WORDS})(?::\*\*|\*\*:)|(?P<name>{_WORDS}):)(?:\s+(?P<text>.*))?"
)
_HEADING = re.compile(r"(?P<level>#{1,6})\s+(?P<title>.*)")
_HEADING_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_SEPARATOR = re.compile(r"(?:---|-!-|\*\*\*|___).*")
# Words that open lines of notes ("Note: …", "Lunch: …", "Today: …"), never a speaker.
LABELS = frozenset(
    "note notes nb todo to-do summary update edit ps p.s warning tip important question "
    "answer q a fyi reminder status agenda action actions decision decisions result "
    "results source sources link links see example date time location place where when "
    "who what why how attendees subject re cc to from today yesterday tomorrow tonight "
    "morning afternoon evening breakfast lunch dinner blockers next done mood weather "
    "goal goals idea ideas plan plans name email phone address url total cost price".split()
)


class _Kind(enum.Enum):
    TURN = "turn"
    EVENT = "event"  # a timestamped line that is not a turn
    BREAK = "break"  # a heading or separator: ends the turn above
    TEXT = "text"
    BLANK = "blank"


@dataclass(frozen=True)
class _Line:
    number: int
    kind: _Kind
    text: str = ""
    speaker: str = ""
    time: datetime | None = None
    stamped: bool = False  # the time was written on the line itself


@dataclass
class _Open:
    start: _Line
    last: int
    body: list[str] = field(default_factory=list)


def sniff(path: Path, head: bytes) -> bool:
    """A text file whose lines are mostly turns: at least 3 and at least 60 % of them.

    Turns under date headings must also come from two speakers or more, so a dated
    journal of "Walked: 5 km" lines is not taken for a conversation.
    """
    if path.suffix.lower() not in SUFFIXES:
        return False
    counted = log_lines = turns = stamped = 0
    speakers: set[str] = set()
    for line in _read(split_lines(head_text(head))):
        if line.kind in (_Kind.BREAK, _Kind.BLANK):
            continue
        counted += 1
        log_lines += line.kind in (_Kind.TURN, _Kind.EVENT)
        if line.kind is _Kind.TURN:
            turns += 1
            stamped += line.stamped
            speakers.add(line.speaker)
    if turns < MIN_TURNS or log_lines < MIN_SHARE * counted:
        return False
    return stamped >= MIN_TURNS or len(speakers) >= 2


def parse(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """The log as one source (key: the file's absolute path; title: its stem)."""
    turns = Turns(f"{NAME}:{context.path.absolute()}", context.path.stem)
    current: _Open | None = None
    for line in _read(split_lines(decode_text(context.path, raw))):
        if line.kind is _Kind.TURN:
            _close(turns, current)
            current = _Open(line, line.number, [line.text])
        elif line.kind in (_Kind.TEXT, _Kind.BLANK) and current is not None:
            current.body.append(line.text)
            if line.kind is _Kind.TEXT:
                current.last = line.number
        elif line.kind in (_Kind.EVENT, _Kind.BREAK):
            if line.kind is _Kind.EVENT:
                turns.skip("log events")
            _close(turns, current)
            current = None
    _close(turns, current)
    return gather(NAME, [turns])


def _close(turns: Turns, message: _Open | None) -> None:
    if message is not None and message.start.time is not None:
        turns.add_by_moment("\n".join(message.body), message.start.speaker, message.start.time)


def _read(lines: list[str]) -> Iterator[_Line]:
    """Classify each line; a turn under a date heading gets its time from the heading."""
    day: date | None = None
    day_level = 0  # the heading level that set `day`
    seconds = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        heading = _HEADING.fullmatch(stripped)
        if heading is not None:
            level, found = len(heading["level"]), _day(heading["title"])
            if found is not None:
                seconds = seconds if found == day else 0
                day, day_level = found, level
            elif level <= day_level:
                day, day_level = None, 0  # a new section at the same depth, undated
            yield _Line(number, _Kind.BREAK)
        elif not stripped:
            yield _Line(number, _Kind.BLANK)
        elif _SEPARATOR.fullmatch(stripped):
            yield _Line(number, _Kind.BREAK)
        else:
            line_out = _stamped_line(number, stripped)
            if line_out is None and day is not None:
                line_out = _day_line(number, stripped, day, seconds)
                if line_out is not None:
                    seconds += 1
            yield line_out or _Line(number, _Kind.TEXT, line.rstrip())


def _stamped_line(number: int, text: str) -> _Line | None:
    for pattern in _STAMPED_TURNS:
        found = pattern.fullmatch(text)
        if found is not None:
            time = _time(found["date"], found["clock"])
            if time is None:
                return None
            speaker = found["name"] or found.groupdict().get("nick") or ""
            return _Line(number, _Kind.TURN, found["text"] or "", speaker.strip(), time, True)
    found = _EVENT.fullmatch(text)
    if found is not None and _time(found["date"], found["clock"]) is not None:
        return _Line(number, _Kind.EVENT)
    return None


def _day_line(number: int, text: str, day: date, seconds: int) -> _Line | None:
    found = _DAY_TURN.fullmatch(text)
    if found is None:
        return None
    speaker = (found["bold"] or found["name"]).strip()
    if speaker.lower().rstrip(".") in LABELS:
        return None
    time = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    return _Line(number, _Kind.TURN, found["text"] or "", speaker, time)


def _day(title: str) -> date | None:
    found = _HEADING_DAY.search(title)
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group())
    except ValueError:
        return None


def _time(day: str, clock: str) -> datetime | None:
    hour, minute, *second = (int(part) for part in clock.split(":"))
    try:
        return datetime.fromisoformat(day).replace(
            hour=hour, minute=minute, second=second[0] if second else 0
        )
    except ValueError:
        return None


FORMAT = Format(
    name=NAME,
    kind=SourceKind.CHAT,
    trust=Trust.USER_IMPORT,
    suffixes=SUFFIXES,
    parse=parse,
    sniff=sniff,
)
