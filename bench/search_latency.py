"""Search latency at scale: the product's search, the query embedding included.

    python -m bench.search_latency [--sizes 10000,100000] [--queries 200] [--out FILE]

For each size a store is built from `bench.store_scale`'s synthetic memories (same seed,
same writes; episodes one per 100 memories) and reopened as the app opens it. Then the
same queries, some naming a person or a period, are timed through `Searcher.search`
(k = 10) two ways, alternating query by query so the machine's noise weighs on both:

- **reverie**: everything on (two families of lists, turn context, people, periods,
  priors, grouping);
- **plain RRF**: every part switched off (`RetrievalOptions` all False): one BM25 and
  one dense list fused by RRF (k = 60) — the search before the retrieval issue.

The query is embedded by the bundled MiniLM each time (the stored vectors come from the
synthetic stand-in embedder, so the hits mean nothing; the work is the same).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from bench._synthetic import Corpus
from bench._systems import ReverieSystem
from reverie.core.config import Settings
from reverie.core.retrieve.options import RetrievalOptions
from reverie.core.retrieve.search import Searcher
from reverie.models import default_embedder
from reverie.models.base import Embedder

OFF = RetrievalOptions(tuned_fusion=False, context=False, time=False, people=False,
                       priors=False, recency=False)
WAYS = {"reverie": RetrievalOptions(), "plain RRF": OFF}
WARM = 10
K = 10
# Queries that name a person or a period, as a user's would, beside the corpus's own.
EXTRA = ("what did Maya say about the trip last May?", "where did I go in 2024?",
         "what do I know about Sam recently?")


class QueryEmbedder:
    """MiniLM embeds the query; the store keeps the stand-in model's name, so stored
    vectors (the turn-context share reads them by model name) are found."""

    def __init__(self, real: Embedder, stored_name: str) -> None:
        self._real = real
        self.name = stored_name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The bundled model's vectors for `texts`."""
        return self._real.embed(texts)


def build(size: int, workdir: Path) -> ReverieSystem:
    """A reopened store holding `size` synthetic memories."""
    corpus = Corpus(size)
    system = ReverieSystem(corpus, workdir)
    for index in range(corpus.batch_count):
        system.write(corpus.batch(index))
    system.reopen()
    return system


def time_size(size: int, workdir: Path, queries: int) -> dict[str, dict[str, float]]:
    """p50/p95 ms of each way at one size."""
    system = build(size, workdir)
    try:
        store = system.store
        embedder = QueryEmbedder(default_embedder(), store.embedding_model)
        searcher = Searcher(store, embedder, Settings())  # type: ignore[arg-type]
        texts = [*EXTRA, *Corpus(size).queries(queries)][:queries]
        elapsed: dict[str, list[float]] = {name: [] for name in WAYS}
        for i, text in enumerate(texts):
            for name, options in WAYS.items():
                began = time.perf_counter()
                searcher.search(text, k=K, options=options)
                if i >= WARM:
                    elapsed[name].append(1000 * (time.perf_counter() - began))
        return {name: _percentiles(values) for name, values in elapsed.items()}
    finally:
        system.close()


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": statistics.median(ordered),
            "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}


def report(results: dict[int, dict[str, dict[str, float]]]) -> str:
    """A Markdown table: p50/p95 per way and size, and reverie / plain RRF."""
    lines = [f"Search latency, {date.today().isoformat()}, k = {K}, query embedding included",
             "", "| memories | way | p50 ms | p95 ms |", "|---|---|---|---|"]
    for size, ways in results.items():
        for name, figures in ways.items():
            lines.append(f"| {size:,} | {name} | {figures['p50_ms']:.1f} | "
                         f"{figures['p95_ms']:.1f} |")
        base, full = ways["plain RRF"], ways["reverie"]
        lines.append(f"| {size:,} | ratio | {full['p50_ms'] / base['p50_ms']:.2f} | "
                     f"{full['p95_ms'] / base['p95_ms']:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Build, time, print (and write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="reverie-latency-") as tmp:
            results[size] = time_size(size, Path(tmp), args.queries)
        print(f"{size}: {results[size]}", flush=True)
    table = report(results)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=1),
                                                 encoding="utf-8")


if __name__ == "__main__":
    main()
