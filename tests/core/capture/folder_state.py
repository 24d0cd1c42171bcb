"""What the store holds of a watched folder, beside what the folder holds on disk."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from reverie.core.capture.reading import format_of, parse_bytes, read_file
from reverie.core.capture.scan import Found, PathFilter, walk
from reverie.core.service import Reverie

Snapshot = dict[str, list[tuple[str, str]]]  # file -> [(locator, text)]


def stored(reverie: Reverie) -> Snapshot:
    """Each file's pieces as the store holds them, by file path."""
    rows = reverie.store.ledger.query(
        "SELECT fs.path, e.locator, e.text FROM file_sources fs"
        " JOIN episodes e ON e.source_id = fs.source_id ORDER BY fs.path, e.locator"
    )
    found: Snapshot = {}
    for row in rows:
        found.setdefault(row["path"], []).append((row["locator"], row["text"]))
    return found


def on_disk(folder: Path) -> Snapshot:
    """Each readable file's pieces as a fresh parse of the disk gives them."""
    found: Snapshot = {}
    for item in walk(folder, PathFilter()):
        if not isinstance(item, Found):
            continue
        content = read_file(item.path, 1 << 30)
        parsed = parse_bytes(content, format_of(item.path, content.raw))
        pieces = sorted((p.locator, p.text) for s in parsed.sources for p in s.pieces)
        if pieces:
            found[str(item.path)] = pieces
    return found


def wait_until(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Poll `check` until it holds or the time is up; return its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()
