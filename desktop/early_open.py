"""Opening the store while the window is still being built.

When no passphrase has to be asked for (the key is in the keyring, or given in
`$REVERIE_PASSPHRASE`), nothing the user does can change how the store opens, so the
app starts opening it before it imports and builds its window: the key derivation and
SQLCipher (which release the GIL) then run on the second core while the first imports
the interface. The window's open job takes the result instead of opening again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reverie.core.service import Reverie

log = logging.getLogger("reverie.desktop.open")


class EarlyOpen:
    """One store opening on a thread of its own, its facade (or error) taken once."""

    def __init__(self, open_store: Callable[[], Reverie]) -> None:
        """Start `open_store` at once on a daemon thread."""
        self._open_store = open_store
        self._facade: Reverie | None = None
        self._problem: BaseException | None = None
        self._taken = False
        self._thread = threading.Thread(target=self._run, name="reverie-early-open",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._facade = self._open_store()
        except BaseException as exc:  # re-raised where the window's open job takes it
            self._problem = exc

    @property
    def taken(self) -> bool:
        """Whether `take` was called (a second open goes the usual way)."""
        return self._taken

    def take(self) -> Reverie:
        """Wait for the opening and return its facade, or raise what it raised."""
        self._taken = True
        self._thread.join()
        if self._problem is not None:
            problem, self._problem = self._problem, None
            raise problem
        facade, self._facade = self._facade, None
        assert facade is not None
        return facade

    def discard(self) -> None:
        """Close what was opened and never taken (the window closed before it asked)."""
        if self._taken:
            return
        self._taken = True
        self._thread.join()
        if self._facade is not None:
            log.info("closing the store opened for a window that never asked for it")
            self._facade.close()
            self._facade = None
