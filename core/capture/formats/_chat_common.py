"""What the conversation-export parsers share: JSON loading, times, lines and turns.

Every parser builds its pieces through `Turns`, so the rules of docs/formats.md hold
for all of them in one place: text stripped, empty turns dropped, a locator used once.
What a parser passes over (media, system lines, hidden branches) is counted and
logged, never its text: logs carry no user words.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from reverie.core.capture.parsed import (
    ParseContext,
    ParsedSource,
    Piece,
    SourceKind,
    UnreadableFile,
)
from reverie.core.capture.text import decode_text

log = logging.getLogger("reverie.capture")

_UTF8_BOM = b"\xef\xbb\xbf"
# Editors count "\r\n", a lone "\r" and "\n" as line ends; str.splitlines() would also
# break at U+2028 or a form feed inside a message and shift every later line number.
_LINE_END = re.compile(r"\r\n|\r|\n")


_STARTS_AS_LIST = re.compile(r"\s*\[\s*\{")


def json_list_with_keys(path: Path, head: bytes, *keys: re.Pattern[str]) -> bool:
    """A sniffer's test: a `.json` list of objects whose head shows every one of `keys`."""
    if path.suffix.lower() != ".json":
        return False
    text = head_text(head)
    return _STARTS_AS_LIST.match(text) is not None and all(
        key.search(text) is not None for key in keys
    )


def head_text(head: bytes) -> str:
    """The start of a file as text for a sniffer: BOM dropped, bad bytes replaced.

    The head is cut at a fixed size, so its last character may be split in two;
    replacing it keeps sniffers from ever raising on it.
    """
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM) :]
    return head.decode("utf-8", errors="replace")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as an editor numbers them (line 1 is index 0)."""
    return _LINE_END.split(text)


def load_json(raw: bytes, context: ParseContext, what: str) -> object:
    """Decode and parse a JSON export, or raise `UnreadableFile` saying what is wrong.

    `what` names the export ("a ChatGPT export") for the message.
    """
    text = decode_text(context.path, raw)
    if not text.strip():
        raise UnreadableFile(context.path, f"empty file, not {what}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # A download cut short is the usual cause: the error then sits at the very end,
        # or in a string that never closes (a line break inside one is another error).
        if not text[exc.pos :].strip() or exc.msg.startswith("Unterminated string"):
            lines = text.count("\n") + 1
            reason = f"the JSON ends early, at line {lines}: is the file truncated?"
        else:
            reason = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise UnreadableFile(context.path, f"{reason}; expected {what}") from None
    except RecursionError:
        raise UnreadableFile(context.path, f"JSON nested too deeply; expected {what}") from None


def epoch_utc(value: object) -> datetime | None:
    """An aware UTC time from seconds since the epoch (a number or digit string).

    None when the value is missing or not a usable time, so one bad field costs only
    its own message.
    """
    if isinstance(value, bool):
        return None  # bool is an int to Python, never a time in an export
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def iso_utc(value: object) -> datetime | None:
    """An aware time from an ISO-8601 string; one without an offset counts as UTC."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso_naive(value: object) -> datetime | None:
    """A wall-clock time from an ISO-8601 string, as written; None when unusable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def text_or_none(value: object) -> str | None:
    """`value` stripped when it is a string with something in it, else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


class Turns:
    """The pieces of one conversation, collected in reading order.

    `add` applies the shared rules; `skip` counts what was passed over, by reason.
    """

    def __init__(self, key: str, title: str) -> None:
        """Start an empty conversation that will become the source `key`."""
        self.key = key
        self.title = title
        self.pieces: list[Piece] = []
        self.skipped: Counter[str] = Counter()
        self._locators: set[str] = set()
        self._moments: Counter[str] = Counter()

    def add(self, locator: str, text: str, speaker: str, time: datetime) -> None:
        """Keep a turn, unless its text is empty or its locator was already used."""
        text = text.strip()
        if not text:
            self.skip("empty")
            return
        if locator in self._locators:
            self.skip("repeated id")
            return
        self._locators.add(locator)
        self.pieces.append(Piece(locator, text, speaker.strip() or "Unknown", time))

    def add_by_moment(self, text: str, speaker: str, time: datetime) -> None:
        """Keep a turn of a format without message ids, placed by its time and speaker.

        Line numbers would be the obvious locator, but a re-export that starts earlier
        or later shifts them all, and every turn would come back as new. The moment a
        message was sent and its author stay put (``2024-03-12 14:05:00 Sam``, then
        `` #2`` for a second message in the same minute).
        """
        base = f"{time.isoformat(sep=' ')} {speaker.strip() or 'Unknown'}"
        self._moments[base] += 1
        n = self._moments[base]
        self.add(base if n == 1 else f"{base} #{n}", text, speaker, time)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count `count` messages passed over for `reason`."""
        self.skipped[reason] += count


def gather(fmt: str, conversations: Iterable[Turns]) -> list[ParsedSource]:
    """The conversations that kept a turn, each key once, in file order.

    What was passed over is logged as counts and reasons only: even a file name may
    hold a contact's name.
    """
    sources: list[ParsedSource] = []
    seen: set[str] = set()
    skipped: Counter[str] = Counter()
    for turns in conversations:
        skipped.update(turns.skipped)
        if turns.key in seen:
            skipped["repeated conversations"] += 1
        elif turns.pieces:
            seen.add(turns.key)
            pieces = tuple(turns.pieces)
            sources.append(ParsedSource(SourceKind.CHAT, turns.key, turns.title, pieces))
    if skipped:
        shown = ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
        log.debug("%s: passed over %s", fmt, shown)
    return sources
