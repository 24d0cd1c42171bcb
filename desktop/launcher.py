"""The `reverie` command: the desktop app by default, the CLI for its subcommands.

Qt is imported only when the app is launched, so the CLI starts fast and works on
machines without a display.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from reverie.core import cli
from reverie.core.logsetup import configure_logging

HEADLESS_HELP = """\
reverie: no display found (DISPLAY and WAYLAND_DISPLAY are not set).
Run the app without a screen:   QT_QPA_PLATFORM=offscreen reverie
or use the command line:        reverie --help   (import, search, export, doctor, ...)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `reverie` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    wants_cli = any(arg in cli.COMMANDS for arg in args) or any(
        arg in ("-h", "--help") for arg in args
    )
    if wants_cli:
        return cli.main(args)
    if not _display_available():
        sys.stderr.write(HEADLESS_HELP)
        return cli.EXIT_USAGE
    parser = cli.build_parser()
    parsed = parser.parse_args(args)
    if parsed.demo:
        if parsed.data_dir:
            parser.error("--demo opens a throwaway sample store; it takes no --data-dir")
        return run_demo(verbose=parsed.verbose)
    from reverie.desktop.app import run_app

    return run_app(parsed.data_dir, verbose=parsed.verbose)


def run_demo(*, verbose: bool) -> int:
    """`reverie --demo`: build a throwaway store from the bundled sample life in a
    temporary folder, open the app on it, and remove the folder when the app quits.

    The store is built on a worker thread under a progress window with Cancel (the
    first-run wizard's, `first_run_demo.build_sample_life`): built on the main thread,
    nothing showed for the seconds it takes. The user's data directory, keyring and
    model choices are never touched (see `reverie.core.demo.demo_environment`).
    """
    from reverie.core.demo import demo_environment
    from reverie.desktop.app import create_application, run_app
    from reverie.desktop.first_run_demo import build_sample_life

    configure_logging(verbose)
    with demo_environment() as place:
        sys.stderr.write("reverie: building the demo store from a sample life...\n")
        create_application()  # the progress window needs it; run_app reuses it
        report = build_sample_life(place.data_dir)
        if report is None:  # cancelled, or failed (the window showed why, the log too)
            sys.stderr.write("reverie: no demo store: cancelled or not built\n")
            return cli.EXIT_CANCELLED
        sys.stderr.write(
            f"reverie: demo ready in {report.seconds:.1f} s: {report.episodes} turns and "
            f"notes, {report.memories} memories, {report.people} people; it is deleted "
            "when you quit\n"
        )
        return run_app(str(place.data_dir), verbose=verbose)


def _display_available() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


if __name__ == "__main__":
    sys.exit(main())
