"""The generic chat JSONL format: one JSON object per line (docs/formats.md).

    {"conversation": str, "time": ISO-8601, "speaker": str, "text": str,
     "id": str (optional), "session": str (optional)}

Parsing is all-or-nothing: every bad line is collected with its line number and the
file is refused as a whole, so nothing is ever half-imported.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reverie.core.errors import BadInput, InputFileError
from reverie.core.timeutil import parse_time

MAX_FILE_BYTES = 512 * 1024 * 1024
REQUIRED = ("conversation", "time", "speaker", "text")
OPTIONAL = ("id", "session")


@dataclass(frozen=True)
class ChatLine:
    """One valid line of a chat JSONL file."""

    line_no: int
    conversation: str
    time: datetime
    speaker: str
    text: str
    id: str | None
    session: str | None

    @property
    def locator(self) -> str:
        """Where this turn sits in its source: its `id`, else its line number."""
        return self.id if self.id is not None else str(self.line_no)


@dataclass(frozen=True)
class ChatFile:
    """A parsed chat JSONL file and the SHA-256 of the bytes it was parsed from."""

    lines: list[ChatLine]
    sha256: str


def read_chat_file(path: Path) -> ChatFile:
    """Read `path` once: its lines and its digest; raise `InputFileError` listing bad lines."""
    raw = _read_bytes(path)
    return ChatFile(parse_chat_jsonl(path, raw), hashlib.sha256(raw).hexdigest())


def parse_chat_jsonl(path: Path, raw: bytes) -> list[ChatLine]:
    """Parse the bytes of `path` or raise `InputFileError` listing every bad line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text (byte {exc.start})") from None
    lines: list[ChatLine] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    # JSON Lines ends records at "\n" only; splitlines() would also break inside a
    # string holding U+2028 or a form feed, and report a good line as bad.
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            parsed = _parse_line(line_no, line)
        except BadInput as exc:
            problems.append((line_no, str(exc)))
            continue
        key = (parsed.conversation, parsed.locator)
        if parsed.id is not None and key in seen:
            problems.append((line_no, f"id {parsed.id!r} repeats line {seen[key]}"))
            continue
        seen[key] = line_no
        lines.append(parsed)
    if problems:
        raise InputFileError(str(path), problems)
    if not lines:
        raise BadInput(f"{path}: no chat lines found")
    return lines


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadInput(f"{path}: {size} bytes is over the {MAX_FILE_BYTES} byte limit")
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a folder, not a file") from None
    except PermissionError:
        raise BadInput(f"{path}: permission denied") from None


def _parse_line(line_no: int, line: str) -> ChatLine:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadInput(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise BadInput("not a JSON object")
    for name in REQUIRED:
        value = record.get(name)
        if not isinstance(value, str) or not value.strip():
            raise BadInput(f"field {name!r} must be a non-empty string")
    for name in OPTIONAL:
        value = record.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise BadInput(f"field {name!r} must be a non-empty string when present")
    return ChatLine(
        line_no=line_no,
        conversation=record["conversation"].strip(),
        time=parse_time(record["time"]),
        speaker=record["speaker"].strip(),
        text=record["text"],
        id=record["id"].strip() if record.get("id") else None,
        session=record["session"].strip() if record.get("session") else None,
    )
