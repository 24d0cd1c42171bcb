"""`reverie models`: list, add, choose and remove the language models, and set how
many of a model's layers go to the GPU. Needs no store: the choices are the machine's
(`models.json` in the config folder)."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import Any

from reverie.core.config import resolve_config_dir
from reverie.core.errors import BadInput, ModelError
from reverie.core.jobs import Progress
from reverie.core.service import Reverie
from reverie.models import hardware
from reverie.models.placement import GIB, Placement
from reverie.models.registry import EMBEDDER, MINILM_ID, ROLES, ModelEntry, ModelRegistry
from reverie.models.roles import embedder_for, plan_for

COMMANDS = ("models",)
STORE_COMMANDS = ("reembed",)
"""Commands of this module that work on an open store."""
MIB = 1024 * 1024


def add_commands(sub: Any, common: list[argparse.ArgumentParser]) -> None:
    """Register `models` and its actions on the CLI's subparsers."""
    models = sub.add_parser("models", parents=common,
                            help="the language models: list, add, choose per role")
    models.add_argument("--json", action="store_true", help="JSON output")
    actions = models.add_subparsers(dest="action")
    listing = actions.add_parser("list", help="every model, its roles and memory (default)")
    listing.add_argument("--json", action="store_true")
    add = actions.add_parser("add", help="add a GGUF file (its header is checked first)")
    add.add_argument("path", type=Path)
    add.add_argument("--name", help="what to call it (default: the header's name)")
    add.add_argument("--use", action="append", default=[], metavar="ROLE",
                     choices=[*ROLES, "all"], help="also choose it for ROLE; repeatable")
    use = actions.add_parser("use", help="choose the model for a role")
    use.add_argument("role", choices=[*ROLES, "all", EMBEDDER])
    use.add_argument("model", metavar="MODEL")
    remove = actions.add_parser("remove", help="forget an added model (the file stays)")
    remove.add_argument("model", metavar="MODEL")
    layers = actions.add_parser("gpu-layers", help="how many layers go to the GPU")
    layers.add_argument("model", metavar="MODEL")
    layers.add_argument("layers", metavar="auto|all|N")
    sub.add_parser("reembed", parents=common,
                   help="embed everything again with the chosen embedder (resumable)")


def reembed(reverie: Reverie, progress: Progress, cancel: threading.Event) -> None:
    """`reverie reembed`: move the store to the embedder `models use embedder` chose."""
    target = embedder_for(ModelRegistry(resolve_config_dir()).embedder())
    if reverie.store.embedding_model == target.name and reverie.reembed_pending() is None:
        print(f"every item is already embedded with {target.name}; nothing to do")
        return
    report = reverie.reembed(target, progress=progress, cancel=cancel)
    print(f"search now uses {report.model}: {report.embedded} items embedded by this run, "
          f"{report.total} in the store")


def run_command(args: argparse.Namespace) -> int:
    """Run `models ...`; returns the exit code."""
    registry = ModelRegistry(resolve_config_dir())
    action = args.action or "list"
    if action == "add":
        _add(registry, args)
    elif action == "use":
        registry.use(args.role, args.model)
        chosen = "every role" if args.role == "all" else f"the {args.role} role"
        print(f"{args.model} now does {chosen}")
        if args.role == EMBEDDER:
            print("  run `reverie reembed` (or open the app) to embed your memories with it;"
                  " search uses the old embedder until that is done")
    elif action == "remove":
        freed = registry.remove(args.model)
        back = f"; {', '.join(freed)} went back to the bundled model" if freed else ""
        print(f"removed {args.model} (its file was not touched){back}")
    elif action == "gpu-layers":
        registry.set_gpu_layers(args.model, _layers(args.layers))
        print(f"{args.model}: GPU layers {args.layers}")
    else:
        _list(registry, as_json=getattr(args, "json", False))
    return 0


