"""`reverie sources`: list, add, pause, resume, remove and scan watched sources, and
`reverie watch`: follow them in the foreground until interrupted."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from reverie.core.capture.watching import SourceStatus
from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.core.types import Changes

COMMANDS = ("sources", "watch")


def add_commands(sub: Any, common: list[argparse.ArgumentParser]) -> None:
    """Register `sources` (with its actions) and `watch` on the CLI's subparsers."""
    sources = sub.add_parser("sources", parents=common, help="folders and exports Reverie follows")
    sources.add_argument("--json", action="store_true", help="one JSON object per source")
    actions = sources.add_subparsers(dest="action")
    listing = actions.add_parser("list", help="each source with its state (the default)")
    listing.add_argument("--json", action="store_true")
    add = actions.add_parser("add", help="follow a folder or a chat export file")
    add.add_argument("path", type=Path)
    add.add_argument("--include", action="append", default=[], metavar="GLOB",
                     help="only files matching (e.g. '*.md'); repeatable")
    add.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                     help="skip matching files or folders; replaces the default list")
    add.add_argument("--no-scan", action="store_true", help="do not read it now")
    for name, text in (("pause", "stop following for now"), ("resume", "follow again"),
                       ("problems", "files skipped, and why")):
        actions.add_parser(name, help=text).add_argument("id", type=int)
    remove = actions.add_parser("remove", help="stop following a source")
    remove.add_argument("id", type=int)
    remove.add_argument("--forget", action="store_true",
                        help="also forget everything read from it (asks first)")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    scan = actions.add_parser("scan", help="read what changed now (all, or one source)")
    scan.add_argument("id", type=int, nargs="?")
    never = actions.add_parser("never", help="show or set never-remember patterns")
    never.add_argument("patterns", nargs="*", metavar="GLOB")
    watch = sub.add_parser("watch", parents=common, help="follow sources until Ctrl-C")
    watch.add_argument("--no-extract", action="store_true", help="store text, extract later")


def run_command(reverie: Reverie, args: argparse.Namespace, progress: Any,
                cancel: threading.Event) -> None:
    """Run `sources ...` or `watch` against an open facade."""
    if args.command == "watch":
        _watch(reverie, args, cancel)
        return
    action = args.action or "list"
    capture = reverie.capture
    if action == "list":
        _list(capture.sources(), as_json=getattr(args, "json", False))
    elif action == "add":
        watch = capture.add(args.path, include=tuple(args.include),
                            exclude=tuple(args.exclude) if args.exclude is not None else None)
        print(f"watching source {watch.id}: {watch.path}")
        if not args.no_scan:
            _print_scans(capture.scan(watch.id, progress=progress, cancel=cancel))
    elif action in ("pause", "resume"):
        (capture.pause if action == "pause" else capture.resume)(args.id)
        print(f"source {args.id} {action}d")
    elif action == "problems":
        for path, reason in capture.problems(args.id):
            print(f"{path}: {reason}")
    elif action == "remove":
        _remove(reverie, args, progress)
    elif action == "scan":
        _print_scans(capture.scan(args.id, progress=progress, cancel=cancel))
    elif action == "never":
        if args.patterns:
            capture.set_never_remember(tuple(args.patterns))
        print("\n".join(capture.never_remember()) or "(no never-remember patterns)")


def _list(statuses: list[SourceStatus], *, as_json: bool) -> None:
    if as_json:
        for s in statuses:
            print(json.dumps({
                "id": s.source.id, "path": str(s.source.path), "state": s.state,
                "paused": s.source.paused, "files": s.files, "skipped": s.skipped,
                "episodes": s.episodes, "error": s.source.error, "mode": s.source.mode,
                "last_scan": s.source.last_scan.isoformat() if s.source.last_scan else None,
            }, ensure_ascii=False))
        return
    if not statuses:
        print("no watched sources; add one with `reverie sources add PATH`")
    for s in statuses:
        scanned = f"{s.source.last_scan:%Y-%m-%d %H:%M}" if s.source.last_scan else "never"
        print(f"{s.source.id:3}  {s.source.path}\n     {s.describe()}; last scan {scanned}")


def _print_scans(reports: Any) -> None:
    for report in reports:
        done = ", ".join(f"{n} {action}" for action, n in sorted(report.actions.items()))
        print(f"source {report.watch_id}: {done or 'no files'}; "
              f"{report.changes.episodes_added} pieces added, "
              f"{report.changes.episodes_removed} removed")
        for path, reason in report.problems:
            print(f"  skipped {path}: {reason}")


def _remove(reverie: Reverie, args: argparse.Namespace, progress: Any) -> None:
    if args.forget:
        plan = reverie.capture.plan_remove(args.id)
        print(plan.describe() if not plan.empty else "nothing was read from it yet.")
        if not plan.empty and not args.yes:
            if not sys.stdin.isatty():
                raise BadInput("forgetting needs confirmation: run it in a terminal or add --yes")
            if input("Forget for good? Type 'forget' to confirm: ").strip() != "forget":
                print("nothing was removed")
                return
    changes = reverie.capture.remove(args.id, forget=args.forget, progress=progress)
    print(f"source {args.id} removed" + (
        f"; forgot {changes.episodes_removed} pieces and {changes.memories_removed} memories"
        if args.forget else "; what was read from it stays"))


def _watch(reverie: Reverie, args: argparse.Namespace, cancel: threading.Event) -> None:
    def on_changes(changes: Changes) -> None:
        print(f"+{changes.episodes_added} -{changes.episodes_removed} pieces, "
              f"+{changes.memories_added} memories", flush=True)

    def on_status(statuses: list[SourceStatus]) -> None:
        return None

    reverie.start_capture(on_status=on_status, on_changes=on_changes,
                          extract=not args.no_extract)
    print("watching; press Ctrl-C to stop", file=sys.stderr)
    try:
        while not cancel.wait(1.0):
            pass
    finally:
        reverie.capture.stop()
