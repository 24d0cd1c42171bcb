"""Lock after idle: no input for a while, and the window shows a lock screen instead.

An event filter on the application counts every input event (key, click, wheel, touch,
mouse move) and notes its monotonic time: a float store, so it costs next to nothing per
event. One single-shot `QTimer` fires when the timeout could first have passed; if
input came meanwhile it is started again for the time left, so the timer is touched once
per timeout, not once per event.

Locking puts a lock page in front of the window's pages (no memory text is on screen),
disables the chat input and the menus, hides the app's other windows (a memory's
detail, the Settings screen) and tells the tray through `locked_changed`. To come back
the user types the passphrase, or, when the key is in the OS keyring, presses Unlock,
which reads the keyring afresh (a keyring locked meanwhile keeps the app locked). The
check runs in a `Lane.STATUS` job (scrypt takes about 0.4 s); what the store does
in the background (capture, a scheduled run) goes on while locked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reverie.core import privacy
from reverie.core.privacy import KeyMethod
from reverie.core.service import Reverie
from reverie.desktop.jobs import JobBusy, JobContext, Lane
from reverie.desktop.theme import use_tone

if TYPE_CHECKING:
    from reverie.desktop.main_window import MainWindow

log = logging.getLogger("reverie.desktop.lock")

INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
})
RETRY_MS = 150  # when the status lane is busy with a read, try the unlock again soon
WRONG = "That is not the passphrase. Reverie stays locked."
KEYRING_REFUSED = ("The keyring did not give the key (is it locked?). Unlock your keyring,"
                   " then try again.")


class LockScreen(QWidget):
    """The page shown while locked: what happened, the passphrase field, Unlock."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Locked")
        title = QLabel("Reverie is locked")
        title.setStyleSheet("font-size: 17pt; font-weight: 600;")
        self.note = QLabel()
        self.note.setWordWrap(True)
        use_tone(self.note, "muted")
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.setPlaceholderText("Passphrase")
        self.unlock_button = QPushButton("&Unlock")
        self.unlock_button.setDefault(True)
        self.problem = QLabel()
        self.problem.setAccessibleName("Problem")
        use_tone(self.problem, "problem")
        self.problem.setWordWrap(True)
        box = QWidget()
        box.setFixedWidth(420)  # a word-wrapped label needs a width to find its height
        inner = QVBoxLayout(box)
        for widget in (title, self.note, self.passphrase, self.unlock_button, self.problem):
            inner.addWidget(widget)
        # Centred by stretches, not by an alignment flag: an aligned item is given its
        # size hint, which is too short for the word-wrapped note.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addLayout(row)
        layout.addStretch(3)
        self.passphrase.returnPressed.connect(self.unlock_button.click)

    def show_method(self, method: KeyMethod) -> None:
        """Ask for the passphrase, or only for a press of Unlock (keyring)."""
        asks = method is KeyMethod.PASSPHRASE
        self.passphrase.setVisible(asks)
        self.passphrase.clear()
        self.problem.clear()
        self.note.setText(
            "Nothing was used for a while, so your memories are hidden."
            + (" Type your passphrase to come back." if asks else
               " Press Unlock to come back; the key is read from your keyring again."))
        (self.passphrase if asks else self.unlock_button).setFocus()

    def set_checking(self, checking: bool) -> None:
        """Hold the controls while the check runs."""
        self.unlock_button.setEnabled(not checking)
        self.passphrase.setEnabled(not checking)
        if checking:
            self.problem.setText("Checking…")


