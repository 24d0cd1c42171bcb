"""The passphrase dialog: shown before the store opens when the OS has no secure
keyring (or the data directory is locked with a passphrase)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from reverie.core.store.keys import MIN_PASSPHRASE, PassphraseRequest
from reverie.desktop.theme import use_tone

_INTRO = {
    PassphraseRequest.CREATE: (
        "Reverie encrypts your memories. This computer has no secure keyring to keep the "
        "key in, so choose a passphrase instead. Reverie cannot recover it if it is lost."
    ),
    PassphraseRequest.UNLOCK: "Your memories are locked with a passphrase.",
    PassphraseRequest.RETRY: "That passphrase did not unlock your memories. Try again.",
}


class PassphraseDialog(QDialog):
    """Asks for a passphrase: a new one (typed twice) or the one that unlocks the store."""

    def __init__(self, request: PassphraseRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        creating = request is PassphraseRequest.CREATE
        self.setWindowTitle("Choose a passphrase" if creating else "Unlock Reverie")
        self.setAccessibleName(self.windowTitle())
        intro = QLabel(_INTRO[request])
        intro.setWordWrap(True)
        self.entry = self._password_field("Passphrase")
        self.again = self._password_field("Passphrase again")
        self.problem = QLabel()
        self.problem.setAccessibleName("Problem")
        use_tone(self.problem, "problem")
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Passphrase:", self.entry)
        if creating:
            form.addRow("Again:", self.again)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Create" if creating else "Unlock")
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        self.problem.setVisible(request is PassphraseRequest.RETRY)
        self.entry.setFocus()

    def passphrase(self) -> str:
        """What the user typed."""
        return self.entry.text()

    def _password_field(self, name: str) -> QLineEdit:
        field = QLineEdit()
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setAccessibleName(name)
        return field

    def _check_and_accept(self) -> None:
        problem = self._problem()
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        if problem is None:
            self.accept()

    def _problem(self) -> str | None:
        typed = self.entry.text()
        if not typed:
            return "Type the passphrase."
        if self.request is PassphraseRequest.CREATE:
            if len(typed) < MIN_PASSPHRASE:
                return f"Use at least {MIN_PASSPHRASE} characters."
            if self.again.text() != typed:
                return "The two passphrases differ."
        return None
