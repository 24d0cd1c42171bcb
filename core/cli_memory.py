"""The CLI's memory-keeping commands: remember, history, undo, forget, reindex and
passphrase, plus how the CLI asks for a passphrase."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetTarget
from reverie.core.store.keys import (
    MIN_PASSPHRASE,
    PassphraseRequest,
    Unlocker,
    passphrase_from_env,
    secure_keyring,
)
from reverie.core.timeutil import parse_time
from reverie.core.types import MemoryKind

NEW_PASSPHRASE_ENV = "REVERIE_NEW_PASSPHRASE"
COMMANDS = ("remember", "history", "undo", "forget", "reindex", "passphrase")
_PROMPTS = {
    PassphraseRequest.UNLOCK: "Passphrase for your Reverie memories: ",
    PassphraseRequest.RETRY: "Wrong passphrase, try again: ",
    PassphraseRequest.CREATE: "Choose a passphrase (at least 8 characters): ",
}


def ask_passphrase(request: PassphraseRequest) -> str | None:
    """`$REVERIE_PASSPHRASE`, else a prompt on the terminal; None when neither exists."""
    from_env = passphrase_from_env(request)
    if from_env is not None:
        return from_env if request is not PassphraseRequest.RETRY else None
    return _prompt(request)


def ask_new_passphrase(request: PassphraseRequest) -> str | None:
    """The new passphrase for `reverie passphrase`: `$REVERIE_NEW_PASSPHRASE` or a prompt."""
    return os.environ.get(NEW_PASSPHRASE_ENV) or _prompt(PassphraseRequest.CREATE)


def _prompt(request: PassphraseRequest) -> str | None:
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(_PROMPTS[request])
    if request is PassphraseRequest.CREATE and (
        getpass.getpass("The same passphrase again: ") != first
    ):
        raise BadInput("the two passphrases differ; nothing was changed")
    return first


def add_commands(sub: Any, common: list[argparse.ArgumentParser]) -> None:
    """Register the memory-keeping subcommands on the CLI's subparsers."""
    remember = sub.add_parser("remember", parents=common, help="store a memory you write")
    remember.add_argument("text")
    remember.add_argument("--kind", choices=[k.value for k in MemoryKind], default="fact")
    remember.add_argument("--when", help="when it happened (ISO-8601; default now)")
    history = sub.add_parser("history", parents=common, help="list recent changes")
    history.add_argument("--memory", help="only the changes of this memory id")
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")
    undo = sub.add_parser("undo", parents=common, help="undo the last batch of changes")
    which = undo.add_mutually_exclusive_group()
    which.add_argument("--batch", help="undo this batch (see `reverie history`)")
    which.add_argument("--change", type=int, help="undo only this change number")
    forget = sub.add_parser("forget", parents=common, help="remove for good, from every file")
    forget.add_argument("--memory", action="append", default=[], metavar="ID")
    forget.add_argument("--turn", action="append", default=[], metavar="ID")
    forget.add_argument("--source", action="append", default=[], metavar="NAME")
    forget.add_argument("--from", dest="start", help="start of a span of time (ISO-8601)")
    forget.add_argument("--to", dest="end", help="end of the span (exclusive)")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sub.add_parser("reindex", parents=common, help="rebuild the search index from the ledger")
    passphrase = sub.add_parser("passphrase", parents=common, help="change how data is locked")
    passphrase.add_argument(
        "--to-keyring", action="store_true", help="keep a random key in the OS keyring instead"
    )


def run_command(reverie: Reverie, args: argparse.Namespace, progress: Any) -> None:
    """Run one of `COMMANDS` against an open facade."""
    if args.command == "remember":
        when = parse_time(args.when) if args.when else None
        memory_id, _ = reverie.memories.add(args.text, kind=MemoryKind(args.kind), when=when)
        print(f"remembered {memory_id}")
    elif args.command == "history":
        _history(reverie, args)
    elif args.command == "undo":
        changes = reverie.memories.undo(batch=args.batch, change=args.change)
        print(f"undone: {changes.memories_changed} memories restored to their earlier state")
    elif args.command == "forget":
        _forget(reverie, args, progress)
    elif args.command == "reindex":
        print(f"search index rebuilt: {reverie.rebuild_index(progress=progress)} items")
    elif args.command == "passphrase":
        _passphrase(reverie, args)


def _history(reverie: Reverie, args: argparse.Namespace) -> None:
    entries = reverie.memories.history(args.memory, limit=args.limit)
    if args.json:
        for e in entries:
            print(json.dumps({
                "change": e.seq, "batch": e.batch, "memory": e.memory_id, "actor": e.actor.value,
                "action": e.action, "before": e.before, "after": e.after,
                "at": e.at.isoformat(), "undone_by": e.undone_by,
            }, ensure_ascii=False))
        return
    for e in entries:
        text = (e.after or e.before or {}).get("text", "")
        undone = " (undone)" if e.undone_by else ""
        print(f"{e.seq:6} {e.at:%Y-%m-%d %H:%M} {e.batch} {e.actor.value:12} "
              f"{e.action:10} {e.memory_id}{undone}  {text}")


def _forget(reverie: Reverie, args: argparse.Namespace, progress: Any) -> None:
    sources = [_source_id(reverie, name) for name in args.source]
    target = ForgetTarget(
        memory_ids=tuple(args.memory), episode_ids=tuple(args.turn), source_ids=tuple(sources),
        start=parse_time(args.start) if args.start else None,
        end=parse_time(args.end) if args.end else None,
    )
    plan = reverie.memories.plan_forget(target)
    if plan.empty:
        raise BadInput("nothing matches; nothing was forgotten")
    print(plan.describe())
    if not args.yes:
        if not sys.stdin.isatty():
            raise BadInput("forgetting needs confirmation: run it in a terminal or add --yes")
        if input("Forget for good? Type 'forget' to confirm: ").strip() != "forget":
            print("nothing was forgotten")
            return
    changes = reverie.memories.forget(plan, progress=progress)
    print(f"forgotten: {changes.episodes_removed} turns, {changes.memories_removed} memories")


def _source_id(reverie: Reverie, name: str) -> str:
    rows = reverie.store.ledger.query("SELECT id FROM sources WHERE name = ? OR id = ?",
                                      (name, name))
    if not rows:
        raise BadInput(f"there is no source named {name!r}")
    return str(rows[0][0])


def _passphrase(reverie: Reverie, args: argparse.Namespace) -> None:
    if args.to_keyring:
        keyring = secure_keyring()
        if keyring is None:
            raise BadInput("this machine has no secure OS keyring; keep using a passphrase")
        reverie.change_key(Unlocker(keyring, None), to_keyring=True)
        print("the key now lives in the OS keyring; no passphrase is needed any more")
        return
    unlocker = Unlocker(None, ask_new_passphrase)
    if not os.environ.get(NEW_PASSPHRASE_ENV) and not sys.stdin.isatty():
        raise BadInput(f"set {NEW_PASSPHRASE_ENV} or run in a terminal to choose a passphrase")
    reverie.change_key(unlocker, to_keyring=False)
    print(f"passphrase changed (at least {MIN_PASSPHRASE} characters); the ledger was "
          "re-encrypted under the new key")
