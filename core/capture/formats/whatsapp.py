"""WhatsApp's "Export chat" text file (docs/formats.md, "WhatsApp export").

Android writes `WhatsApp Chat with Sam.txt`, iOS writes `_chat.txt` inside a zip named
`WhatsApp Chat - Sam.zip`:

    12/03/2024, 14:05 - Sam: See you at the station       (Android, 24 h)
    3/12/24, 2:05 PM - Sam: See you at the station        (Android, 12 h)
    [12/03/2024, 14:05:33] Sam: See you at the station    (iOS)
    12.03.24, 14:05 - Sam: See you at the station         (dots, 2-digit year)

A line that does not start with a time continues the message above it. The day and
month order depends on the phone's locale and is not written anywhere, so it is
decided per file: a first field over 12 means day first, else a second field over 12
means month first, else day first is assumed (most of the world writes it so).
Times are the phone's wall clock, without an offset.

Passed over: system lines (a time without "Name:", or on iOS a text that starts with
the U+200E mark), media placeholders ("<Media omitted>", "image omitted", attached
files; a caption on the following lines is kept) and deleted messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reverie.core.capture.formats import Format
from reverie.core.capture.formats._chat_common import Turns, gather, head_text, split_lines
from reverie.core.capture.parsed import ParseContext, ParsedSource, SourceKind, Trust
from reverie.core.capture.text import decode_text

NAME = "whatsapp"
SNIFF_LINES = 20  # non-empty lines of the head looked at

_SPACE = r"[ \u00a0\u202f]"  # newer exports put a narrow no-break space before "PM"
_STAMP = (
    r"(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4}),?"
    + _SPACE
    + r"(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)"
    + rf"(?:{_SPACE}?(?P<ampm>[AaPp]\.?{_SPACE}?[Mm]\.?))?"
)
_ANDROID = re.compile(rf"{_STAMP}{_SPACE}[-–]{_SPACE}(?P<rest>.*)")
_IOS = re.compile(rf"\[{_STAMP}\]{_SPACE}(?P<rest>.*)")
# Sender and text; a name holding quotes is a system line about a renamed group.
_SENDER = re.compile(r"(?P<name>[^\"“”\n]{1,60}?):[ \u00a0](?P<text>.*)", re.DOTALL)
# Direction marks WhatsApp puts around names, phone numbers and system texts.
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_MEDIA = re.compile(
    r"<media omitted>|(?:image|video|audio|sticker|gif|document|contact card) omitted"
    r"|<attached: [^>]*>|.* \(file attached\)",
    re.IGNORECASE,
)
_DELETED = frozenset(
    {
        "this message was deleted",
        "you deleted this message",
        "this message was deleted.",
        "you deleted this message.",
    }
)
_EDITED = "<This message was edited>"
_CHAT_WITH = re.compile(r"WhatsApp Chat (?:with|-|–) (?P<who>.+?)(?: \(\d+\))?", re.IGNORECASE)


@dataclass(frozen=True)
class _Stamp:
    """A message's time as written, and what follows it on the line."""

    fields: tuple[str, str, str]
    clock: str
    ampm: str | None
    rest: str


@dataclass
class _Message:
    stamp: _Stamp
    first: int  # 1-based line numbers of its span
    last: int
    body: list[str] = field(default_factory=list)


def sniff(path: Path, head: bytes) -> bool:
    """A `.txt` whose first line is a WhatsApp time stamp and whose lines name senders."""
    if path.suffix.lower() != ".txt":
        return False
    lines = [line for line in split_lines(head_text(head)) if line.strip()][:SNIFF_LINES]
    stamps = [_stamp(line) for line in lines]
    if not stamps or stamps[0] is None:
        return False
    return any(s is not None and _SENDER.fullmatch(s.rest) for s in stamps)


