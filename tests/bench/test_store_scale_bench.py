"""The store-at-scale benchmark runs end to end at a tiny size, so the suite stays quick."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bench import _systems, store_scale
from bench._synthetic import DAYS, LAST_DAY, Corpus

SIZE = 500
QUERIES = 20


def test_corpus_is_the_same_in_every_process_and_realistic() -> None:
    corpus = Corpus(SIZE, batch_size=100)
    first, again = corpus.batch(3), Corpus(SIZE, batch_size=100).batch(3)
    assert first.memories == again.memories
    assert np.array_equal(first.vectors, again.vectors)
    batches = list(corpus.batches())
    assert sum(len(b.memories) for b in batches) == SIZE
    vectors = np.concatenate([b.vectors for b in batches])
    assert vectors.shape == (SIZE, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    memories = [m for b in batches for m in b.memories]
    assert len({m.id for m in memories}) == SIZE
    assert len({m.kind for m in memories}) >= 4
    assert len({m.about for m in memories}) >= 10
    # A batch is one session: all its memories fall on its episode's day.
    assert all(m.time.date() == b.episode.time.date() for b in batches for m in b.memories)
    assert all(0 <= (LAST_DAY - m.time.date()).days < DAYS for m in memories)


def test_benchmark_reports_every_figure_with_matching_counts(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    store_scale.main([
        "--sizes", str(SIZE), "--queries", str(QUERIES), "--in-process",
        "--workdir", str(tmp_path), "--out", str(out),
    ])
    report = json.loads(out.read_text(encoding="utf-8"))
    [result] = report["sizes"]
    assert result["size"] == SIZE
    for system in store_scale.SYSTEMS:
        figures = result[system]
        # Everything written is in the ledger and in the index.
        assert figures["counts"] == {"ledger": SIZE, "index": SIZE}
        assert figures["write"]["per_s"] > 0
        assert figures["index"]["per_s"] > 0
        assert set(figures["reads"]) == set(_systems.READS)
        for read in figures["reads"].values():
            assert read["n"] == QUERIES
            assert 0 < read["p50_ms"] <= read["p95_ms"]
        assert figures["reads"]["vector"]["mean_rows"] == _systems.DEPTH
        assert figures["reads"]["fused"]["mean_rows"] == _systems.HITS
        assert 0 < figures["reads"]["page"]["mean_rows"] <= _systems.PAGE
        assert figures["peak_rss_mib"] > 0
        assert figures["disk_mib"] > 0
    assert all(math.isfinite(r) and r > 0 for r in result["ratio"].values())
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert all(f"| {figure.label} |" in table for figure in store_scale.FIGURES)
    # The stores were built under the work folder and removed after.
    assert not any(p.name.startswith("reverie-scale-") for p in tmp_path.iterdir())
