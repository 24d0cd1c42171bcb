"""`reverie consolidate`: run sleep-time consolidation now (or dry), list runs, show a
run's changes, undo them; and `reverie review`: the review inbox."""

from __future__ import annotations

import argparse
import json
import threading
from typing import Any

from reverie.core.consolidate import journal
from reverie.core.consolidate.describe import describe
from reverie.core.errors import BadInput
from reverie.core.service import Reverie

COMMANDS = ("consolidate", "review")


def add_commands(sub: Any, common: list[argparse.ArgumentParser]) -> None:
    """Register `consolidate` and `review` on the CLI's subparsers."""
    run = sub.add_parser("consolidate", parents=common,
                         help="merge, supersede, summarise and fade memories now")
    run.add_argument("--dry-run", action="store_true",
                     help="show what would change; change nothing")
    run.add_argument("--json", action="store_true")
    actions = run.add_subparsers(dest="action")
    runs = actions.add_parser("runs", help="the latest runs and their health figures")
    show = actions.add_parser("show", help="a run's changes (the newest run by default)")
    show.add_argument("run", nargs="?")
    for action in (runs, show):
        # Also after the action; SUPPRESS keeps it from undoing one given before it.
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    undo = actions.add_parser("undo", help="undo a run, or one change of it")
    undo.add_argument("run")
    undo.add_argument("--change", type=int, metavar="SEQ", help="only this change")
    review = sub.add_parser("review", parents=common, help="memories and changes to check")
    review.add_argument("--json", action="store_true")
    decisions = review.add_subparsers(dest="action")
    for name, text in (("accept", "keep a memory, or apply a proposed change"),
                       ("reject", "archive a memory, or turn a proposed change down")):
        decision = decisions.add_parser(name, help=text)
        decision.add_argument("item", help="a memory id, or RUN:SEQ for a proposed change")


def run_command(reverie: Reverie, args: argparse.Namespace, progress: Any,
                cancel: threading.Event) -> None:
    """Run `consolidate ...` or `review ...` against an open facade."""
    if args.command == "review":
        _review(reverie, args)
        return
    action = getattr(args, "action", None)
    if action == "runs":
        _runs(reverie, args.json)
    elif action == "show":
        _show(reverie, args.run, args.json)
    elif action == "undo":
        changed = reverie.consolidation.undo(args.run, args.change)
        print(f"undone: {changed.memories_changed} change(s)")
    else:
        report = reverie.consolidation.run(dry_run=args.dry_run, progress=progress,
                                           cancel=cancel)
        if args.json:
            print(json.dumps({"run": report.run_id, "state": report.state,
                              "applied": report.applied, "skipped": report.skipped,
                              "proposed": report.proposed, "planned": report.planned,
                              "figures": report.figures}, indent=1))
        elif args.dry_run:
            print("\n".join(report.planned) or "nothing to do")
            print(f"({len(report.planned)} changes; nothing was written)")
        else:
            print(f"run {report.run_id} {report.state}: {report.applied} applied,"
                  f" {report.skipped} skipped, {report.proposed} proposed for review")
            print(_figures(report.figures))


def _figures(figures: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in sorted(figures.items()))


def _runs(reverie: Reverie, as_json: bool) -> None:
    runs = journal.runs(reverie.store.ledger)
    if as_json:
        print(json.dumps([{"run": r.id, "reason": r.reason, "started": r.started.isoformat(),
                           "state": r.state, "tokens": r.tokens, "figures": r.figures}
                          for r in runs], indent=1))
        return
    for r in runs:
        print(f"{r.id}  {r.started:%Y-%m-%d %H:%M}  {r.reason:8} {r.state:8} {_figures(r.figures)}")


def _show(reverie: Reverie, run_id: str | None, as_json: bool) -> None:
    ledger = reverie.store.ledger
    if run_id is None:
        latest = journal.runs(ledger, limit=1)
        if not latest:
            raise BadInput("there has been no consolidation run yet")
        run_id = latest[0].id
    rows = journal.changes(ledger, run_id)
    if as_json:
        print(json.dumps([{"seq": c.seq, "op": c.op, "state": c.state, "payload": c.payload}
                          for c in rows], indent=1))
        return
    for change in rows:
        print(f"{change.seq:4} {change.state:8} {describe(ledger, change.op, change.payload)}")


def _review(reverie: Reverie, args: argparse.Namespace) -> None:
    action = getattr(args, "action", None)
    if action in ("accept", "reject"):
        accept = action == "accept"
        if ":" in args.item and args.item.startswith("run_"):
            run_id, _, seq = args.item.partition(":")
            reverie.consolidation.decide(run_id, int(seq), accept)
        else:
            reverie.memories.review(args.item, accept=accept)
        print("accepted" if accept else "rejected")
        return
    inbox = reverie.review_inbox()
    if args.json:
        print(json.dumps(inbox, indent=1))
        return
    for item in inbox:
        print(f"{item['id']}  {item['what']}")
    if not inbox:
        print("nothing to review")
