"""One Reverie app per data directory: a second launch hands over to the first.

The first app on a data directory listens on a local socket (`QLocalServer`: a Unix
domain socket on Linux and macOS, a named pipe on Windows) whose name is derived from
the user and the resolved data directory, so two users, or one user's two stores, never
meet. A later launch connects, sends `activate`, and the running app brings its window
to the front and answers `ok`; the later process then exits without opening the store
(which the running app holds locked anyway).

A crash leaves a Unix socket file behind that nobody listens on: connecting to it is
refused, so the name is removed (`QLocalServer.removeServer`) and claimed afresh.
"""

from __future__ import annotations

import enum
import getpass
import hashlib
import logging
import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

log = logging.getLogger("reverie.desktop.instance")

ACTIVATE = b"activate\n"
ANSWER = b"ok\n"
CONNECT_MS = 1000
# The running app answers from its event loop; a busy start-up may take a moment.
ANSWER_MS = 3000
WAIT_SLICE_MS = 50


class Handover(enum.Enum):
    """What became of a launch that found another app on its data directory."""

    ACTIVATED = "activated"  # the running app heard us and raised its window
    NO_ANSWER = "no answer"  # it is there, but did not answer in time (busy or hung)


def instance_key(data_dir: Path) -> str:
    """A short stable key of this user and data directory (names the socket and files)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container): the uid will do
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    identity = f"{user}\0{os.path.realpath(data_dir)}".encode()
    return hashlib.sha256(identity).hexdigest()[:20]


def server_name(data_dir: Path) -> str:
    """The local server's name for `data_dir` (short: Unix socket paths are limited)."""
    return f"reverie-{instance_key(data_dir)}"


class SingleInstance(QObject):
    """Claims the data directory's name, or hands over to the app that holds it.

    Create it on the main thread. `claim()` returns None when this process is now the
    one app on the data directory (`activation_requested` fires whenever a later launch
    asks), or how the handover to the running app went.
    """

    activation_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None

    @property
    def listening(self) -> bool:
        """True while this process holds the name."""
        return self._server is not None and self._server.isListening()

    def claim(self) -> Handover | None:
        """Become the one app on this name, or tell the app that is (see the class)."""
        handover = notify_running(self.name)
        if handover is not None:
            return handover
        server = QLocalServer(self)
        # Only this user may connect (the socket file's mode; a DACL on Windows).
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # Nobody answered, so whatever holds the name is left over from a crash.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                # Two launches raced: the other one won between our tries.
                handover = notify_running(self.name)
                if handover is not None:
                    return handover
                log.warning("cannot listen for later launches (%s); going on without",
                            server.errorString())
                return None
        server.newConnection.connect(self._accept)
        self._server = server
        log.info("listening for later launches on %s", server.fullServerName())
        return None

    def release(self) -> None:
        """Stop listening (the name is free for the next app); safe twice."""
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None

    @Slot()
    def _accept(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            socket = server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        line = bytes(socket.readLine().data())
        if line == ACTIVATE:
            socket.write(ANSWER)
            socket.flush()
            log.info("a later launch asked for the window")
            self.activation_requested.emit()
        socket.disconnectFromServer()


def notify_running(name: str) -> Handover | None:
    """Ask the app listening on `name` to show its window; None if no app listens.

    Blocking (no event loop is needed): for a launch that has not started its own yet.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return None
    socket.write(ACTIVATE)
    socket.waitForBytesWritten(CONNECT_MS)
    answered = False
    deadline = time.monotonic() + ANSWER_MS / 1000
    # Short waits, looking at the socket after each: one long waitForReadyRead was seen
    # to time out with the answer already sent (it holds the GIL meanwhile, which
    # matters when both ends share a process, as in the tests).
    while time.monotonic() < deadline:
        socket.waitForReadyRead(WAIT_SLICE_MS)
        if socket.canReadLine():
            answered = bytes(socket.readLine().data()) == ANSWER
            break
        if socket.state() is not QLocalSocket.LocalSocketState.ConnectedState:
            break
    socket.abort()
    return Handover.ACTIVATED if answered else Handover.NO_ANSWER


def bring_to_front(window: QWidget) -> None:
    """Show `window`, un-minimised, raised and active (as far as the window system lets
    an app take the focus: some raise it, some flash its taskbar entry instead)."""
    state = window.windowState() & ~Qt.WindowState.WindowMinimized
    window.setWindowState(state | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()
