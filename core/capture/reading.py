"""Read one file from a disk Reverie does not control, and parse it.

Everything that can go wrong with a file becomes an `UnreadableFile` with a reason the
user can act on: too big, not a regular file (a FIFO would block the reader forever),
permission denied, gone or changed while being read, not a format Reverie knows.
Formats marked `isolated` are parsed in a child process (see `isolation`).
"""

from __future__ import annotations

import errno
import hashlib
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reverie.core.capture.formats import HEAD_BYTES, Format, detect
from reverie.core.capture.isolation import IsolatedParser
from reverie.core.capture.parsed import ParseContext, ParsedFile, UnreadableFile


@dataclass(frozen=True)
class FileStat:
    """What the catch-up scan compares: a file's size and modification time."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileBytes:
    """A file's whole content as read once, with the stat it was read under."""

    path: Path
    stat: FileStat
    raw: bytes
    sha256: str


def stat_file(path: Path) -> FileStat:
    """Size and mtime of a regular file (symlinks followed), or `UnreadableFile`."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UnreadableFile(path, "gone (deleted, or a broken link)", transient=True) from None
    except PermissionError:
        raise UnreadableFile(path, "permission denied", transient=True) from None
    except OSError as exc:
        raise _os_problem(path, exc) from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(path, "not a regular file (a device, pipe or socket)")
    return FileStat(info.st_size, info.st_mtime_ns)


def read_file(path: Path, max_bytes: int) -> FileBytes:
    """Read a whole file no larger than `max_bytes`, or raise `UnreadableFile`."""
    before = stat_file(path)
    if before.size > max_bytes:
        raise UnreadableFile(path, f"{_size(before.size)} is over the {_size(max_bytes)} limit "
                             "for one file (Settings → Capture)")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise UnreadableFile(path, "vanished while being read", transient=True) from None
    except PermissionError:
        raise UnreadableFile(path, "permission denied", transient=True) from None
    except OSError as exc:
        raise _os_problem(path, exc) from None
    after = stat_file(path)
    if after != before or len(raw) != before.size:
        raise UnreadableFile(path, "changed while being read; it is read again once it "
                             "settles", transient=True)
    return FileBytes(path, after, raw, hashlib.sha256(raw).hexdigest())


def format_of(path: Path, raw: bytes) -> Format:
    """The format of a file, or `UnreadableFile` naming what Reverie reads."""
    found = detect(path, raw[:HEAD_BYTES])
    if found is None:
        raise UnreadableFile(path, f"not a format Reverie reads ({path.suffix or 'no extension'}"
                             "; see docs/formats.md)")
    return found


def parse_bytes(
    content: FileBytes, fmt: Format, isolated: IsolatedParser | None = None
) -> ParsedFile:
    """Parse read bytes with `fmt`, in the child process when the format asks for it."""
    modified = datetime.fromtimestamp(content.stat.mtime_ns / 1e9, UTC).replace(microsecond=0)
    context = ParseContext(path=content.path, modified=modified)
    if fmt.isolated and isolated is not None:
        sources = isolated.parse(fmt, content.raw, context)
    else:
        sources = fmt.parse(content.raw, context)
    return ParsedFile(content.path, fmt.name, content.sha256, tuple(sources))


def _os_problem(path: Path, exc: OSError) -> UnreadableFile:
    if exc.errno == errno.ELOOP:
        return UnreadableFile(path, "a symbolic link loop")
    why = exc.strerror or type(exc).__name__
    return UnreadableFile(path, f"could not be read ({why})", transient=True)


def _size(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"

