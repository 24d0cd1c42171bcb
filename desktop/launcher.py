"""The `reverie` command: the desktop app by default, the CLI for its subcommands.

Qt is imported only when the app is launched, so the CLI starts fast and works on
machines without a display.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from reverie.core import cli

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
    parsed = cli.build_parser().parse_args(args)
    from reverie.desktop.app import run_app

    return run_app(parsed.data_dir, verbose=parsed.verbose)


def _display_available() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


if __name__ == "__main__":
    sys.exit(main())
