"""Stopping background work at shut-down while the window keeps drawing.

Capture and the consolidation schedule each stop on a thread of their own (a file
being read or a model call under way may take seconds to wind down); meanwhile a local
event loop keeps the window painted, holding back user input.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, SignalInstance


def stop_while_drawing(
    stopped: SignalInstance, start_stopping: Callable[[], threading.Thread]
) -> None:
    """Call `start_stopping` (which returns the thread doing it) and keep drawing until
    `stopped` is emitted; then join the thread.

    `stopped` reaches the main thread queued, so it is delivered inside the loop even
    when the thread finishes at once. If the loop cannot run (the application has
    quit), `exec` returns at once and the join waits instead.
    """
    loop = QEventLoop()
    stopped.connect(loop.quit)
    thread = start_stopping()
    loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    thread.join()
    stopped.disconnect(loop.quit)
