"""A deadline for one model call: an event set by a timer or by the user's cancel."""

from __future__ import annotations

import threading
import time


class EitherEvent(threading.Event):
    """Set when either of two events is set (a deadline or the user's cancel).

    Read-only: `is_set` and `wait` look at both events; setting it directly is not
    supported (set one of the two instead).
    """

    _POLL_SECONDS = 0.05

    def __init__(self, first: threading.Event, second: threading.Event | None) -> None:
        super().__init__()
        self._first, self._second = first, second

    def is_set(self) -> bool:
        return self._first.is_set() or (self._second is not None and self._second.is_set())

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._first.wait(self._POLL_SECONDS if left is None else min(left, self._POLL_SECONDS))
        return True


def call_deadline(
    seconds: float, cancel: threading.Event | None
) -> tuple[EitherEvent, threading.Timer]:
    """An event set after `seconds` or when `cancel` is set, and its started timer (the
    caller cancels the timer when the call returns)."""
    deadline = threading.Event()
    timer = threading.Timer(seconds, deadline.set)
    timer.daemon = True
    timer.start()
    return EitherEvent(deadline, cancel), timer
