"""Retrieval benchmark on the LoCoMo development split (GUIDE §6).

    python -m bench.retrieval [--data DIR] [--extract] [--out FILE]

Each conversation is converted to chat JSONL and imported into its own fresh store.
Every question of categories 1–4 is asked three ways in the same run:
- reverie: the product's search (`Reverie.search`), hits' cited turns in rank order;
- bm25: FTS5 BM25 over the raw turns only;
- dense: the bundled embedder, exact cosine over the raw turns only.
Recall@k is the share of a question's evidence turns among the first k distinct turns
cited. Search latency (query embedding included) is timed on the product's search.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from bench.locomo import DEV_DIR, questions, write_jsonl
from reverie.core.compose import open_reverie
from reverie.core.retrieve.keyword import fts_query
from reverie.core.service import Reverie
from reverie.core.store.keys import Unlocker, fixed_passphrase
from reverie.models import default_embedder, default_llm
from reverie.models.base import Embedder

# Throwaway stores in a temporary folder: a fixed passphrase, never the OS keyring.
BENCH_KEYS = Unlocker(None, fixed_passphrase("bench passphrase"))

KS = (5, 10)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
METHODS = ("reverie", "bm25", "dense")
DEPTH = 50  # hits asked for, so that 10 distinct turns remain after de-duplication


@dataclass
class Scores:
    """Recall values per method, k and category, and search latencies."""

    recall: dict[tuple[str, int, int], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    latency_ms: list[float] = field(default_factory=list)

    def add(self, method: str, category: int, ranked: Sequence[str], evidence: set[str]) -> None:
        for k in KS:
            found = len(set(ranked[:k]) & evidence)
            self.recall[(method, k, category)].append(found / len(evidence))

    def mean(self, method: str, k: int, category: int | None = None) -> float:
        values = [
            v for (m, kk, c), vs in self.recall.items() for v in vs
            if m == method and kk == k and (category is None or c == category)
        ]
        return statistics.fmean(values) if values else float("nan")

    def count(self, category: int | None = None) -> int:
        return sum(
            len(vs) for (m, k, c), vs in self.recall.items()
            if m == "reverie" and k == KS[0] and (category is None or c == category)
        )


def distinct(refs: Sequence[str]) -> list[str]:
    """The refs in order, each once."""
    return list(dict.fromkeys(refs))


def reverie_ranking(reverie: Reverie, question: str, scores: Scores) -> list[str]:
    started = time.perf_counter()
    hits = reverie.search(question, k=DEPTH)
    scores.latency_ms.append(1000 * (time.perf_counter() - started))
    return distinct([source.ref for hit in hits for source in hit.sources])


def bm25_ranking(reverie: Reverie, question: str) -> list[str]:
    match = fts_query(question)
    if match is None:
        return []
    rows = reverie.store.ledger.query(
        "SELECT e.locator FROM fts JOIN episodes e ON e.id = fts.item_id"
        " WHERE fts MATCH ? AND fts.kind = 'episode' ORDER BY bm25(fts) LIMIT ?",
        (match, DEPTH),
    )
    return distinct([row["locator"] for row in rows])


class DenseBaseline:
    """Exact cosine search over the stored vectors of the raw turns."""

    def __init__(self, reverie: Reverie, embedder: Embedder) -> None:
        rows = reverie.store.ledger.query(
            "SELECT e.locator, v.vector FROM episodes e JOIN vectors v ON v.item_id = e.id"
            " WHERE v.model = ?", (embedder.name,),
        )
        self._refs = [row["locator"] for row in rows]
        self._matrix = np.stack([np.frombuffer(row["vector"], dtype=np.float32) for row in rows])
        self._embedder = embedder

    def ranking(self, question: str) -> list[str]:
        similarity = self._matrix @ self._embedder.embed([question])[0]
        order = np.argsort(-similarity)[:DEPTH]
        return [self._refs[i] for i in order]


def run_conversation(
    path: Path, embedder: Embedder, extract: bool, scores: Scores, workdir: Path
) -> int:
    jsonl = workdir / f"{path.stem}.jsonl"
    write_jsonl(path, jsonl)
    llm = default_llm()
    reverie = open_reverie(workdir / path.stem, llm=llm, embedder=embedder, unlocker=BENCH_KEYS)
    try:
        reverie.import_file(jsonl, extract=extract)
        dense = DenseBaseline(reverie, embedder)
        asked = [q for q in questions(path) if q.category in CATEGORIES and q.evidence]
        for q in asked:
            evidence = set(q.evidence)
            scores.add("reverie", q.category, reverie_ranking(reverie, q.text, scores), evidence)
            scores.add("bm25", q.category, bm25_ranking(reverie, q.text), evidence)
            scores.add("dense", q.category, dense.ranking(q.text), evidence)
        return len(asked)
    finally:
        reverie.close()


def report(scores: Scores, files: Sequence[Path], extract: bool, seconds: float) -> str:
    lines = [
        f"LoCoMo dev retrieval, {date.today().isoformat()}, files: "
        f"{', '.join(p.stem for p in files)}; memories extracted: {'yes' if extract else 'no'}",
        "",
        "| method | R@5 | R@10 | " + " | ".join(f"R@10 {n} ({scores.count(c)})"
                                         for c, n in CATEGORIES.items()) + " |",
        "|---|---|---|" + "---|" * len(CATEGORIES),
    ]
    for method in METHODS:
        per_category = " | ".join(f"{scores.mean(method, 10, c):.3f}" for c in CATEGORIES)
        lines.append(
            f"| {method} | {scores.mean(method, 5):.3f} | {scores.mean(method, 10):.3f} | "
            f"{per_category} |"
        )
    latencies = sorted(scores.latency_ms)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    lines += [
        "",
        f"questions: {scores.count()}; reverie search latency (k={DEPTH}, query embedding "
        f"included): p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms; "
        f"whole run {seconds:.0f} s",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV_DIR, help="folder of LoCoMo json files")
    parser.add_argument("--extract", action="store_true", help="extract memories (slow)")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    files = sorted(args.data.glob("*.json"))
    if not files:
        raise SystemExit(f"no LoCoMo .json files in {args.data}")
    embedder = default_embedder()
    scores = Scores()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as tmp:
        for path in files:
            asked = run_conversation(path, embedder, args.extract, scores, Path(tmp))
            print(f"{path.stem}: {asked} questions", flush=True)
    table = report(scores, files, args.extract, time.perf_counter() - started)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")
        json_path = args.out.with_suffix(".json")
        json_path.write_text(json.dumps({
            f"{m}@{k}/{c}": statistics.fmean(v) for (m, k, c), v in scores.recall.items()
        }, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
