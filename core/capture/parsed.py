"""What every format parser returns: sources made of pieces, each piece one episode-to-be.

A parser turns the bytes of one file into one or more `ParsedSource`s (a chat export
holds many conversations; a document is one source) without touching the store. The
importer and the folder watcher then diff those pieces against what is stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reverie.core.errors import BadInput


class SourceKind(enum.StrEnum):
    """What a source is: a conversation (turns) or a document (chunks)."""

    CHAT = "chat"
    FILE = "file"


class Trust(enum.StrEnum):
    """Who wrote a source's text, as far as Reverie can tell; memories inherit it."""

    USER = "user"  # typed by the user into Reverie's own chat
    USER_IMPORT = "user-import"  # the user's own conversations, exported from elsewhere
    USER_FILE = "user-file"  # a document in a folder the user chose to watch
    EXTERNAL = "external"  # written by others: e-mail received, saved web pages


class UnreadableFile(BadInput):
    """A file that cannot be read as its format; `reason` is shown to the user.

    A `transient` problem (permission denied, the file vanished or changed while being
    read) may pass: what was stored from the file is kept and it is tried again later.
    """

    def __init__(self, path: Path, reason: str, *, transient: bool = False) -> None:
        self.path = path
        self.reason = reason
        self.transient = transient
        super().__init__(f"{path}: {reason}")


def short_reason(detail: str, limit: int = 80) -> str:
    """A parser's error message as one line of at most `limit` characters."""
    line = " ".join(detail.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class Piece:
    """One turn of a conversation or one chunk of a document.

    `locator` says where it sits in its source and is unique there: a message id, or a
    span such as ``lines 4-9`` or ``page 2, lines 1-14`` (docs/formats.md lists them).
    `speaker` is who wrote it: a person for a chat turn, the sender of an e-mail, else
    the document's name. A time without an offset is the source's wall-clock time.
    """

    locator: str
    text: str
    speaker: str
    time: datetime
    session: str | None = None


@dataclass(frozen=True)
class ParsedSource:
    """One conversation or one document, in reading order.

    `key` identifies the source across imports (a conversation id from the export, or
    the document's path); `title` is what the user sees.
    """

    kind: SourceKind
    key: str
    title: str
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class ParseContext:
    """What a parser may need besides the bytes."""

    path: Path
    modified: datetime  # the file's mtime, aware: the time of undated text
    # MiniLM reads 256 tokens; ~1,000 characters of prose stay within them.
    max_chunk_chars: int = 1000


@dataclass(frozen=True)
class ParsedFile:
    """Everything read from one file."""

    path: Path
    format: str
    sha256: str
    sources: tuple[ParsedSource, ...]

    @property
    def pieces(self) -> int:
        """How many pieces all its sources hold."""
        return sum(len(source.pieces) for source in self.sources)
