"""Retrieval benchmark on the LoCoMo development split (GUIDE §6).

    python -m bench.retrieval [--data DIR] [--extract] [--stores DIR] [--no-ablations]
        [--out FILE]

Each conversation is converted to chat JSONL and imported into its own fresh store (with
`--stores DIR`, a store already there, such as `bench.consolidation --keep` leaves with
extracted memories and summaries, is used as it is). Every question of categories 1–4
is asked, as of the conversation's last session, in the same run by:
- reverie: the product's search (`Reverie.search`), hits' cited turns in rank order;
- reverie − PART: the same with one part switched off (`RetrievalOptions`);
- bm25: FTS5 BM25 over the raw turns' own text only;
- dense: the bundled embedder, exact cosine over the raw turns only.
Recall@k is the share of a question's evidence turns among the first k distinct turns
cited. Search latency (query embedding included) is timed on the full product search.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import numpy as np

from bench.locomo import DEV_DIR, Question, chat_lines, questions, write_jsonl
from reverie.core.compose import open_reverie
from reverie.core.config import Settings
from reverie.core.retrieve.keyword import fts_query
from reverie.core.retrieve.options import RetrievalOptions
from reverie.core.service import Reverie
from reverie.core.store.keys import Unlocker, fixed_passphrase
from reverie.models import default_embedder, default_llm
from reverie.models.base import LLM, Embedder

# Throwaway stores in a temporary folder: a fixed passphrase, never the OS keyring.
BENCH_KEYS = Unlocker(None, fixed_passphrase("bench passphrase"))

KS = (5, 10)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
# Each ablation switches one RetrievalOptions field off.
ABLATIONS = {
    "reverie − fusion tuning": "tuned_fusion",
    "reverie − turn context": "context",
    "reverie − time": "time",
    "reverie − people": "people",
    "reverie − status priors": "priors",
    "reverie − recency": "recency",
    "reverie − memories": "memories",
    "reverie − summaries": "summaries",
}
METHODS = ("reverie", *ABLATIONS, "bm25", "dense")
DEPTH = 50  # hits asked for, so that 10 distinct turns remain after de-duplication


@dataclass
class Scores:
    """Recall values per method, k and category, and search latencies."""

    recall: dict[tuple[str, int, int], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    latency_ms: list[float] = field(default_factory=list)
    by_conversation: dict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(
        self, method: str, question: Question, ranked: Sequence[str], evidence: set[str]
    ) -> None:
        for k in KS:
            found = len(set(ranked[:k]) & evidence)
            self.recall[(method, k, question.category)].append(found / len(evidence))
        at_10 = len(set(ranked[:10]) & evidence) / len(evidence)
        self.by_conversation[(method, question.conversation)].append(at_10)

    def mean(self, method: str, k: int, category: int | None = None) -> float:
        values = [
            v for (m, kk, c), vs in self.recall.items() for v in vs
            if m == method and kk == k and (category is None or c == category)
        ]
        return statistics.fmean(values) if values else float("nan")

    def conversation_mean(self, method: str, conversation: str) -> float:
        values = self.by_conversation.get((method, conversation), [])
        return statistics.fmean(values) if values else float("nan")

    def count(self, category: int | None = None) -> int:
        return sum(
            len(vs) for (m, k, c), vs in self.recall.items()
            if m == "reverie" and k == KS[0] and (category is None or c == category)
        )


def distinct(refs: Sequence[str]) -> list[str]:
    """The refs in order, each once."""
    return list(dict.fromkeys(refs))


def reverie_ranking(
    reverie: Reverie, question: str, as_of: datetime, options: RetrievalOptions,
    latency_ms: list[float] | None = None,
) -> list[str]:
    started = time.perf_counter()
    hits = reverie.search(question, k=DEPTH, as_of=as_of, options=options)
    if latency_ms is not None:
        latency_ms.append(1000 * (time.perf_counter() - started))
    return distinct([source.ref for hit in hits for source in hit.sources])


class Bm25Baseline:
    """FTS5 BM25 (the product's tokenizer and query words) over the raw turns alone, in
    its own in-memory table: nothing Reverie indexes besides a turn's text counts."""

    def __init__(self, reverie: Reverie) -> None:
        self._db = sqlite3.connect(":memory:")
        self._db.execute(
            "CREATE VIRTUAL TABLE turns USING fts5(text, locator UNINDEXED,"
            " tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        rows = reverie.store.ledger.query("SELECT speaker, text, locator FROM episodes")
        self._db.executemany(
            "INSERT INTO turns (text, locator) VALUES (?, ?)",
            [(f"{row['speaker']}: {row['text']}", row["locator"]) for row in rows],
        )

    def ranking(self, question: str) -> list[str]:
        match = fts_query(question)
        if match is None:
            return []
        rows = self._db.execute(
            "SELECT locator FROM turns WHERE turns MATCH ? ORDER BY bm25(turns) LIMIT ?",
            (match, DEPTH),
        ).fetchall()
        return distinct([row[0] for row in rows])


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


@dataclass(frozen=True)
class Run:
    """What one benchmark run does."""

    embedder: Embedder
    extract: bool
    workdir: Path
    stores: Path | None
    ablations: bool


def open_store(
    path: Path, run: Run, llm: LLM | None = None, settings: Settings | None = None
) -> Reverie:
    """The conversation's store: a kept one from `--stores`, else a fresh import.
    `llm` (default: the bundled model) is the one the store's chat answers with."""
    llm = llm or default_llm()
    kept = run.stores / path.stem if run.stores is not None else None
    if kept is not None and (kept / "ledger.db").exists():
        return open_reverie(kept, llm=llm, embedder=run.embedder, unlocker=BENCH_KEYS,
                            settings=settings)
    jsonl = run.workdir / f"{path.stem}.jsonl"
    write_jsonl(path, jsonl)
    reverie = open_reverie(kept or run.workdir / path.stem, llm=llm,
                           embedder=run.embedder, unlocker=BENCH_KEYS, settings=settings)
    reverie.import_file(jsonl, extract=run.extract)
    return reverie


def run_conversation(path: Path, run: Run, scores: Scores) -> int:
    """Ask every question of one conversation all ways; return how many were asked."""
    as_of = max(datetime.fromisoformat(line["time"]) for line in chat_lines(path)).astimezone()
    variants = {"reverie": RetrievalOptions()}
    if run.ablations:
        variants |= {name: replace(RetrievalOptions(), **{field_name: False})
                     for name, field_name in ABLATIONS.items()}
    reverie = open_store(path, run)
    try:
        dense = DenseBaseline(reverie, run.embedder)
        bm25 = Bm25Baseline(reverie)
        asked = [q for q in questions(path) if q.category in CATEGORIES and q.evidence]
        for q in asked:
            evidence = set(q.evidence)
            for name, options in variants.items():
                timing = scores.latency_ms if name == "reverie" else None
                ranked = reverie_ranking(reverie, q.text, as_of, options, timing)
                scores.add(name, q, ranked, evidence)
            scores.add("bm25", q, bm25.ranking(q.text), evidence)
            scores.add("dense", q, dense.ranking(q.text), evidence)
        return len(asked)
    finally:
        reverie.close()


def report(scores: Scores, files: Sequence[Path], stores: str, seconds: float) -> str:
    """The results as a Markdown table with a line of latency figures."""
    stems = [p.stem for p in files]
    lines = [
        f"LoCoMo dev retrieval, {date.today().isoformat()}, files: {', '.join(stems)}; "
        f"stores: {stores}",
        "",
        "| method | R@5 | R@10 | " + " | ".join(f"R@10 {n} ({scores.count(c)})"
                                         for c, n in CATEGORIES.items())
        + " | " + " | ".join(f"R@10 {stem}" for stem in stems) + " |",
        "|---|---|---|" + "---|" * (len(CATEGORIES) + len(stems)),
    ]
    for method in METHODS:
        if not any(m == method for m, _, _ in scores.recall):
            continue
        per_category = " | ".join(f"{scores.mean(method, 10, c):.3f}" for c in CATEGORIES)
        per_file = " | ".join(f"{scores.conversation_mean(method, stem):.3f}" for stem in stems)
        lines.append(
            f"| {method} | {scores.mean(method, 5):.3f} | {scores.mean(method, 10):.3f} | "
            f"{per_category} | {per_file} |"
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
    parser.add_argument("--stores", type=Path,
                        help="use (or keep) each conversation's store in DIR/<stem>")
    parser.add_argument("--no-ablations", action="store_true",
                        help="only the full search and the baselines")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    files = sorted(args.data.glob("*.json"))
    if not files:
        raise SystemExit(f"no LoCoMo .json files in {args.data}")
    scores = Scores()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as tmp:
        run = Run(default_embedder(), args.extract, Path(tmp), args.stores,
                  not args.no_ablations)
        for path in files:
            asked = run_conversation(path, run, scores)
            print(f"{path.stem}: {asked} questions", flush=True)
    described = (f"kept in {args.stores}" if args.stores else
                 "fresh imports" + (" with extraction" if args.extract else ", turns only"))
    table = report(scores, files, described, time.perf_counter() - started)
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
