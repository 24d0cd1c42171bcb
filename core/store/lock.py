"""One process owns a data directory at a time: an OS advisory lock on a file in it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from reverie.core.errors import DataDirLocked


class DataDirLock:
    """An exclusive, non-blocking lock on `<data_dir>/reverie.lock`.

    The OS drops the lock when the process dies, so a crash never leaves the directory
    locked.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "reverie.lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise `DataDirLocked` naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while open
        try:
            _lock_file(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DataDirLocked(
                f"{self.path.parent} is in use by Reverie (pid {holder}); "
                "close it first or choose another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the lock back; safe to call twice."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _lock_file(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
