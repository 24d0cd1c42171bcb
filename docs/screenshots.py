"""Screenshots of Reverie's main screens, light and dark, on the demo store.

    PYTHONPATH=. xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots.py \\
        [--theme light|dark|both] [--only NAME ...] [--out docs/images]

It builds the demo store once (`core/demo.py`, the sample life `reverie --demo` opens,
inside `demo_environment`, so no keyring, data directory or model choice of yours is
touched), then, for each theme, opens the real `MainWindow` on a fresh copy of it and
saves one PNG per screen as `<screen>-<theme>.png` (SCREENS lists them). The chat's
answer comes from `QuotingLLM`, a scripted model that restates the memory nearest the
question (the bundled 135M model's answers vary run to run); retrieval, the prompt, the
support check and the citation chips are the app's own. Everything else is real: the
SQLCipher store, the Chroma index and the ONNX embedder.

Both themes take about a minute on 2 cores. It prints one line per file written; it
exits 1, naming the screen, if one cannot be taken.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from reverie.core.compose import open_reverie
from reverie.core.config import resolve_config_dir
from reverie.core.demo import NOTES_FOLDER, build_demo, demo_environment
from reverie.core.errors import Cancelled
from reverie.core.service import Reverie
from reverie.core.store.keys import PASSPHRASE_ENV, Unlocker, fixed_passphrase
from reverie.desktop.app import create_application
from reverie.desktop.first_run import FirstRunWizard
from reverie.desktop.jobs import Lane
from reverie.desktop.main_window import MainWindow
from reverie.desktop.settings_view import show_settings
from reverie.desktop.theme import THEME_ENV, apply_theme
from reverie.models import default_embedder
from reverie.models.base import ChatMessage, Embedder, TokenCallback
from reverie.models.registry import ModelRegistry

log = logging.getLogger("reverie.screenshots")

HERE = Path(__file__).resolve().parent
WINDOW_SIZE = (1280, 800)
SCREENS = ("timeline", "search", "chat", "care", "people", "models", "settings", "sources",
           "first-run")
"""In the order they are taken: sources adds a watched folder, so it comes late."""
THEMES = ("light", "dark")
DETAIL_MEMORY = "mem_demo_peanut1"  # opened in the timeline's detail pane
SEARCH_TEXT = "Lisbon"
QUESTION = "What is Jordan allergic to?"
PERSON = "Jordan"
SETTLE_TIMEOUT_S = 60.0


class QuotingLLM:
    """A scripted chat model: restates the memory line sharing most words with the
    message. Extraction is never asked for (the demo's turns are marked extracted)."""

    name = "scripted"
    context_size = 2048

    def count_tokens(self, text: str) -> int:
        """About four characters a token, as small models count English."""
        return max(1, len(text) // 4)

    def chat(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.0,
        json_schema: Mapping[str, Any] | None = None, on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None, stop: Sequence[str] = (),
    ) -> str:
        """The nearest memory, restated, streamed word by word."""
        if json_schema is not None:
            return '{"facts": []}'
        prompt = messages[-1]["content"]
        question = prompt.rsplit("Message:", 1)[-1]
        lines = [line[2:] for line in prompt.splitlines() if line.startswith("- On ")]
        best = max(lines, key=lambda line: len(_words(line) & _words(question)), default="")
        fact = re.sub(r"^On [^,]+, (\w+ said: )?", "", best).rstrip(".")
        text = f"From what you told me: {fact}." if fact else "I don't remember that."
        for number, word in enumerate(text.split(" ")):
            if cancel is not None and cancel.is_set():
                raise Cancelled("generation cancelled")
            if on_token is not None:
                on_token(word if number == 0 else " " + word)
        return text


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z]+", text.lower()) if len(word) > 3}


def wait(ms: int) -> None:
    """Run the event loop for `ms` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def settle(window: MainWindow, extra_ms: int = 400) -> None:
    """Wait until no job runs on any lane, then `extra_ms` more for the views to draw."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while any(window.runner.busy(lane) for lane in Lane):
        if time.monotonic() > deadline:
            raise TimeoutError("jobs still running after a minute")
        wait(50)
    wait(extra_ms)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Run the event loop until `condition()` holds."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        wait(50)


class Shooter:
    """Takes the screens of one theme on one window and saves them."""

    def __init__(self, window: MainWindow, out: Path, theme: str, data_dir: Path) -> None:
        self.window, self.out, self.theme, self.data_dir = window, out, theme, data_dir
        self.root = data_dir.parent  # the demo's temporary folder

    def save(self, screen: str, widget: QWidget) -> None:
        """Grab `widget` as it is drawn now into `<screen>-<theme>.png`."""
        path = self.out / f"{screen}-{self.theme}.png"
        if not widget.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")

    def timeline(self) -> None:
        """The timeline beside the chat, a memory open in the detail pane."""
        self.window.show_timeline()
        self.window.open_item(DETAIL_MEMORY)
        settle(self.window)
        self.save("timeline", self.window)

    def search(self) -> None:
        """The timeline searching: matches highlighted, the count above."""
        self.window.show_timeline()
        self.window.timeline.filters.search.setText(SEARCH_TEXT)
        wait(800)  # the search waits for typing to pause
        settle(self.window)
        self.save("search", self.window)
        self.window.timeline.filters.search.clear()
        settle(self.window)

    def chat(self) -> None:
        """A question answered with citation chips and the memories used."""
        self.window.show_timeline()
        self.window.open_item(DETAIL_MEMORY)
        chat = self.window.chat
        finished: list[object] = []
        chat.answer_finished.connect(finished.append)
        chat.input.setPlainText(QUESTION)
        chat.send()
        wait_for(lambda: bool(finished), "the chat's answer")
        settle(self.window)
        self.save("chat", self.window)

    def care(self) -> None:
        """Memory care: the queue, a consolidation run with its changes, the inbox."""
        self.window.show_care()
        settle(self.window)
        self.window.care.consolidate_now()
        settle(self.window, 800)
        self.save("care", self.window)

    def people(self) -> None:
        """The People tab with one person's page."""
        self.window.people_action.trigger()
        settle(self.window)
        self.window.people.show_person(PERSON)
        settle(self.window)
        self.save("people", self.window)

    def models(self) -> None:
        """The Models dialog: each model, its jobs and the memory it needs."""
        dialog = self.window.show_models()
        if dialog is None:
            raise RuntimeError("the Models dialog did not open")
        dialog.resize(1100, 560)  # the memory column's sentence fits
        settle(self.window)
        self.save("models", dialog)
        dialog.close()

    def settings(self) -> None:
        """The Settings dialog on its Privacy tab."""
        dialog = show_settings(self.window)
        if dialog is None:
            raise RuntimeError("the Settings dialog did not open")
        dialog.tabs.setCurrentWidget(dialog.privacy)
        settle(self.window)
        self.save("settings", dialog)
        dialog.close()

    def sources(self) -> None:
        """The Sources tab following a folder of notes (a copy of the demo's) in a home
        folder of its own (shown as ~/Notes)."""
        home = self.root / f"home-{self.theme}"
        folder = home / "Notes"
        shutil.copytree(self.data_dir / NOTES_FOLDER, folder)
        os.environ["HOME"] = str(home)  # read by display_path when a row is drawn
        self.window.show_sources()
        self.window.sources.add(folder)
        settle(self.window, 1500)
        self.save("sources", self.window)

    def first_run(self) -> None:
        """The first-run wizard's key page, a passphrase typed and rated."""
        wizard = FirstRunWizard(self.root / "new-data", keyring_available=True,
                                registry=ModelRegistry(resolve_config_dir()))
        wizard.show()
        wizard.next()
        wizard.key.passphrase_button.setChecked(True)
        wizard.key.entry.setText("correct horse battery")
        wizard.key.again.setText("correct horse battery")
        wait(300)
        self.save("first-run", wizard)
        wizard.reject()


def open_window(data_dir: Path, embedder: Embedder) -> MainWindow:
    """The app's window on `data_dir`, open, its first reads done."""
    unlocker = Unlocker(None, fixed_passphrase(os.environ[PASSPHRASE_ENV]))

    def opener(_passphrase: str | None) -> Reverie:
        return open_reverie(data_dir, llm=QuotingLLM(), embedder=embedder, unlocker=unlocker)

    window = MainWindow(opener, schedule_sleep=False, extract_captured=False)
    window.resize(*WINDOW_SIZE)
    opened: list[bool] = []
    window.opened.connect(lambda: opened.append(True))
    window.open_failed.connect(lambda message: sys.exit(f"screenshots: {message}"))
    window.show()
    window.start()
    wait_for(lambda: bool(opened), "the store to open")
    settle(window)
    return window


@dataclass(frozen=True)
class Plan:
    """What to take and where: screens, the folder for PNGs, the built demo store."""

    screens: Sequence[str]
    out: Path
    demo: Path
    embedder: Embedder


def shoot_theme(app: QApplication, theme: str, plan: Plan) -> list[str]:
    """Every screen of one theme on a fresh copy of the demo store; the screens that
    failed."""
    screens, out, demo, embedder = plan.screens, plan.out, plan.demo, plan.embedder
    os.environ[THEME_ENV] = theme
    apply_theme(app)
    data_dir = demo.parent / f"data-{theme}"
    shutil.copytree(demo, data_dir)
    home = os.environ.get("HOME", str(Path.home()))
    window = open_window(data_dir, embedder)
    shooter = Shooter(window, out, theme, data_dir)
    failed = []
    try:
        for screen in screens:
            try:
                getattr(shooter, screen.replace("-", "_"))()
            except Exception:  # one broken screen must not cost the others
                log.exception("could not take %s (%s)", screen, theme)
                failed.append(f"{screen}-{theme}")
    finally:
        window.close()
        window.shutdown()
        os.environ["HOME"] = home
    return failed


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--theme", choices=(*THEMES, "both"), default="both")
    parser.add_argument("--only", nargs="+", choices=SCREENS, metavar="NAME",
                        help=f"only these screens: {', '.join(SCREENS)}")
    parser.add_argument("--out", type=Path, default=HERE / "images",
                        help="where the PNGs go (default: docs/images)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the demo, take the screens, say what was written; 1 if any failed."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    args = parse(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        print("screenshots: no display; drawing offscreen (xvfb-run gives the fonts and "
              "sizes the docs were taken with)", file=sys.stderr)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    screens = [name for name in SCREENS if not args.only or name in args.only]
    themes = THEMES if args.theme == "both" else (args.theme,)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    failed: list[str] = []
    with demo_environment() as place:
        embedder = default_embedder()
        build_demo(place.data_dir, embedder=embedder)
        app = create_application()
        for theme in themes:
            failed += shoot_theme(app, theme, Plan(screens, out, place.data_dir, embedder))
    print(f"{len(screens) * len(themes) - len(failed)} screenshots in "
          f"{time.perf_counter() - started:.0f} s")
    if failed:
        print(f"screenshots: could not take {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
