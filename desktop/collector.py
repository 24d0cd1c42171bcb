"""Python's cyclic garbage collector, run on the main thread only.

Collection runs on whichever thread happens to allocate when a threshold is crossed. In
this app that is often a worker (extraction, import, the index opener), and a cycle it
frees may hold a Qt object that lives on the main thread: its C++ side is then destroyed
on the worker while the main thread is delivering an event to it. The full test suite
died twice that way (a segmentation fault in `QObject::property`, reached from
`sendPostedEvents` through an application event filter, under gdb). So the app turns
automatic collection off and collects from a main-thread timer instead, as often as the
automatic collector would (its own thresholds decide which generation is due).
Reference counting still frees everything that is not in a cycle, at once, on any thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500  # how often the counts are looked at: a cycle waits at most this long


class MainThreadCollector(QObject):
    """Collects garbage cycles on the thread it lives on (the main thread)."""

    def __init__(self, parent: QObject | None = None) -> None:
        """Turn automatic collection off and start checking every `INTERVAL_MS`."""
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold, as the
        automatic collector would have; return what was found (0 if nothing was due)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                return gc.collect(generation)
        return 0

    def stop(self) -> None:
        """Give collection back to Python (the app is quitting)."""
        self.timer.stop()
        gc.enable()


def collect_on_main_thread(parent: QObject) -> MainThreadCollector:
    """The collector for the app, owned by `parent` (the QApplication)."""
    return MainThreadCollector(parent)