def parse(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """The chat as one source, or nothing when it holds no message with text."""
    lines = split_lines(decode_text(context.path, raw))
    messages = _messages(lines)
    day_first = _day_first([m.stamp for m in messages])
    title = chat_title(context.path)
    turns = Turns(f"{NAME}:{title}", title)
    for message in messages:
        _add_message(turns, message, day_first)
    return gather(NAME, [turns])


def chat_title(path: Path) -> str:
    """'WhatsApp chat with Sam' from `WhatsApp Chat with Sam.txt` or `…- Sam/_chat.txt`."""
    # iOS names the text file `_chat.txt`; the chat's name is on the folder it came in.
    named = path.parent.name if path.stem.lower() in {"_chat", "chat"} else path.stem
    # A second download of the same export gets " (1)" and is still the same chat.
    found = _CHAT_WITH.fullmatch(named.strip())
    if found is not None:
        return f"WhatsApp chat with {found['who']}"
    return f"WhatsApp chat ({named})" if named else "WhatsApp chat"


def _stamp(line: str) -> _Stamp | None:
    line = line.lstrip(_MARKS)
    found = _ANDROID.fullmatch(line) or _IOS.fullmatch(line)
    if found is None:
        return None
    first, second, third = re.split(r"[./-]", found["date"])
    return _Stamp((first, second, third), found["time"], found["ampm"], found["rest"])


def _messages(lines: list[str]) -> list[_Message]:
    """Group lines into messages; lines before the first time stamp are not a message."""
    messages: list[_Message] = []
    for number, line in enumerate(lines, start=1):
        stamp = _stamp(line)
        if stamp is not None:
            messages.append(_Message(stamp, number, number, [stamp.rest]))
        elif messages:
            messages[-1].body.append(line)
            if line.strip():
                messages[-1].last = number
    return messages


def _day_first(stamps: list[_Stamp]) -> bool:
    """Whether dates in this file put the day first (see the module's docstring)."""
    written = [s.fields for s in stamps if len(s.fields[0]) < 4]  # not year-first
    if any(int(first) > 12 for first, _, _ in written):
        return True
    return not any(int(second) > 12 for _, second, _ in written)


def _when(stamp: _Stamp, day_first: bool) -> datetime | None:
    first, second, third = (int(part) for part in stamp.fields)
    if len(stamp.fields[0]) == 4:
        year, month, day = first, second, third
    else:
        day, month = (first, second) if day_first else (second, first)
        year = third + 2000 if len(stamp.fields[2]) <= 2 else third
    hour, minute, *seconds = (int(part) for part in re.split(r"[:.]", stamp.clock))
    if stamp.ampm is not None:
        afternoon = stamp.ampm.lower().startswith("p")
        hour = hour % 12 + (12 if afternoon else 0)
    try:
        return datetime(year, month, day, hour, minute, seconds[0] if seconds else 0)
    except ValueError:
        return None


def _add_message(turns: Turns, message: _Message, day_first: bool) -> None:
    sender = _SENDER.fullmatch("\n".join(message.body))
    if sender is None:
        turns.skip("system lines")
        return
    text = _spoken_text(sender["text"], turns)
    time = _when(message.stamp, day_first)
    if text is None:
        return
    if time is None:
        turns.skip("impossible dates")
    elif text.lower() in _DELETED:
        turns.skip("deleted messages")
    else:
        name = sender["name"].strip(_MARKS + " ~\u202f\u00a0")
        turns.add_by_moment(text, name, time)


def _spoken_text(text: str, turns: Turns) -> str | None:
    """What the sender wrote, without media placeholders; None for a notice or bare media."""
    first, _, rest = text.partition("\n")
    if _MEDIA.fullmatch(first.strip(_MARKS + " ")):
        turns.skip("media")
        text = rest  # a caption may follow the placeholder
    elif first[:1] and first[:1] in _MARKS:
        # iOS marks its own notices (encryption, calls, group changes) with U+200E.
        turns.skip("system lines")
        return None
    text = text.replace(_EDITED, "").strip(_MARKS + " \n\t")
    return text or None


FORMAT = Format(
    name=NAME,
    kind=SourceKind.CHAT,
    trust=Trust.USER_IMPORT,
    suffixes=(".txt",),
    parse=parse,
    sniff=sniff,
)
