"""What every long job takes: a progress callback and a cancel flag."""

from __future__ import annotations

import threading
from collections.abc import Callable

from reverie.core.errors import Cancelled

# progress(done, total, what): called from the worker thread running the job.
Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, what: str) -> None:
    """A progress callback that ignores reports."""


def check_cancel(cancel: threading.Event | None) -> None:
    """Raise `Cancelled` if the user asked the job to stop."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")
