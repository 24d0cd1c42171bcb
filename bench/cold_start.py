"""Cold start: from `python` starting to an interactive window, with models loaded lazily.

    python -m bench.cold_start [--runs 5] [--memories 3000] [--store DIR] [--out FILE.json]

The store holds `--memories` synthetic memories (bench/_big_store.py) over a year, with
vectors from the bundled MiniLM so the app finds an index of its own embedder (no
re-embedding starts). It is built once, kept in `--store` (default
`/tmp/reverie-bench-cold-<memories>`), and locked by a passphrase given to the app in
`$REVERIE_PASSPHRASE`, as on a machine with no keyring (the key is then derived with
scrypt at every start: part of what is measured).

Each run is a fresh `python -c` process (bench/_cold_probe.py) that starts the real app
(`reverie.desktop.app.run_app`) offscreen; times are from just before the parent starts
the process. Milestones: `python` (interpreter up), `imported` (the app's modules),
`shown`, `first_paint` (the window painted, saying "Opening your memories…"), `ready`
(the main page is up: the ledger is open, the timeline reads and the chat takes
questions; the vector index may still be opening on its own thread), `interactive` (the
first paint after `ready`: timeline and chat on screen), `opened` (the model runtimes
imported, capture and the schedule started too: usually just after). The target is
interactive in under 2 s. The baseline, run in turns with the app, is an empty
`QMainWindow` to its first paint.

Then one `python -X importtime -c "import reverie.desktop.app"`: the modules that cost
most to import, and which heavy libraries (llama_cpp, onnxruntime, chromadb …) the app
has imported by the time it says `opened`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bench._big_store import StoreNote, cached_store
from bench.retrieval import BENCH_KEYS

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "bench passphrase"  # BENCH_KEYS's
TARGET_S = 2.0
STEPS = ("python", "imported", "shown", "first_paint", "ready", "interactive", "opened",
         "closed", "exit")
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")
Result = dict[str, Any]


def child_env(config_dir: Path) -> dict[str, str]:
    """The environment of a run: offscreen, a fresh config folder, the passphrase."""
    env = dict(os.environ)
    env.update({"QT_QPA_PLATFORM": "offscreen", "REVERIE_PASSPHRASE": PASSPHRASE,
                "REVERIE_CONFIG_DIR": str(config_dir), "PYTHONPATH": str(REPO)})
    return env


def one_run(mode: str, data_dir: Path, env: dict[str, str]) -> dict[str, float]:
    """Start one fresh process; seconds from its start to each milestone."""
    code = ("from bench._cold_probe import run_app, run_bare; "
            + (f"run_app({str(data_dir)!r})" if mode == "app" else "run_bare()"))
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    ended = time.time()
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("COLD ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{mode} run failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(line[5:])
    marks = {name: at - started for name, at in report["marks"].items()}
    marks["exit"] = ended - started
    marks["loaded_at_opened"] = report["loaded"].get("at_opened", [])
    marks["loaded_at_interactive"] = report["loaded"].get("at_interactive", [])
    marks["log"] = log_lines(done.stderr, started)
    return marks


_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) (\w+) ([\w.]+): (.*)$")


def log_lines(stderr: str, started: float) -> list[tuple[float, str, str]]:
    """The app's log lines (it runs with -v) as (s from process start, logger, message)."""
    out = []
    for line in stderr.splitlines():
        found = _LOG_LINE.match(line)
        if found:
            stamp, ms, _level, name, message = found.groups()
            at = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000
            out.append((round(at - started, 3), name, message[:120]))
    return out


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median and max of each milestone over the runs."""
    out: dict[str, dict[str, float]] = {}
    for step in STEPS:
        values = [r[step] for r in runs if step in r]
        if values:
            out[step] = {"median_s": statistics.median(values), "max_s": max(values),
                         "n": len(values)}
    return out


def import_times(env: dict[str, str], module: str = "reverie.desktop.app") -> Result:
    """`python -X importtime -c "import <module>"`: its direct imports by cumulative
    time, packages by the summed own time of their modules, the slowest modules by
    their own time, and which heavy libraries were imported at all."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                          check=True)
    rows = []
    for line in done.stderr.splitlines():
        found = _IMPORT_LINE.match(line)
        if found:
            own, total, indent, name = found.groups()
            rows.append((name, int(own) / 1000, int(total) / 1000, len(indent) // 2))
    direct = sorted((r for r in rows if r[3] == 1), key=lambda r: -r[2])
    by_package: dict[str, float] = {}
    for name, own, _total, _depth in rows:
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + own
    names = {r[0] for r in rows}
    from bench._cold_probe import HEAVY

    return {
        "module": module, "total_ms": sum(r[1] for r in rows),
        "direct_imports": [{"module": n, "ms": t} for n, _s, t, _d in direct[:12]],
        "by_package": [{"package": p, "ms": ms} for p, ms in
                       sorted(by_package.items(), key=lambda item: -item[1])[:15]],
        "top_self": [{"module": n, "ms": s} for n, s, _t, _d in
                     sorted(rows, key=lambda r: -r[1])[:12]],
        "heavy_imported": [m for m in HEAVY if m in names],
    }


def build(store: Path, memories: int) -> tuple[StoreNote, bool]:
    """The kept store with `memories` memories and MiniLM vectors (built if missing)."""
    from reverie.models import default_embedder

    embedder = default_embedder()
    wanted = StoreNote(size=memories, years=1.0, batch_size=20, seed=2026,
                       embedding_model=embedder.name, vectors=True)
    return cached_store(store, wanted, BENCH_KEYS, embedder)


def measure(store: Path, runs: int) -> Result:
    """`runs` app starts and `runs` bare windows in turns, then the import breakdown."""
    with tempfile.TemporaryDirectory(prefix="reverie-cold-config-") as config:
        env = child_env(Path(config))
        one_run("app", store, env)  # warms the page cache, as on any second start
        apps: list[dict[str, Any]] = []
        bares: list[dict[str, Any]] = []
        for _ in range(runs):
            apps.append(one_run("app", store, env))
            bares.append(one_run("bare", store, env))
        imports = import_times(env)
    return {"app": summarise(apps), "bare": summarise(bares), "app_runs": apps,
            "bare_runs": bares, "imports": imports,
            "loaded_at_opened": apps[-1]["loaded_at_opened"] if apps else [],
            "loaded_at_interactive": apps[-1]["loaded_at_interactive"] if apps else []}


def report(result: Result, header: str) -> str:
    """The markdown tables."""
    app, bare = result["app"], result["bare"]
    lines = [header, "", "| milestone (s from process start) | app median | app max |"
             " bare QMainWindow median | app / bare |", "|---|---|---|---|---|"]
    for step in STEPS:
        if step not in app:
            continue
        base = bare.get(step)
        ratio = (f"{app[step]['median_s'] / base['median_s']:.2f}"
                 if base and base["median_s"] else "–")
        base_s = f"{base['median_s']:.2f}" if base else "–"
        lines.append(f"| {step} | {app[step]['median_s']:.2f} | {app[step]['max_s']:.2f} |"
                     f" {base_s} | {ratio} |")
    interactive = app.get("interactive", {}).get("max_s")
    verdict = "yes" if interactive is not None and interactive < TARGET_S else "NO"
    imports = result["imports"]
    heavy = ", ".join(result["loaded_at_opened"]) or "none"
    early = ", ".join(result.get("loaded_at_interactive", [])) or "none"
    lines += ["", f"Interactive under {TARGET_S:.0f} s in every run: {verdict}. Heavy"
              f" libraries imported by `interactive`: {early}; by `opened`: {heavy}.",
              "", f"`python -X importtime -c \"import {imports['module']}\"`:"
              f" {imports['total_ms']:.0f} ms in all; imports it pulls in among the heavy ones:"
              f" {', '.join(imports['heavy_imported']) or 'none'}.", "",
              "| package (own time of all its modules) | ms |", "|---|---|"]
    lines += [f"| {row['package']} | {row['ms']:.0f} |" for row in imports["by_package"]]
    lines += ["", f"| what `{imports['module']}` imports directly | cumulative ms |",
              "|---|---|"]
    lines += [f"| {row['module']} | {row['ms']:.0f} |" for row in imports["direct_imports"]]
    if result["app_runs"]:
        lines += ["", "The last start's log (`run_app` with -v), s from process start:", ""]
        lines += [f"- {at:.2f} `{name}`: {message}" for at, name, message
                  in result["app_runs"][-1]["log"]]
    lines += ["", "| module | own ms |", "|---|---|"]
    lines += [f"| {row['module']} | {row['ms']:.0f} |" for row in imports["top_self"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> Result:
    """Build or reuse the store, run the starts, print the tables; return the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="app starts (and bare windows)")
    parser.add_argument("--memories", type=int, default=3000, help="memories in the store")
    parser.add_argument("--store", type=Path, help="where the store is kept and reused")
    parser.add_argument("--out", type=Path, help="write the figures (.json) and table (.md)")
    args = parser.parse_args(argv)
    store = args.store or Path(f"/tmp/reverie-bench-cold-{args.memories}")
    note, reused = build(store, args.memories)
    load_before = os.getloadavg()
    result = measure(store, args.runs)
    command = "python -m bench.cold_start " + " ".join(
        sys.argv[1:] if argv is None else list(argv))
    result |= {"command": command.strip(), "date": date.today().isoformat(),
               "store": str(store), "store_reused": reused, "memories": note.size,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "load_avg_before": load_before, "load_avg_after": os.getloadavg()}
    header = (f"Cold start, {result['date']}; `{result['command']}`; {args.runs} runs on a"
              f" store of {note.size:,} memories ({'reused' if reused else 'built'});"
              f" load average {load_before[0]:.1f} before, {result['load_avg_after'][0]:.1f} after")
    table = report(result, header)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
        args.out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
