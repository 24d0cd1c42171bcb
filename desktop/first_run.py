"""The first-run wizard: shown by `run_app` when the data directory has no store yet.

Pages: welcome (what Reverie does, that nothing leaves the computer, and a way to try
the sample life instead), the key (the OS keyring when a secure one exists, else a
passphrase typed twice), folders to watch (optional), the model check, and a summary.
The wizard writes nothing. Its answer, `FirstRunChoices`, feeds the app's ordinary
opener, which creates the store in a job like any opening (`MainWindow.start`); once the
store is open, the chosen folders are followed through the Sources screen's own job,
one after another (`follow_when_open`). The key's recipe in `key.json` and the sources
in the ledger are then what is remembered: the wizard shows again only for a data
directory without a store. Cancelling it creates nothing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget, QWizard, QWizardPage

from reverie.core.config import resolve_config_dir
from reverie.core.store.keys import Unlocker, fixed_passphrase
from reverie.desktop.first_run_models import ModelsPage
from reverie.desktop.first_run_pages import FoldersPage, KeyPage, WelcomePage
from reverie.desktop.sources_model import display_path
from reverie.models.registry import ModelRegistry

if TYPE_CHECKING:
    from reverie.desktop.main_window import MainWindow

log = logging.getLogger("reverie.desktop.first_run")

DEMO_RESULT = 2  # the wizard's exit code when the user chose the sample life


class Start(enum.Enum):
    """What the user chose in the wizard, besides setting up their own store."""

    CANCEL = "cancel"
    DEMO = "demo"


@dataclass(frozen=True)
class FirstRunChoices:
    """The wizard's answers. The passphrase is never written anywhere; it derives the key
    when the store is created."""

    use_keyring: bool
    passphrase: str | None = field(default=None, repr=False)
    folders: tuple[Path, ...] = ()

    def unlocker(self, keyring_backend: object | None) -> Unlocker:
        """The unlocker that creates the store's key as chosen.

        Choosing a passphrase on a machine with a keyring hides the keyring from the
        unlocker: otherwise creating the key would prefer the keyring.
        """
        if self.use_keyring:
            return Unlocker(keyring_backend, None)
        return Unlocker(None, fixed_passphrase(self.passphrase or ""))


class ReadyPage(QWizardPage):
    """A summary of the choices before anything is created."""

    def __init__(self, directory: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.directory = directory
        self.setTitle("Ready")
        self.setSubTitle("Nothing has been written yet. Start creates your encrypted store.")
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def initializePage(self) -> None:
        """Say what will happen, from the answers on the earlier pages."""
        wizard = self.wizard()
        assert isinstance(wizard, FirstRunWizard)
        choices = wizard.choices()
        key = ("in this computer's keyring" if choices.use_keyring
               else "derived from your passphrase, which Reverie will ask for at each start")
        lines = [f"Your memories will be kept in {display_path(self.directory)}, "
                 f"encrypted with a key {key}."]
        if choices.folders:
            shown = "\n".join(f"  \N{BULLET} {display_path(p)}" for p in choices.folders)
            lines.append(f"Reverie will then follow:\n{shown}")
        else:
            lines.append("No folders will be followed yet; add them any time in "
                         "View \N{RIGHTWARDS ARROW} Sources, or import a chat with "
                         "File \N{RIGHTWARDS ARROW} Import.")
        self.summary.setText("\n\n".join(lines))


class FirstRunWizard(QWizard):
    """The five pages; `exec()` returns Accepted, Rejected or `DEMO_RESULT`."""

    def __init__(self, directory: Path, *, keyring_available: bool,
                 registry: ModelRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Reverie")
        self.setAccessibleName("Reverie first-run set-up")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Start Reverie")
        self.welcome = WelcomePage(self)
        self.key = KeyPage(keyring_available, self)
        self.folders = FoldersPage(self)
        self.models = ModelsPage(registry, self)
        self.ready = ReadyPage(directory, self)
        for page in (self.welcome, self.key, self.folders, self.models, self.ready):
            self.addPage(page)
        self.welcome.demo_requested.connect(lambda: self.done(DEMO_RESULT))
        self._name_buttons()
        self.resize(640, 520)

    def choices(self) -> FirstRunChoices:
        """What the user chose so far."""
        return FirstRunChoices(self.key.uses_keyring, self.key.passphrase(),
                               self.folders.paths())

    def done(self, result: int) -> None:
        """Close; a model check under way is stopped first (its worker is waited for)."""
        self.models.stop()
        super().done(result)

    def _name_buttons(self) -> None:
        # Screen readers read a button's accessible name; Qt's default names carry the
        # "&" and the "<" / ">" arrows of the button texts.
        names = {QWizard.WizardButton.BackButton: "Back",
                 QWizard.WizardButton.NextButton: "Next",
                 QWizard.WizardButton.FinishButton: "Start Reverie",
                 QWizard.WizardButton.CancelButton: "Cancel"}
        for which, name in names.items():
            self.button(which).setAccessibleName(name)


def ask_first_run(
    directory: Path, keyring_available: bool,
    on_shown: Callable[[FirstRunWizard], None] = lambda _wizard: None,
) -> FirstRunChoices | Start:
    """Show the wizard until the user finishes (their choices), cancels or picks the demo.

    `on_shown` gets the wizard before it runs (the app connects the single-instance
    hand-over to it, so that a second launch raises the wizard).
    """
    wizard = FirstRunWizard(directory, keyring_available=keyring_available,
                            registry=ModelRegistry(resolve_config_dir()))
    on_shown(wizard)
    result = wizard.exec()
    choices = wizard.choices()
    wizard.deleteLater()
    if result == DEMO_RESULT:
        log.info("first run: the user chose the sample life")
        return Start.DEMO
    if result != QWizard.DialogCode.Accepted.value:
        log.info("first run cancelled; nothing was created")
        return Start.CANCEL
    log.info("first run: key in the %s, %d sources to follow",
             "keyring" if choices.use_keyring else "passphrase", len(choices.folders))
    return choices


def follow_when_open(window: MainWindow, folders: tuple[Path, ...]) -> None:
    """Once `window` has opened its store, follow each folder, one job after another
    (the Sources screen's own add; a failure shows in the window's problem box)."""
    pending = list(folders)

    def next_one() -> None:
        if not pending or window.runner.facade is None:
            return
        job = window.sources.add(pending.pop(0))
        if job is not None:
            job.finished.connect(next_one)

    if pending:
        window.opened.connect(next_one)
