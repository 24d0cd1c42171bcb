"""The `reverie` command line: import, extract, search, export, stats and doctor.

The shapes printed by `search --json` and written by `export --json` are a contract
(docs/cli.md): extend them, never break them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reverie.core import cli_consolidate, cli_memory, cli_models, cli_sources
from reverie.core.compose import open_reverie
from reverie.core.config import resolve_data_dir
from reverie.core.errors import BadInput, Cancelled, EnvironmentProblem, PassphraseRequired
from reverie.core.logsetup import configure_logging
from reverie.core.retrieve.options import SearchFilters
from reverie.core.service import Reverie, restore_backup
from reverie.core.store.exchange_format import is_exchange_file
from reverie.core.store.keys import PassphraseRequest, default_unlocker
from reverie.core.timeutil import parse_time

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
COMMANDS = (
    "import", "extract", "search", "export", "stats", "doctor", "backup", "restore",
    "autostart",
    *cli_memory.COMMANDS, *cli_sources.COMMANDS, *cli_consolidate.COMMANDS,
    *cli_models.COMMANDS, *cli_models.STORE_COMMANDS,
)


def _common_options(default: object) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", default=default,
        help="data directory (default: $REVERIE_DATA_DIR or the platform's user data folder)",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log progress to stderr"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every CLI subcommand."""
    parser = argparse.ArgumentParser(
        prog="reverie", description="Reverie: offline memory.", parents=[_common_options(None)]
    )
    parser.set_defaults(verbose=False)
    # Only before a command, and only for the app: `reverie --demo <command>` is refused.
    parser.add_argument(
        "--demo", action="store_true",
        help="open the app on a throwaway store filled from a sample life (deleted on quit)",
    )
    # The options may also follow the subcommand (`reverie search --data-dir D ...`);
    # SUPPRESS keeps a subcommand from resetting what was given before it.
    common = [_common_options(argparse.SUPPRESS)]
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("app", parents=common, help="open the desktop app (the default)")
    imp = sub.add_parser("import", parents=common,
                         help="import a file: chat export, document, e-mail, calendar")
    imp.add_argument("file", type=Path)
    imp.add_argument("--no-extract", action="store_true", help="store the turns only")
    sub.add_parser("extract", parents=common, help="extract memories from turns not extracted")
    search = sub.add_parser("search", parents=common, help="search memories and turns")
    search.add_argument("query", nargs="?")
    search.add_argument("--queries", type=Path, help="a file with one query per line")
    search.add_argument("--k", type=int, default=10, help="how many hits (default 10)")
    search.add_argument("--json", action="store_true", help="JSON output")
    search.add_argument("--as-of", help="only what had happened by this ISO-8601 time")
    search.add_argument("--after", help="only what happened at or after this ISO-8601 time")
    search.add_argument("--before", help="only what happened before this ISO-8601 time")
    search.add_argument("--person", action="append", default=[],
                        help="only turns by, or memories about, this person (repeatable)")
    search.add_argument("--source", action="append", default=[],
                        help="only hits citing this source (repeatable)")
    search.add_argument("--archived", action="store_true",
                        help="also find archived memories (ranked lower)")
    export = sub.add_parser("export", parents=common, help="write every memory and turn out")
    export_to = export.add_mutually_exclusive_group(required=True)
    export_to.add_argument("--json", type=Path, metavar="PATH", help="items as one JSON file")
    export_to.add_argument(
        "--jsonl", type=Path, metavar="PATH", help="everything, losslessly (reverie-jsonl)"
    )
    export_to.add_argument("--markdown", type=Path, metavar="PATH", help="a document to read")
    stats = sub.add_parser("stats", parents=common, help="count what is stored")
    stats.add_argument("--json", action="store_true")
    doctor = sub.add_parser("doctor", parents=common, help="check models, data dir, keyring")
    doctor.add_argument("--json", action="store_true")
    autostart = sub.add_parser("autostart", parents=common,
                               help="start the app at login: on, off, or show (default)")
    autostart.add_argument("state", nargs="?", choices=["on", "off", "show"], default="show")
    _add_backup_commands(sub, common)
    cli_memory.add_commands(sub, common)
    cli_sources.add_commands(sub, common)
    cli_consolidate.add_commands(sub, common)
    cli_models.add_commands(sub, common)
    return parser


