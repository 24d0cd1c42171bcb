"""The queue between the watcher and the indexer: each path at most once, never blocking.

A file saved a thousand times while the indexer is busy is waiting once, not a thousand
times; the watcher's threads only add to a set under a lock, so a slow indexer can
never hold them up (watchdog would drop events, or the OS queue overflow, if they
blocked). Whole-source scans go first: they cover any single path of the source.
"""

from __future__ import annotations

import threading
from pathlib import Path


class PathQueue:
    """Paths and scan requests, each held once, in arrival order."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._paths: dict[Path, None] = {}  # a dict keeps arrival order
        self._scans: dict[int, None] = {}
        self._closed = False

    def put_paths(self, paths: list[Path]) -> None:
        """Add changed paths; those already waiting are not added twice."""
        with self._ready:
            for path in paths:
                self._paths[path] = None
            self._ready.notify()

    def put_scan(self, watch_id: int) -> None:
        """Ask for a whole scan of one watched source."""
        with self._ready:
            self._scans[watch_id] = None
            self._ready.notify()

    def take(self, timeout: float | None = None) -> int | Path | None:
        """The next scan (a watch id) or path; None once closed or after `timeout`."""
        with self._ready:
            if not self._ready.wait_for(self._has_work, timeout):
                return None
            if self._closed:
                return None
            if self._scans:
                watch_id = next(iter(self._scans))
                del self._scans[watch_id]
                return watch_id
            path = next(iter(self._paths))
            del self._paths[path]
            return path

    def __len__(self) -> int:
        with self._ready:
            return len(self._paths) + len(self._scans)

    def close(self) -> None:
        """Wake every taker with None; nothing more is handed out."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def _has_work(self) -> bool:
        return self._closed or bool(self._paths) or bool(self._scans)
