"""Consolidation on extracted LoCoMo conversations: what a run changes, what it costs,
and that it keeps what extraction found.

    python -m bench.consolidation [--data DIR] [--conversations conv-30,...]
        [--max-turns N] [--keep DIR] [--out FILE]

Each conversation is imported with extraction by the bundled model (as in
`bench.extraction`; with `--keep DIR` the stores are kept there and reused by the next
run), then consolidated twice with the bundled model writing the summaries. Measured:

- the plan: changes by kind (merge, supersede, summary, fade) and proposals;
- the health figures (`consolidate/health.py`) before and after;
- the duplicate rate and gold-fact coverage@0.6 as `bench.extraction` defines them,
  before and after (merged memories are archived, so coverage after counts what the
  survivors, with the citations they took over, still cover);
- the run's wall time and model tokens; the second run's (it should find nothing new).

Fade only archives memories a year older than the run, so on these conversations
(2022-2023) it reflects the date the benchmark is run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bench.extraction import SIM, cached, covered, duplicates, gold_facts, read_ledger
from bench.locomo import DEV_DIR, write_jsonl
from bench.retrieval import BENCH_KEYS
from reverie.core.compose import open_reverie
from reverie.core.consolidate.health import health_figures
from reverie.core.service import Reverie
from reverie.models import default_embedder, default_llm
from reverie.models.base import Embedder

OPS = ("merge", "supersede", "summary", "fade")


def quality(reverie: Reverie, path: Path, embedder: Embedder) -> dict[str, float]:
    """Duplicate rate and gold-fact coverage of the store, as bench.extraction counts."""
    turns, memories = read_ledger(reverie.store.ledger)
    memories = [m for m in memories if m.kind != "summary"]
    embed = cached(embedder)
    facts = gold_facts(path, turns)
    active = [m for m in memories if m.status == "active"]
    pairs = duplicates(memories, embed)
    return {
        "memories_active": len(active),
        "duplicate_rate": len({later.id for _, later in pairs}) / max(1, len(active)),
        "coverage": sum(covered(facts, memories, embed, SIM)) / max(1, len(facts)),
    }


def run_conversation(path: Path, workdir: Path, embedder: Embedder,
                     max_turns: int | None) -> dict[str, Any]:
    """Extract (unless kept from before), then consolidate twice; the figures."""
    data = workdir / path.stem
    reverie = open_reverie(data, llm=default_llm(), embedder=embedder, unlocker=BENCH_KEYS)
    try:
        if not reverie.counts()["episodes"]:
            jsonl = workdir / f"{path.stem}.jsonl"
            write_jsonl(path, jsonl)
            if max_turns is not None:
                lines = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
                jsonl.write_text("".join(lines[:max_turns]), encoding="utf-8")
            reverie.import_file(jsonl, extract=True)
        before, health_before = quality(reverie, path, embedder), health_figures(reverie.store)
        planned = reverie.consolidation.plan()
        started = time.perf_counter()
        first = reverie.consolidation.run(reason="bench")
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        second = reverie.consolidation.run(reason="bench")
        again = time.perf_counter() - started
        after = quality(reverie, path, embedder)
        tokens = reverie.store.ledger.query(
            "SELECT tokens FROM consolidation_runs WHERE id = ?", (first.run_id,))[0][0]
    finally:
        reverie.close()
    return {
        "conversation": path.stem, "planned": dict(Counter(c.op for c in planned)),
        "proposals": sum(c.proposal for c in planned), "applied": first.applied,
        "skipped": first.skipped, "seconds": round(seconds, 1), "tokens": int(tokens),
        "second_applied": second.applied, "second_seconds": round(again, 1),
        "before": before, "after": after, "health_before": health_before,
        "health_after": first.figures,
    }


def report(results: Sequence[dict[str, Any]], header: str) -> str:
    """The markdown table."""
    lines = [
        header, "",
        "| conversation | active before | merge | supersede | summary | fade | proposals |"
        " duplicates before → after | coverage before → after | run s | tokens |"
        " 2nd run applied, s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ops = " | ".join(str(r["planned"].get(op, 0)) for op in OPS)
        b, a = r["before"], r["after"]
        lines.append(
            f"| {r['conversation']} | {b['memories_active']} | {ops} | {r['proposals']} | "
            f"{b['duplicate_rate']:.3f} → {a['duplicate_rate']:.3f} | "
            f"{b['coverage']:.3f} → {a['coverage']:.3f} | {r['seconds']:.1f} | {r['tokens']} |"
            f" {r['second_applied']}, {r['second_seconds']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark; print the table (and write it with `--out`)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV_DIR, help="folder of LoCoMo json files")
    parser.add_argument("--conversations", default="conv-30", help="comma-separated stems")
    parser.add_argument("--max-turns", type=int, help="only the first N turns of each")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the extracted stores here")
    parser.add_argument("--out", type=Path, help="write the table here and figures to .json")
    args = parser.parse_args(argv)
    wanted = args.conversations.split(",")
    files = [p for p in sorted(args.data.glob("*.json")) if p.stem in wanted]
    if not files:
        raise SystemExit(f"none of {', '.join(wanted)} in {args.data}")
    embedder = default_embedder()
    command = "python -m bench.consolidation " + " ".join(
        sys.argv[1:] if argv is None else list(argv))
    header = f"LoCoMo dev consolidation, {date.today().isoformat()}; `{command.strip()}`"
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = [run_conversation(p, workdir, embedder, args.max_turns) for p in files]
    table = report(results, header)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")
        args.out.with_suffix(".json").write_text(
            json.dumps({"command": command.strip(), "results": results}, indent=1),
            encoding="utf-8")


if __name__ == "__main__":
    main()