def _add_backup_commands(sub: Any, common: list[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser("backup", parents=common, help="copy the store into a new folder")
    backup.add_argument("path", type=Path, metavar="PATH")
    backup.add_argument(
        "--passphrase", action="store_true",
        help="encrypt the backup with a passphrase of its own ($REVERIE_PASSPHRASE, or asked)",
    )
    restore = sub.add_parser("restore", parents=common, help="bring a backup back")
    restore.add_argument("path", type=Path, metavar="PATH")
    restore.add_argument(
        "--replace", action="store_true",
        help="replace a data directory that holds data (its ledger is kept aside first)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one CLI command; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo:
        parser.error("--demo opens the desktop app on a sample store; it takes no command")
    configure_logging(args.verbose)
    try:
        return _dispatch(args)
    except Cancelled:
        print("reverie: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except EnvironmentProblem as problem:
        print(f"reverie: {problem}", file=sys.stderr)
        return EXIT_PROBLEM
    except BrokenPipeError:
        # The reader (`head`, a closed pager) left; that is not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "doctor":
        from reverie.core.doctor import run_doctor

        return run_doctor(args.data_dir, as_json=args.json)
    if args.command == "restore":
        return _restore(args)
    if args.command == "autostart":
        return _autostart(args.state)
    if args.command in cli_models.COMMANDS:
        return cli_models.run_command(args)
    if args.command == "search":
        _check_search_args(args)
    cancel = threading.Event()
    reverie = open_reverie(
        args.data_dir, unlocker=default_unlocker(ask=cli_memory.ask_passphrase)
    )
    try:
        return _run(reverie, args, cancel)
    except KeyboardInterrupt:
        cancel.set()
        raise Cancelled("interrupted") from None
    finally:
        reverie.close()
        # Free the models now: left to interpreter shutdown, llama-cpp's finaliser runs
        # after its own module is torn down and prints a traceback.
        for model in reverie.models.distinct():
            close_model = getattr(model, "close", None)
            if callable(close_model):
                close_model()


def _run(reverie: Reverie, args: argparse.Namespace, cancel: threading.Event) -> int:
    if args.command == "import" and is_exchange_file(args.file):
        _import_exchange(reverie, args, cancel)
    elif args.command == "import":
        report = reverie.import_file(
            args.file, extract=not args.no_extract, progress=ProgressPrinter(), cancel=cancel
        )
        withheld = (f", {report.episodes_withheld} kept out by never-remember rules"
                    if report.episodes_withheld else "")  # the output stays as it was without
        print(
            f"imported {report.episodes_added} turns ({report.episodes_skipped} already stored"
            f"{withheld}), {report.memories_added} memories"
            f" ({report.memories_dropped} ungrounded dropped)"
        )
    elif args.command == "extract":
        result = reverie.extract_pending(progress=ProgressPrinter(), cancel=cancel)
        print(
            f"extracted {result.changes.memories_added} memories from {result.episodes_seen}"
            f" turns ({result.dropped_ungrounded} ungrounded dropped)"
        )
    elif args.command == "search":
        _search(reverie, args)
    elif args.command == "export" and args.json is None:
        _export_open_format(reverie, args)
    elif args.command == "backup":
        _backup(reverie, args)
    elif args.command == "export":
        count = reverie.export_json(args.json)
        print(f"exported {count} items to {args.json}")
    elif args.command in cli_sources.COMMANDS:
        cli_sources.run_command(reverie, args, ProgressPrinter(), cancel)
    elif args.command in cli_consolidate.COMMANDS:
        cli_consolidate.run_command(reverie, args, ProgressPrinter(), cancel)
    elif args.command in cli_memory.COMMANDS:
        cli_memory.run_command(reverie, args, ProgressPrinter())
    elif args.command in cli_models.STORE_COMMANDS:
        cli_models.reembed(reverie, ProgressPrinter(), cancel)
    elif args.command == "stats":
        counts = reverie.counts()
        print(json.dumps(counts) if args.json else
              "\n".join(f"{name}: {value}" for name, value in counts.items()))
    return EXIT_OK


def _check_search_args(args: argparse.Namespace) -> None:
    if (args.query is None) == (args.queries is None):
        raise BadInput("give either a QUERY or --queries FILE")
    args.as_of = parse_time(args.as_of) if args.as_of else None
    args.filters = SearchFilters(
        # A time without a zone means the user's local time.
        start=parse_time(args.after).astimezone() if args.after else None,
        end=parse_time(args.before).astimezone() if args.before else None,
        people=tuple(args.person), sources=tuple(args.source),
        include_archived=args.archived,
    )


def _search(reverie: Reverie, args: argparse.Namespace) -> None:
    if args.queries is not None:
        try:
            lines = args.queries.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read {args.queries}: {exc}") from None
        for line in lines:
            hits = reverie.search(line, k=args.k, as_of=args.as_of,
                                  filters=args.filters) if line.strip() else []
            print(json.dumps({"query": line, "hits": [h.to_json() for h in hits]}))
        return
    hits = reverie.search(args.query, k=args.k, as_of=args.as_of, filters=args.filters)
    if args.json:
        print(json.dumps({"query": args.query, "hits": [h.to_json() for h in hits]}, indent=1))
        return
    for rank, hit in enumerate(hits, start=1):
        cited = ", ".join(f"{s.source}#{s.ref}" for s in hit.sources)
        print(f"{rank:2}. [{hit.kind.value}] {hit.time.date()} {hit.text}\n    from {cited}")


def _import_exchange(reverie: Reverie, args: argparse.Namespace, cancel: threading.Event) -> None:
    report = reverie.import_reverie_jsonl(args.file, progress=ProgressPrinter(), cancel=cancel)
    added = report.added
    print(
        f"imported {added['episode']} turns, {added['memory']} memories and"
        f" {added['history']} history entries ({report.skipped} records already stored)"
    )


def _export_open_format(reverie: Reverie, args: argparse.Namespace) -> None:
    if args.jsonl is not None:
        count = reverie.export_jsonl(args.jsonl)
        print(f"exported {count} records to {args.jsonl}")
    else:
        days = reverie.export_markdown(args.markdown)
        print(f"exported {days} days to {args.markdown}")


def _backup(reverie: Reverie, args: argparse.Namespace) -> None:
    passphrase = None
    if args.passphrase:
        passphrase = cli_memory.ask_passphrase(PassphraseRequest.CREATE)
        if passphrase is None:
            raise PassphraseRequired(
                "--passphrase needs $REVERIE_PASSPHRASE, or a terminal to ask on; nothing written"
            )
    report = reverie.backup(args.path, passphrase=passphrase)
    key = "a passphrase of its own" if passphrase else "the store's own key"
    print(f"backed up to {report.path} (encrypted with {key})")


def _autostart(state: str) -> int:
    from reverie.core import autostart

    if state == "on":
        autostart.enable()
    elif state == "off":
        autostart.disable()
    enabled = autostart.is_enabled()
    print(f"Reverie {'starts' if enabled else 'does not start'} at login"
          f"{' (' + autostart.location() + ')' if enabled else ''}")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    # No facade: the data directory is replaced, so nothing may have it open.
    unlocker = default_unlocker(ask=cli_memory.ask_passphrase)
    try:
        report = restore_backup(
            args.path, resolve_data_dir(args.data_dir), unlocker, replace=args.replace
        )
    except KeyboardInterrupt:
        raise Cancelled("interrupted") from None
    kept = f"; the ledger it replaced is kept at {report.set_aside}" if report.set_aside else ""
    print(f"restored {args.path} into {report.data_dir}{kept}")
    return EXIT_OK


class ProgressPrinter:
    """Prints job progress to stderr: one updating line on a terminal, else every 10%."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, done: int, total: int, what: str) -> None:
        percent = 100 * done // total if total else 100
        if self._tty:
            end = "\n" if done >= total else ""
            print(f"\r{what}: {done}/{total} ({percent}%)", end=end, file=sys.stderr, flush=True)
            return
        step = percent // 10
        if (what, step) != self._last:
            self._last = (what, step)
            print(f"{what}: {done}/{total} ({percent}%)", file=sys.stderr, flush=True)