class IdleLock(QObject):
    """Locks `window` after `timeout_ms` without input (0: never). Create once the store
    is open; it lives as long as the window."""

    locked_changed = Signal(bool)

    def __init__(self, window: MainWindow, *, timeout_ms: int = 0,
                 key_method: KeyMethod = KeyMethod.KEYRING) -> None:
        super().__init__(window)
        self._window = window
        self.key_method = key_method
        self.input_events = 0  # every input event seen (tests and the benchmark read it)
        self._last_input = time.monotonic()
        self._timeout_ms = 0
        self._locked = False
        self._page_before = 0  # the window's page when it locked
        self._hidden: list[QWidget] = []
        self.screen = LockScreen()
        window.pages.addWidget(self.screen)
        self.screen.unlock_button.clicked.connect(self.unlock)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._on_timer)
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.set_timeout_ms(timeout_ms)

    # --- idleness -------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Note every input event; never consumes one."""
        if event.type() in INPUT_EVENTS:
            self.input_events += 1
            self._last_input = time.monotonic()
        return False

    def set_minutes(self, minutes: int) -> None:
        """Lock after `minutes` without input; 0: never."""
        self.set_timeout_ms(minutes * 60_000)

    def set_timeout_ms(self, timeout_ms: int) -> None:
        """Lock after `timeout_ms` without input; 0: never. Counts from now."""
        self._timeout_ms = max(0, timeout_ms)
        self._last_input = time.monotonic()
        self.timer.stop()
        if self._timeout_ms and not self._locked:
            self.timer.start(self._timeout_ms)

    @property
    def timeout_ms(self) -> int:
        """The idle time after which the window locks; 0: never."""
        return self._timeout_ms

    def _on_timer(self) -> None:
        if self._locked or not self._timeout_ms or self._window.runner.facade is None:
            return  # (no facade: the window is closing)
        idle_ms = (time.monotonic() - self._last_input) * 1000
        if idle_ms >= self._timeout_ms:
            self.lock()
        else:
            self.timer.start(max(1, int(self._timeout_ms - idle_ms)))

    # --- locking --------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        """True while the lock screen hides the window's content."""
        return self._locked

    def lock(self) -> None:
        """Hide everything behind the lock screen now."""
        if self._locked:
            return
        window = self._window
        self._locked = True
        self.timer.stop()
        self._page_before = window.pages.currentIndex()
        self._hidden = [w for w in QApplication.topLevelWidgets()
                        if w is not window and w.isVisible() and w.isWindow()]
        for other in self._hidden:
            other.hide()
        self.screen.show_method(self.key_method)
        window.pages.setCurrentWidget(self.screen)
        window.chat.input.setEnabled(False)
        window.menuBar().setEnabled(False)
        window.statusBar().clearMessage()
        log.info("window locked after %d ms without input", self._timeout_ms)
        self.locked_changed.emit(True)

    def unlock(self) -> None:
        """Check the passphrase (or the keyring) in a job; unlock if it holds."""
        facade = self._window.runner.facade
        if not self._locked or facade is None:
            return
        asks = self.key_method is KeyMethod.PASSPHRASE
        passphrase = self.screen.passphrase.text() if asks else None
        if asks and not passphrase:
            self.screen.problem.setText("Type your passphrase.")
            return
        try:
            job = self._window.runner.run(Lane.STATUS, "unlock", _check(passphrase),
                                          writes=False)
        except JobBusy:  # a status read is under way: it ends in a moment
            QTimer.singleShot(RETRY_MS, self.unlock)
            return
        self.screen.set_checking(True)
        job.succeeded.connect(self._on_checked)
        job.failed.connect(lambda message, _bug: self._refused(message))
        job.finished.connect(lambda: self.screen.set_checking(False))

    def _on_checked(self, ok: object) -> None:
        if not ok:
            self._refused(WRONG if self.key_method is KeyMethod.PASSPHRASE else KEYRING_REFUSED)
            return
        window = self._window
        self._locked = False
        self.screen.passphrase.clear()
        self.screen.problem.clear()
        window.pages.setCurrentIndex(self._page_before)
        window.chat.input.setEnabled(True)
        window.menuBar().setEnabled(True)
        for other in self._hidden:
            other.show()
        self._hidden = []
        log.info("window unlocked")
        self.locked_changed.emit(False)
        self.set_timeout_ms(self._timeout_ms)

    def _refused(self, message: str) -> None:
        self.screen.passphrase.clear()
        self.screen.passphrase.setFocus()
        self.screen.problem.setText(message)

    def detach(self) -> None:
        """Stop watching input (the window is closing)."""
        self.timer.stop()
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


def _check(passphrase: str | None) -> Callable[[Reverie, JobContext], bool]:
    def work(facade: Reverie, _ctx: JobContext) -> bool:
        return privacy.unlock_check(facade.data_dir, passphrase)

    return work