def _layers(text: str) -> int | None:
    if text == "auto":
        return None
    if text == "all":
        return -1
    if text.isdigit():
        return int(text)
    raise BadInput(f"GPU layers must be auto, all or a number of layers, not {text!r}")


def _add(registry: ModelRegistry, args: argparse.Namespace) -> None:
    entry, info = registry.add(args.path, name=args.name)
    print(f"added {entry.id}: {info.name}, {info.architecture}, "
          f"{_params(info.parameters)} parameters, {info.quantization}, "
          f"context {info.context_length or 'unknown'}, {info.file_bytes / MIB:,.0f} MiB")
    if info.chat_template is None:
        print("  note: the file has no chat template; llama-cpp's default format is used, "
              "so a base (not instruction-tuned) model may answer poorly")
    print(f"  memory: {_fit(entry)}")
    for role in args.use:
        registry.use(role, entry.id)
    if args.use:
        print(f"  now used for: {', '.join(args.use)}")


def _list(registry: ModelRegistry, *, as_json: bool) -> None:
    roles = registry.roles()
    entries = registry.entries()
    if as_json:
        rows = [_entry_json(e, [r for r, m in roles.items() if m == e.id]) for e in entries]
        embedder = registry.embedder()
        print(json.dumps({"models": rows, "roles": roles,
                          EMBEDDER: embedder.id if embedder else None}, indent=1))
        return
    embedder = registry.embedder()
    for entry in entries:
        used = [role for role, chosen in roles.items() if chosen == entry.id]
        if embedder is not None and embedder.id == entry.id:
            used.append(EMBEDDER)
        print(f"{entry.id}{'  (bundled)' if entry.bundled else ''}"
              f"{'  [' + ', '.join(used) + ']' if used else ''}")
        print(f"  {entry.name}: {entry.architecture}, {_params(entry.parameters)} parameters,"
              f" {entry.quantization}, context {entry.context_length or 'unknown'},"
              f" {entry.file_bytes / MIB:,.0f} MiB")
        print(f"  file:   {entry.path}")
        if entry.gpu_layers is not None:
            layers = "all" if entry.gpu_layers < 0 else entry.gpu_layers
            print(f"  GPU layers: {layers} (set with reverie models gpu-layers)")
        problem = entry.problem
        print(f"  {'PROBLEM: ' + problem if problem else 'memory: ' + _fit(entry)}")
    if embedder is None:
        print(f"{EMBEDDER}: {MINILM_ID}, all-MiniLM-L6-v2 int8 (bundled)")
    available = hardware.ram_available_bytes()
    if available is not None:
        print(f"RAM available now: {available / GIB:.1f} GiB")


def _fit(entry: ModelEntry) -> str:
    try:
        plan = plan_for(entry)
    except ModelError as error:
        return f"unknown ({error})"
    return _plan_text(plan)


def _plan_text(plan: Placement) -> str:
    available = hardware.ram_available_bytes()
    warning = ("  (more than is available now)"
               if available is not None and plan.ram_bytes > available else "")
    return plan.summary() + warning


def _entry_json(entry: ModelEntry, roles: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": entry.id, "name": entry.name, "path": entry.path, "bundled": entry.bundled,
        "architecture": entry.architecture, "parameters": entry.parameters,
        "quantization": entry.quantization, "context_length": entry.context_length,
        "chat_template": entry.has_chat_template, "file_bytes": entry.file_bytes,
        "gpu_layers": entry.gpu_layers, "roles": roles, "problem": entry.problem,
    }
    try:
        plan = plan_for(entry)
    except ModelError:
        return row
    row["placement"] = {"gpu_layers": plan.gpu_layers, "offloadable": plan.offloadable,
                        "device": plan.device, "ram_bytes": plan.ram_bytes,
                        "vram_bytes": plan.vram_bytes, "reason": plan.reason}
    return row


def _params(count: int) -> str:
    return f"{count / 1e9:.1f}B" if count >= 1e9 else f"{count / 1e6:.0f}M"
