"""The first-run wizard's pages before the model check: welcome, the key, the folders.

They only collect answers; nothing is written until the wizard finishes and the app
opens the store the normal way (`desktop/first_run.py`).
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from reverie.core.store.keys import MIN_PASSPHRASE
from reverie.desktop.sources_model import display_path
from reverie.desktop.sources_view import EXPORT_FILTER
from reverie.desktop.theme import use_tone

STRENGTH_TONES = ("problem", "problem", "warning", "good")  # by passphrase_strength level
NO_KEYRING = (
    "This computer has no secure keyring (such as GNOME Keyring, KWallet, the macOS "
    "Keychain or Windows Credential Manager), so a passphrase is the way to protect "
    "your memories here."
)
# Character classes and how many characters each adds to a guesser's alphabet.
_CLASSES = ((str.islower, 26), (str.isupper, 26), (str.isdigit, 10))
_OTHER_CHARACTERS = 33


def passphrase_strength(text: str) -> tuple[int, str]:
    """A rough strength (0 too short, 1 weak, 2 fair, 3 strong) and a hint for the user.

    An estimate of a guesser's work in bits: the length (repeated characters count
    less) times the bits of the alphabet the characters come from. It cannot know
    about dictionary words, so it only ever encourages: longer is stronger.
    """
    if len(text) < MIN_PASSPHRASE:
        return 0, f"Too short: use at least {MIN_PASSPHRASE} characters."
    alphabet = sum(size for test, size in _CLASSES if any(test(c) for c in text))
    if any(not c.isalnum() for c in text):
        alphabet += _OTHER_CHARACTERS
    counted = min(len(text), 2 * len(set(text)))
    bits = counted * math.log2(max(alphabet, 2))
    if bits < 50:
        return 1, "Weak: a few more words would make it much harder to guess."
    if bits < 80:
        return 2, "Fair: a longer phrase, such as a short sentence, is stronger."
    return 3, "Strong."


def passphrase_problem(typed: str, again: str) -> str | None:
    """Why a new passphrase cannot be used (the same checks as the unlock dialog)."""
    if not typed:
        return "Type a passphrase."
    if len(typed) < MIN_PASSPHRASE:
        return f"Use at least {MIN_PASSPHRASE} characters."
    if again != typed:
        return "The two passphrases differ: type the same one twice."
    return None


def _paragraph(text: str, parent: QWidget, name: str) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setAccessibleName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class WelcomePage(QWizardPage):
    """What Reverie does, that nothing leaves the computer, and the demo as a way out."""

    demo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Welcome to Reverie")
        self.setSubTitle("A memory for your conversations and notes, private to you.")
        about = _paragraph(
            "Reverie reads the chats and notes you give it, remembers what matters in "
            "them (people, plans, what happened when) and lets you browse that on a "
            "timeline and ask about it in a chat.", self, "What Reverie does")
        privacy = _paragraph(
            "Everything stays on this computer: your memories, the models that read them "
            "and the key that encrypts them. Reverie sends nothing anywhere and needs no "
            "account.", self, "Privacy")
        privacy.setStyleSheet("font-weight: 600")
        choice = _paragraph(
            "Press Next to set up Reverie for your own memories. Or look around first: "
            "the sample life is a throwaway store of four months of someone's chats and "
            "notes, deleted when you quit; nothing of yours is created.", self,
            "Your choice")
        self.demo_button = QPushButton("Try it with a &sample life first", self)
        self.demo_button.setAccessibleName("Try it with a sample life first")
        # Not a default button even with the focus: Enter means Next, never "leave the
        # wizard for the demo" (Space or Alt+S press it).
        self.demo_button.setAutoDefault(False)
        self.demo_button.clicked.connect(self.demo_requested.emit)
        row = QHBoxLayout()
        row.addWidget(self.demo_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        for widget in (about, privacy, choice):
            layout.addWidget(widget)
            layout.addSpacing(6)
        layout.addLayout(row)
        layout.addStretch(1)


class KeyPage(QWizardPage):
    """Where the key that encrypts the store is kept: the keyring, or a passphrase."""

    def __init__(self, keyring_available: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Protecting your memories")
        self.setSubTitle("Reverie encrypts everything it keeps. Choose how its key is kept; "
                         "it is never written down in plain text.")
        self.keyring_button = QRadioButton(
            "Keep the key in this computer's &keyring (recommended)", self)
        self.keyring_button.setAccessibleName("Keep the key in the keyring")
        keyring_note = _paragraph(
            "Reverie opens without asking while you are logged in; the keyring guards "
            "the key with your login." if keyring_available else NO_KEYRING, self,
            "About the keyring")
        use_tone(keyring_note, "muted")
        self.passphrase_button = QRadioButton("Protect it with a &passphrase", self)
        self.passphrase_button.setAccessibleName("Protect the key with a passphrase")
        passphrase_note = _paragraph(
            "Reverie asks for it at every start. It cannot be recovered if it is lost, "
            "and neither can your memories.", self, "About the passphrase")
        use_tone(passphrase_note, "muted")
        self.choice = QButtonGroup(self)
        self.choice.addButton(self.keyring_button)
        self.choice.addButton(self.passphrase_button)
        self.keyring_button.setEnabled(keyring_available)
        (self.keyring_button if keyring_available else self.passphrase_button).setChecked(True)

        self.entry = self._password_field("Passphrase")
        self.again = self._password_field("Passphrase again")
        self.strength = QLabel(self)
        self.strength.setAccessibleName("Passphrase strength")
        self.problem = QLabel(self)
        self.problem.setAccessibleName("Problem")
        use_tone(self.problem, "problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        form = QFormLayout()
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("Pass&phrase:", self.entry)
        form.addRow("&Again:", self.again)
        form.addRow("", self.strength)

        layout = QVBoxLayout(self)
        layout.addWidget(self.keyring_button)
        layout.addWidget(keyring_note)
        layout.addSpacing(8)
        layout.addWidget(self.passphrase_button)
        layout.addWidget(passphrase_note)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.choice.buttonToggled.connect(lambda *_: self._update())
        self._update()

    def initializePage(self) -> None:
        """Start in the passphrase field when there is no keyring to choose."""
        (self.keyring_button if self.uses_keyring else self.entry).setFocus()

    @property
    def uses_keyring(self) -> bool:
        """True when the key goes into the keyring."""
        return self.keyring_button.isChecked()

    def passphrase(self) -> str | None:
        """The chosen passphrase, or None when the keyring keeps the key."""
        return None if self.uses_keyring else self.entry.text()

    def isComplete(self) -> bool:
        """The keyring needs nothing more; a passphrase needs both fields typed."""
        return self.uses_keyring or bool(self.entry.text() and self.again.text())

    def validatePage(self) -> bool:
        """Refuse a short passphrase, or two that differ, saying why."""
        problem = None if self.uses_keyring else passphrase_problem(
            self.entry.text(), self.again.text())
        self.problem.setText(problem or "")
        self.problem.setVisible(problem is not None)
        if problem is not None:
            (self.again if len(self.entry.text()) >= MIN_PASSPHRASE else self.entry).setFocus()
        return problem is None

    def _password_field(self, name: str) -> QLineEdit:
        field = QLineEdit(self)
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setAccessibleName(name)
        field.textChanged.connect(lambda _text: self._update())
        return field

    def _update(self) -> None:
        typing = not self.uses_keyring
        for widget in (self.entry, self.again):
            widget.setEnabled(typing)
        level, hint = passphrase_strength(self.entry.text())
        self.strength.setText(hint if typing and self.entry.text() else "")
        use_tone(self.strength, STRENGTH_TONES[level])
        self.problem.hide()
        self.completeChanged.emit()


class FoldersPage(QWizardPage):
    """Optional: folders and export files to follow once the store exists."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Folders to watch")
        self.setSubTitle("Optional. Reverie can follow folders of notes and documents, and "
                         "exported chats, and keep up with their changes while it runs.")
        self.list = QListWidget(self)
        self.list.setAccessibleName("Folders and files to watch")
        self.list.currentRowChanged.connect(lambda _row: self._update())
        self.folder_button = QPushButton("Add &folder…", self)
        self.folder_button.setAccessibleName("Add folder")
        self.folder_button.clicked.connect(self.choose_folder)
        self.export_button = QPushButton("Add &export file…", self)
        self.export_button.setAccessibleName("Add export file")
        self.export_button.clicked.connect(self.choose_export)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.setAccessibleName("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        # Delete removes the chosen entry while the list has the focus.
        remove_key = QShortcut(QKeySequence.StandardKey.Delete, self.list)
        remove_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove_key.activated.connect(self.remove_selected)
        self.problem = QLabel(self)
        self.problem.setAccessibleName("Problem")
        use_tone(self.problem, "problem")
        self.problem.setWordWrap(True)
        later = _paragraph("You can add or remove them later in View \N{RIGHTWARDS ARROW} "
                           "Sources.", self, "Later")
        use_tone(later, "muted")
        buttons = QHBoxLayout()
        for button in (self.folder_button, self.export_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.problem)
        layout.addWidget(later)
        self._paths: list[Path] = []
        self._update()

    def paths(self) -> tuple[Path, ...]:
        """The chosen folders and files, in the order added."""
        return tuple(self._paths)

    def add_path(self, path: str | Path) -> bool:
        """Add a folder or file; False (saying why) when it is missing or already listed."""
        chosen = Path(path).expanduser().resolve()
        problem = None
        if not chosen.exists():
            problem = f"{display_path(chosen)} does not exist."
        elif chosen in self._paths:
            problem = f"{display_path(chosen)} is already in the list."
        self.problem.setText(problem or "")
        if problem is not None:
            return False
        self._paths.append(chosen)
        self.list.addItem(display_path(chosen))
        self.list.setCurrentRow(self.list.count() - 1)
        self._update()
        return True

    def remove_selected(self) -> None:
        """Take the chosen entry off the list."""
        row = self.list.currentRow()
        if row < 0:
            return
        del self._paths[row]
        self.list.takeItem(row)
        self.problem.clear()
        self._update()

    def choose_folder(self) -> None:
        """Ask for a folder and add it."""
        path = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
        if path:
            self.add_path(path)

    def choose_export(self) -> None:
        """Ask for an export file and add it."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Add an export file", str(Path.home()), EXPORT_FILTER)
        if path:
            self.add_path(path)

    def _update(self) -> None:
        self.remove_button.setEnabled(self.list.currentRow() >= 0)
