"""The Settings screen's privacy tabs: the key, lock after idle, pause capture, and the
never-remember rules; and the dialog that changes the key.

The widgets only draw and say what the user asked for (signals); `settings_view` runs
the jobs and shows their outcome here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reverie.core.config import LOCK_CHOICES
from reverie.core.privacy import KeyMethod, PrivacyRules, Rule, RuleKind
from reverie.core.store.keys import MIN_PASSPHRASE
from reverie.desktop.theme import use_tone

KEY_TEXT = {
    KeyMethod.KEYRING: "Your memories are encrypted; the key is kept in this computer's"
                       " keyring, which opens when you log in.",
    KeyMethod.PASSPHRASE: "Your memories are encrypted with a key made from your passphrase."
                          " Reverie cannot recover it if it is lost.",
}
LOCK_LABELS = {0: "Never", 5: "After 5 minutes", 15: "After 15 minutes", 60: "After 1 hour"}
KIND_LABELS = {RuleKind.TEXT: "Words or phrase", RuleKind.SOURCE: "Source or folder name"}


def _muted(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    use_tone(label, "muted")
    return label


class PrivacyTab(QWidget):
    """Where the key lives (and changing it), lock after idle, pause capture."""

    key_change_asked = Signal(bool)  # to_keyring
    lock_minutes_chosen = Signal(int)
    pause_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Privacy")
        self.key_label = QLabel("Reading…")
        self.key_label.setWordWrap(True)
        self.key_label.setAccessibleName("Where the key is")
        self.passphrase_button = QPushButton("Change &passphrase…")
        self.keyring_button = QPushButton("Keep the key in the &keyring…")
        self.keyring_button.setToolTip("No passphrase to type; the keyring opens at login")
        buttons = QHBoxLayout()
        buttons.addWidget(self.passphrase_button)
        buttons.addWidget(self.keyring_button)
        buttons.addStretch(1)
        key_box = QGroupBox("&Encryption key")
        key_layout = QVBoxLayout(key_box)
        key_layout.addWidget(self.key_label)
        key_layout.addLayout(buttons)
        self.lock_choice = QComboBox()
        self.lock_choice.setAccessibleName("Lock after")
        for minutes in LOCK_CHOICES:
            self.lock_choice.addItem(LOCK_LABELS[minutes], minutes)
        lock_box = QGroupBox("&Lock when away")
        lock_layout = QFormLayout(lock_box)
        lock_layout.addRow("Lock the window:", self.lock_choice)
        lock_layout.addRow(_muted(
            "With no key press or mouse move for that long, Reverie hides your memories"
            " and asks for your passphrase (or, with the key in the keyring, for a click on"
            " Unlock) to show them again."))
        self.pause = QCheckBox("&Pause capture: read none of your watched folders and exports")
        self.pause.setAccessibleName("Pause capture")
        capture_box = QGroupBox("Capture")
        capture_layout = QVBoxLayout(capture_box)
        capture_layout.addWidget(self.pause)
        capture_layout.addWidget(_muted(
            "The same switch as in the tray menu. What is stored stays; what is waiting is"
            " still read for memories."))
        layout = QVBoxLayout(self)
        for box in (key_box, lock_box, capture_box):
            layout.addWidget(box)
        layout.addStretch(1)
        self.passphrase_button.clicked.connect(lambda: self.key_change_asked.emit(False))
        self.keyring_button.clicked.connect(lambda: self.key_change_asked.emit(True))
        self.lock_choice.activated.connect(
            lambda index: self.lock_minutes_chosen.emit(int(self.lock_choice.itemData(index))))
        self.pause.toggled.connect(self.pause_toggled)

    def show_key(self, method: KeyMethod, keyring_available: bool) -> None:
        """Say where the key is and offer the moves that make sense here."""
        self.key_label.setText(KEY_TEXT[method])
        on_passphrase = method is KeyMethod.PASSPHRASE
        self.passphrase_button.setText(
            "Change &passphrase…" if on_passphrase else "Use a &passphrase instead…")
        self.keyring_button.setVisible(on_passphrase)
        self.keyring_button.setEnabled(keyring_available)
        if on_passphrase and not keyring_available:
            self.keyring_button.setToolTip("This computer has no secure keyring")

    def show_lock(self, minutes: int) -> None:
        """Select the lock choice without saying it was chosen."""
        self.lock_choice.setCurrentIndex(max(0, self.lock_choice.findData(minutes)))

    def show_paused(self, paused: bool) -> None:
        """Set the pause box without starting a job."""
        self.pause.blockSignals(True)
        self.pause.setChecked(paused)
        self.pause.blockSignals(False)


class RulesTab(QWidget):
    """The never-remember rules: the list, add one, remove the selected."""

    add_asked = Signal(str, str)  # kind, value as typed
    remove_asked = Signal(object)  # the Rule

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Never remember")
        intro = QLabel(
            "Reverie never stores, and so never remembers, a turn or passage holding these"
            " words, nor anything from a source or folder with these names. Upper and lower"
            " case do not matter.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Never-remember rules")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Rule kind")
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind.value)
        self.value = QLineEdit()
        self.value.setAccessibleName("Rule")
        self.value.setPlaceholderText("e.g. diagnosis, or Medical")
        self.add_button = QPushButton("&Add")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setEnabled(False)
        self.problem = QLabel()
        use_tone(self.problem, "problem")
        self.problem.setAccessibleName("Problem")
        self.problem.setWordWrap(True)
        self.problem.hide()  # until a rule is refused
        self.count = _muted()
        self.count.setAccessibleName("Kept out")
        row = QHBoxLayout()
        row.addWidget(self.kind)
        row.addWidget(self.value, 1)
        row.addWidget(self.add_button)
        below = QHBoxLayout()
        below.addWidget(self.count, 1)
        below.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(self.list, 1)
        layout.addLayout(below)
        self.add_button.clicked.connect(self._add)
        self.value.returnPressed.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.list.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.list.selectedItems())))

    def show_rules(self, rules: PrivacyRules, withheld: int) -> None:
        """List the rules, and how many pieces they have kept out."""
        self.list.clear()
        for rule in rules.rules:
            item = QListWidgetItem(rule.describe())
            item.setData(Qt.ItemDataRole.UserRole, rule)
            self.list.addItem(item)
        self.count.setText(
            "Nothing has been kept out yet." if not withheld else
            f"Turns and passages kept out so far: {withheld}"
            " (counted each time a file is read).")

    def show_problem(self, message: str) -> None:
        """Say why a rule was not added (empty when all is well)."""
        self.problem.setText(message)
        self.problem.setVisible(bool(message))

    def set_busy(self, busy: bool) -> None:
        """Hold the buttons while a change is saved."""
        self.add_button.setEnabled(not busy)
        self.remove_button.setEnabled(not busy and bool(self.list.selectedItems()))

    def _add(self) -> None:
        self.add_asked.emit(str(self.kind.currentData()), self.value.text())

    def _remove(self) -> None:
        items = self.list.selectedItems()
        if items:
            rule = items[0].data(Qt.ItemDataRole.UserRole)
            assert isinstance(rule, Rule)
            self.remove_asked.emit(rule)


class KeyDialog(QDialog):
    """Asks what a key change needs: the passphrase now (if there is one) and the new one
    (twice) unless the key goes to the keyring."""

    submitted = Signal(object, object, bool)  # current or None, new or None, to_keyring

    def __init__(self, method: KeyMethod, to_keyring: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.to_keyring = to_keyring
        self.method = method
        self.setWindowTitle("Keep the key in the keyring" if to_keyring else
                            "Change passphrase" if method is KeyMethod.PASSPHRASE
                            else "Use a passphrase")
        self.setAccessibleName(self.windowTitle())
        intro = QLabel(
            "Reverie encrypts your memories again under the new key; this takes a moment"
            " for a large store. If anything goes wrong, the old key still opens them.")
        intro.setWordWrap(True)
        self.current = self._field("Current passphrase")
        self.new = self._field("New passphrase")
        self.again = self._field("New passphrase again")
        form = QFormLayout()
        if method is KeyMethod.PASSPHRASE:
            form.addRow("Current passphrase:", self.current)
        if not to_keyring:
            form.addRow("New passphrase:", self.new)
            form.addRow("Again:", self.again)
        self.problem = QLabel()
        self.problem.setAccessibleName("Problem")
        use_tone(self.problem, "problem")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Change key")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)

    def _field(self, name: str) -> QLineEdit:
        field = QLineEdit()
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setAccessibleName(name)
        return field

    def show_problem(self, message: str) -> None:
        """Say why the key was not changed; the dialog stays for another try."""
        self.problem.setText(message)
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        """Hold the dialog while the store is encrypted again."""
        self.ok.setEnabled(not busy)
        for field in (self.current, self.new, self.again):
            field.setEnabled(not busy)
        if busy:
            self.problem.setText("Encrypting your memories under the new key…")

    def _submit(self) -> None:
        problem = self._problem()
        if problem:
            self.problem.setText(problem)
            return
        current = self.current.text() if self.method is KeyMethod.PASSPHRASE else None
        new = None if self.to_keyring else self.new.text()
        self.set_busy(True)
        self.submitted.emit(current, new, self.to_keyring)

    def _problem(self) -> str:
        if self.method is KeyMethod.PASSPHRASE and not self.current.text():
            return "Type your current passphrase."
        if self.to_keyring:
            return ""
        if len(self.new.text()) < MIN_PASSPHRASE:
            return f"Use at least {MIN_PASSPHRASE} characters for the new passphrase."
        if self.new.text() != self.again.text():
            return "The two new passphrases differ."
        return ""

