"""The main window: the timeline on the left, the chat on the right, jobs in the status bar.

The window opens the facade through the job runner (loading the index and checking the
models takes a second), showing "Opening your memories…" meanwhile. Import runs as a
`Lane.WORK` job with a progress bar and a Cancel button in the status bar. Every job
that changes the store ends in `JobRunner.changed`, from which the timeline and the
counts refresh.

Once open, the window starts live capture of the watched sources (a second tab,
View → Sources…); what capture reports arrives through `CaptureBridge`, and its
changes refresh the timeline and counts exactly as a job's do. Then it starts the
consolidation schedule (`SleepBridge`: nightly, when idle, never while the chat answers),
whose runs show on the third tab, View → Memory care, with the extraction queue and the
review inbox. The schedule and capture are stopped before the store closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reverie.core import autostart
from reverie.core.config import resolve_config_dir
from reverie.core.service import Reverie
from reverie.core.store.keys import PassphraseRequest
from reverie.core.types import Changes
from reverie.desktop.capture_bridge import CaptureBridge, start_capture
from reverie.desktop.care_view import CarePane
from reverie.desktop.chat_view import ChatPanel
from reverie.desktop.closing import stop_while_drawing
from reverie.desktop.import_flow import ImportFlow
from reverie.desktop.jobs import Job, JobBusy, JobRunner, Lane
from reverie.desktop.labels import plural
from reverie.desktop.models_view import ModelsDialog, Reembedding
from reverie.desktop.people_view import PeoplePane, people_action
from reverie.desktop.settings_view import install_settings, show_settings
from reverie.desktop.sleep_bridge import SleepBridge, start_sleep
from reverie.desktop.sources_view import SourcesPane
from reverie.desktop.timeline_model import TimelineModel
from reverie.desktop.timeline_view import TimelinePane
from reverie.desktop.unlock import PassphraseDialog
from reverie.models.registry import ModelRegistry

log = logging.getLogger("reverie.desktop.window")

Opener = Callable[[str | None], Reverie]  # opens the store, given a passphrase or None
NeedsPassphrase = Callable[[], PassphraseRequest | None]
WRONG_PASSPHRASE = "wrong passphrase"  # how the core's WrongKey messages begin

_OPENING_PAGE, _MAIN_PAGE = 0, 1
CARE_TAB = "&Memory care"
class MainWindow(QMainWindow):
    """Reverie's window. Call `start()` after `show()` to open the facade.

    `extract_captured=False` leaves what live capture reads unextracted (tests: the
    bundled model is slow); it is extracted by the next import or run that extracts.
    `schedule_sleep=False` starts no consolidation schedule (tests: no run starts by
    itself); Memory care's Consolidate now still works.
    """

    ready = Signal()  # the main page is up: the timeline reads, the chat takes questions
    opened = Signal()  # the store is open, capture and the schedule started (or failed to)
    open_failed = Signal(str)

    def __init__(
        self, opener: Opener, parent: QWidget | None = None, *,
        needs_passphrase: NeedsPassphrase = lambda: None, extract_captured: bool = True,
        schedule_sleep: bool = True,
    ) -> None:
        super().__init__(parent)
        self._extract_captured = extract_captured
        self._schedule_sleep = schedule_sleep
        self._shutting_down = False
        self._needs_passphrase = needs_passphrase
        self._passphrase_given = False
        self.passphrase_dialog: PassphraseDialog | None = None
        self.setWindowTitle("Reverie")
        self.setAccessibleName("Reverie")
        self.resize(1180, 740)
        self.exit_code = 0
        self._opener = opener
        self._box: QMessageBox | None = None

        self.runner = JobRunner(self)
        self.timeline_model = TimelineModel()
        self.timeline_model.read_failed.connect(
            lambda message, is_bug: self.show_problem("Could not read the timeline", message,
                                                      is_bug=is_bug))
        self.timeline = TimelinePane(self.timeline_model, self.runner)
        self.chat = ChatPanel(self.runner)
        self.capture_bridge = CaptureBridge(self)
        self.sources = SourcesPane(self.runner)
        self.sleep_bridge = SleepBridge(self.runner, self)
        self.care = CarePane(self.runner, self.sleep_bridge)
        self.registry = ModelRegistry(resolve_config_dir())
        self.reembedding = Reembedding(self.runner, self.registry, self)
        self.models_dialog: ModelsDialog | None = None

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setAccessibleName("Timeline and chat")
        self.splitter.addWidget(self.timeline)
        self.splitter.addWidget(self.chat)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setSizes([520, 640])

        self.opening_label = QLabel("Opening your memories…")
        self.opening_label.setAccessibleName("Opening")
        self.opening_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.opening_label.setStyleSheet("color: palette(placeholder-text); font-size: 15pt")

        self._build_pages()
        self.setStyleSheet("QLabel#paneTitle { font-weight: 600; padding: 2px 0; }")

        self._build_actions()
        self._build_status_bar()

        self._connect_views()
        self._update_actions()

    # --- construction ---------------------------------------------------------------

    def _connect_views(self) -> None:
        """Jobs, capture and the schedule report here; the views refresh from them."""
        self.runner.changed.connect(self._on_changed)
        self.runner.busy_changed.connect(lambda _lane, _busy: self._update_actions())
        # Live capture's changes refresh the views exactly as a job's changes do.
        self.capture_bridge.changed.connect(self._on_changed)
        self.capture_bridge.statuses_changed.connect(self.sources.model.set_statuses)
        # A scan announces its changes only when it ends; its progress reports keep the
        # counts moving meanwhile (four COUNT(*) reads per coalesced report).
        self.capture_bridge.statuses_changed.connect(lambda _statuses: self._update_counts())
        self.sources.problem.connect(
            lambda title, message, is_bug: self.show_problem(title, message, is_bug=is_bug))
        self.sources.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        # What capture stores waits in the extraction queue; a scheduled run's changes
        # refresh the views as a job's do (Memory care hears its runs itself).
        self.capture_bridge.changed.connect(lambda _changes: self.care.refresh())
        self.sleep_bridge.changed.connect(self._on_changed)
        self.care.problem.connect(
            lambda title, message, is_bug: self.show_problem(title, message, is_bug=is_bug))
        self.care.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.care.inbox_count_changed.connect(self._show_inbox_count)
        self.chat.citation_opened.connect(self.open_item)
        self.timeline.browser.problem.connect(
            lambda title, message, is_bug: self.show_problem(title, message, is_bug=is_bug))
        self.timeline.detail.problem.connect(
            lambda title, message, is_bug: self.show_problem(title, message, is_bug=is_bug))
        self.timeline.detail.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.reembedding.progressed.connect(
            lambda done, total, what: self.statusBar().showMessage(f"{what}: {done}/{total}"))
        self.reembedding.ended.connect(lambda text: self.statusBar().showMessage(text, 8000))

    def _build_pages(self) -> None:
        """"Opening…", then tabs: the timeline beside the chat, the sources, memory care."""
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Views")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(_padded(self.splitter), "&Timeline and chat")
        self.tabs.addTab(_padded(self.sources), "&Sources")
        self.tabs.addTab(_padded(self.care), CARE_TAB)
        self.people = PeoplePane(self.runner)
        self.people.item_opened.connect(self.open_item)
        self.people.problem.connect(
            lambda title, message, is_bug: self.show_problem(title, message, is_bug=is_bug))
        self.people_page = _padded(self.people)
        self.tabs.addTab(self.people_page, "&People")
        self.people_action = people_action(self, self.tabs, self.people_page, self.people)
        main = QWidget()
        layout = QVBoxLayout(main)
        layout.setContentsMargins(10, 8, 10, 4)
        layout.addWidget(self.tabs)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.opening_label)
        self.pages.addWidget(main)
        self.setCentralWidget(self.pages)

    def _build_actions(self) -> None:
        self.import_action = QAction("&Import chat file…", self)
        self.import_action.setShortcut(QKeySequence.StandardKey.Open)
        self.import_action.setStatusTip("Import a chat exported as JSON lines (.jsonl)")
        self.import_action.triggered.connect(self.choose_import_file)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        self.new_chat_action = QAction("&New conversation", self)
        self.new_chat_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_chat_action.triggered.connect(self.chat.new_conversation)
        self.timeline_view_action = QAction("&Timeline and chat", self)
        self.timeline_view_action.setShortcut(QKeySequence("Ctrl+1"))
        self.timeline_view_action.triggered.connect(self.show_timeline)
        self.sources_action = QAction("&Sources…", self)
        self.sources_action.setShortcut(QKeySequence("Ctrl+2"))
        self.sources_action.setStatusTip("The folders and export files Reverie follows")
        self.sources_action.triggered.connect(self.show_sources)
        self.care_action = QAction("&Memory care", self)
        self.care_action.setShortcut(QKeySequence("Ctrl+3"))
        self.care_action.setStatusTip(
            "The extraction queue, the last consolidation with undo, and the review inbox")
        self.care_action.triggered.connect(self.show_care)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.timeline_view_action)
        view_menu.addAction(self.sources_action)
        view_menu.addActions([self.care_action, self.people_action])
        self.models_action = QAction("&Models…", self)
        self.models_action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.models_action.setStatusTip("The models Reverie runs, and which one does each job")
        self.models_action.triggered.connect(self.show_models)
        self.autostart_action = QAction("Start Reverie at &login", self)
        self.autostart_action.setCheckable(True)
        self.autostart_action.setChecked(autostart.is_enabled())
        self.autostart_action.setStatusTip("Open Reverie when you log in to this computer")
        self.autostart_action.toggled.connect(self.set_autostart)
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.setStatusTip("Consolidation, privacy, never-remember rules")
        self.settings_action.triggered.connect(lambda: show_settings(self))
        settings_menu = self.menuBar().addMenu("&Settings")
        settings_menu.addAction(self.settings_action)
        settings_menu.addAction(self.models_action)
        settings_menu.addAction(self.autostart_action)
        chat_menu = self.menuBar().addMenu("&Chat")
        chat_menu.addAction(self.new_chat_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setAccessibleName("Status")
        self.import_flow = ImportFlow(self.runner, bar)
        self.import_flow.turns_stored.connect(self.timeline.expand_newest)
        self.import_flow.problem.connect(
            lambda title, message, is_bug: self.show_problem(title, message, is_bug=is_bug))
        self.progress = self.import_flow.progress
        self.cancel_button = self.import_flow.cancel_button
        self.counts_label = QLabel()
        self.counts_label.setAccessibleName("Counts")
        self.counts_label.setContentsMargins(8, 0, 8, 0)
        bar.addPermanentWidget(self.counts_label)

    # --- opening --------------------------------------------------------------------

    def start(self) -> None:
        """Open the facade in the background (after asking for a passphrase if needed)."""
        self.pages.setCurrentIndex(_OPENING_PAGE)
        request = self._needs_passphrase()
        if request is None:
            self._open(None)
        else:
            self._ask_passphrase(request)

    def _ask_passphrase(self, request: PassphraseRequest) -> None:
        dialog = PassphraseDialog(request, self)
        dialog.accepted.connect(lambda: self._open(dialog.passphrase()))
        dialog.rejected.connect(self.close)
        self.passphrase_dialog = dialog
        dialog.open()

    def _open(self, passphrase: str | None) -> None:
        self.passphrase_dialog = None
        self._passphrase_given = passphrase is not None
        self.statusBar().showMessage("Opening your memories…")
        job = self.runner.open(lambda: self._opener(passphrase))
        job.succeeded.connect(self._on_opened)
        job.failed.connect(self._on_open_failed)

    def _on_opened(self, facade: object) -> None:
        assert isinstance(facade, Reverie)
        if self._shutting_down:
            # The runner took the facade on its worker and the window was closed before
            # this signal arrived: the runner's shutdown has closed it already.
            return
        self.timeline_model.set_facade(facade)
        self.timeline.browser.read_choices()
        self.pages.setCurrentIndex(_MAIN_PAGE)
        self.timeline.expand_newest()
        self._update_counts()
        self._update_actions()
        self.statusBar().showMessage("Ready", 5000)
        self.chat.input.setFocus()
        # The app's settings (schedule, lock after idle) apply before the schedule starts.
        self.idle_lock = install_settings(self)
        self._import_runtimes()
        # Carries on an interrupted re-embedding, or starts one when the embedder was
        # changed while the app was closed (`reverie models use embedder`).
        self.reembedding.start()
        self.ready.emit()

    def set_autostart(self, enabled: bool) -> None:
        """Start (or stop starting) Reverie at login; the file is written in a job."""
        if self.runner.facade is None:
            self.autostart_action.setChecked(autostart.is_enabled())
            return
        change = autostart.enable if enabled else autostart.disable
        try:
            job = self.runner.run(Lane.CARE, "autostart", lambda _facade, _ctx: change(),
                                  writes=False)
        except JobBusy:
            self._on_autostart_failed("Another change is being made; try again in a moment.",
                                      False)
            return
        # One change at a time: a second click would find the lane busy.
        self.autostart_action.setEnabled(False)
        job.finished.connect(lambda: self.autostart_action.setEnabled(True))
        job.succeeded.connect(lambda _result: self.statusBar().showMessage(
            "Reverie will start when you log in" if enabled
            else "Reverie will not start when you log in", 8000))
        job.failed.connect(self._on_autostart_failed)

    def _on_autostart_failed(self, message: str, is_bug: bool) -> None:
        self.autostart_action.blockSignals(True)
        self.autostart_action.setChecked(autostart.is_enabled())
        self.autostart_action.blockSignals(False)
        self.show_problem("Could not change starting at login", message, is_bug=is_bug)

    def show_models(self) -> ModelsDialog | None:
        """Open the Models screen (once the store is open)."""
        if self.runner.facade is None:
            return None
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(self.runner, self.registry, self.reembedding,
                                              self)
        else:
            self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.activateWindow()
        return self.models_dialog

    def _import_runtimes(self) -> None:
        """Import llama.cpp and ONNX Runtime while the app is still starting (each holds
        the GIL for 100 ms or more: in the middle of the user's first import the window
        would stall), then start capture. A library that cannot load is told by the
        model's first use, as before."""
        job = self.runner.run(Lane.WORK, "import model runtimes",
                              lambda facade, _ctx: facade.import_runtimes(), writes=False)
        job.finished.connect(self._start_capture)

    def _start_capture(self) -> None:
        if self._shutting_down or self.runner.facade is None:
            return  # closed while the runtimes were imported
        job = self.runner.run(
            Lane.WORK, "start capture",
            start_capture(self.capture_bridge, extract=self._extract_captured), writes=False,
        )
        job.succeeded.connect(self._on_capture_started)
        job.failed.connect(self._on_capture_failed)
        job.finished.connect(self._start_sleep)

    def _start_sleep(self) -> None:
        """Start the consolidation schedule (it reads the journal: a job), then `opened`."""
        if not self._schedule_sleep or self._shutting_down:
            self.opened.emit()
            return
        job = self.runner.run(
            Lane.WORK, "start schedule", start_sleep(self.sleep_bridge), writes=False)
        job.failed.connect(
            lambda message, is_bug: self.show_problem(
                "Consolidation will not run by itself", message, is_bug=is_bug))
        job.finished.connect(self.opened.emit)

    def _on_capture_started(self, statuses: object) -> None:
        # Capture's own reports are newer than this list whenever there are any.
        bridge = self.capture_bridge
        if not (bridge.has_reported or bridge.detached) and isinstance(statuses, list):
            self.sources.model.set_statuses(statuses)

    def _on_capture_failed(self, message: str, is_bug: bool) -> None:
        self.sources.set_capture_problem(message)
        self.show_problem("Reverie cannot watch your sources", message, is_bug=is_bug)

    def _on_open_failed(self, message: str, is_bug: bool) -> None:
        if self._passphrase_given and message.startswith(WRONG_PASSPHRASE):
            self._ask_passphrase(PassphraseRequest.RETRY)
            return
        self.exit_code = 1
        self.statusBar().clearMessage()
        self.opening_label.setText("Reverie could not open your memories.")
        box = self.show_problem("Reverie cannot start", message, is_bug=is_bug)
        box.finished.connect(self.close)
        self.open_failed.emit(message)

    # --- import ---------------------------------------------------------------------

    def choose_import_file(self) -> None:
        """Ask for a .jsonl chat file and import it."""
        if not self.import_action.isEnabled():
            return
        path, _filter = QFileDialog.getOpenFileName(
            self,
            "Import chat file",
            str(Path.home()),
            "Chat files (*.jsonl);;All files (*)",
        )
        if path:
            self.start_import(path)

    def start_import(self, path: str) -> Job:
        """Import `path` and extract memories from it, as a job with progress."""
        return self.import_flow.start(path)

    def cancel_import(self) -> None:
        """Ask the running import to stop."""
        self.import_flow.cancel()

    def show_timeline(self) -> None:
        """Show the timeline and chat tab."""
        self.tabs.setCurrentIndex(0)
        self.chat.input.setFocus()

    def open_item(self, item_id: str) -> None:
        """Show a memory or turn (a chat citation) in the timeline with its source."""
        facade = self.runner.facade
        day = facade.item_day(item_id) if facade is not None else None
        self.tabs.setCurrentIndex(0)
        if day is not None and not self.timeline.model.filter.is_default:
            self.timeline.filters.reset()  # the filter may hide it: show everything
        if day is None or not self.timeline.reveal(item_id, day):
            self.statusBar().showMessage(
                "That memory is no longer in the timeline: it was forgotten or archived.",
                8000)

    def show_sources(self) -> None:
        """Show the Sources tab, with the focus in the list (its shortcuts work there)."""
        self.tabs.setCurrentIndex(1)
        self.sources.take_focus()

    def show_care(self) -> None:
        """Show the Memory care tab, with the focus in its inbox (or its changes)."""
        self.tabs.setCurrentIndex(2)
        self.care.take_focus()

    def _show_inbox_count(self, count: int) -> None:
        self.tabs.setTabText(2, f"{CARE_TAB} ({count})" if count else CARE_TAB)

    # --- refreshing -----------------------------------------------------------------

    def _on_changed(self, changes: Changes | None) -> None:
        self.timeline_model.refresh(changes)
        self.timeline.refresh_density()
        self.timeline.detail.reload()
        if changes is None or changes.memories_added or changes.memories_removed or (
                changes.episodes_added or changes.episodes_removed):
            self.timeline.browser.read_choices()
        self.people.refresh(changes)
        self._update_counts()

    def _update_counts(self) -> None:
        """Read the status bar's counts in a Lane.STATUS job: four COUNT(*) scans, which
        at a million memories take seconds (asks while one waits share it)."""
        if self.runner.facade is None:
            self.counts_label.clear()
            return
        self.runner.run_when_free(
            Lane.STATUS, "counts", lambda facade, _ctx: facade.counts(), writes=False,
            then=self._on_counts_job, once=True)

    def _on_counts_job(self, job: Job) -> None:
        job.succeeded.connect(self._show_counts)

    def _show_counts(self, counts: object) -> None:
        if not isinstance(counts, dict) or self.runner.facade is None:
            return
        self.counts_label.setText(
            f"{plural(counts['sources'], 'conversation or file', 'conversations and files')}"
            f" · {plural(counts['episodes'], 'piece')}"
            f" · {plural(counts['memories'], 'memory', 'memories')}"
        )

    def _update_actions(self) -> None:
        ready = self.runner.facade is not None
        self.import_action.setEnabled(ready and not self.runner.busy(Lane.WORK))
        self.new_chat_action.setEnabled(ready and not self.chat.answering)

    # --- problems and closing -------------------------------------------------------

    def show_problem(self, title: str, message: str, *, is_bug: bool = False) -> QMessageBox:
        """Show a problem in a window-modal box without blocking the event loop."""
        icon = QMessageBox.Icon.Critical if is_bug else QMessageBox.Icon.Warning
        box = QMessageBox(icon, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAccessibleName("Problem")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: self._forget_box(box))
        self._box = box
        box.open()
        return box

    @property
    def problem_box(self) -> QMessageBox | None:
        """The problem box currently shown, if any (tests read its text)."""
        return self._box

    def _forget_box(self, box: QMessageBox) -> None:
        if self._box is box:
            self._box = None

    def shutdown(self) -> None:
        """Stop capture, cancel jobs, wait for them, close the facade. Safe to call twice."""
        if self._shutting_down:  # again, or from a close event while capture stops
            return
        self._shutting_down = True
        self.capture_bridge.detach()  # nothing more reaches views that are going away
        self.sleep_bridge.detach()
        self._stop_sleep()
        self._stop_capture()
        self.timeline_model.set_facade(None)
        self.sources.model.clear()
        self.care.clear()
        self.people.clear()
        self.runner.shutdown()

    def _stop_sleep(self) -> None:
        """Stop the consolidation schedule before the store closes (a run under way
        stops between two changes or model tokens)."""
        if not self.sleep_bridge.scheduling:
            return
        self.statusBar().showMessage("Stopping consolidation…")
        stop_while_drawing(self.sleep_bridge.stopped, self.sleep_bridge.stop_in_background)
        log.info("consolidation schedule stopped")

    def _stop_capture(self) -> None:
        """Stop live capture before the store closes.

        `Capture.stop` waits for the file being read and the extraction step under way
        (up to 30 s each); running jobs are cancelled first so that they wind down in
        the same time.
        """
        facade = self.runner.facade
        if facade is None or not facade.capture.running:
            return  # not open, or capture not started yet: closing the facade stops it
        for lane in Lane:
            job = self.runner.job(lane)
            if job is not None:
                job.cancel()
        self.statusBar().showMessage("Stopping watched sources…")
        stop_capture = facade.capture.stop
        stop_while_drawing(self.capture_bridge.stopped,
                           lambda: self.capture_bridge.stop_in_background(stop_capture))
        log.info("capture stopped")

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window stops jobs and closes the store before the app quits."""
        if any(self.runner.busy(lane) for lane in Lane):
            self.statusBar().showMessage("Stopping running jobs…")
        self.shutdown()
        event.accept()


def _padded(widget: QWidget) -> QWidget:
    """`widget` in a page with a little room below the tab bar."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 8, 0, 0)
    layout.addWidget(widget)
    return page

