"""Stores for the desktop benchmarks: synthetic memories over years, built once and kept.

`build_store` writes a `Corpus`-like set of memories (bench/_synthetic.py: the same
template sentences, kinds and people) spread over `years` of days straight into the
product's ledger with core's own record writers (one transaction per session of
memories with provenance, history, FTS and day counts, as extraction writes). Vectors
are written only when an embedder is given: the timeline reads never touch the index,
so the million-memory store goes without (its Chroma index stays empty, and the
store's count-based reconcile agrees: no vectors in the ledger, none in the index).

A finished build leaves `built.json` beside the store; `cached_store` reuses a store
whose note matches and rebuilds one that does not (or that a killed build left half
written).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench._synthetic import DIM, LAST_DAY, Batch, Corpus, normalise
from bench._systems import SOURCES, new_episode, new_memories
from reverie.core.store import records
from reverie.core.store.keys import Unlocker
from reverie.core.store.store import Store
from reverie.core.types import Actor
from reverie.models.base import Embedder

NOTE = "built.json"
Progress = Callable[[int, int], None]


class YearsCorpus(Corpus):
    """`Corpus` with its sessions spread over `years` of days instead of three."""

    def __init__(self, size: int, years: float, batch_size: int = 100, seed: int = 2026) -> None:
        self.span_days = round(365.25 * years)
        super().__init__(size, batch_size, seed)

    def _draw_batch_days(self) -> np.ndarray:
        # As Corpus draws them (gamma-weighted days, busier weekends), over more days.
        rng = np.random.default_rng([self.seed, 0])
        weights = rng.gamma(2.0, 1.0, self.span_days)
        weekday = np.array(
            [(LAST_DAY - timedelta(days=i)).weekday() for i in range(self.span_days)])
        weights[weekday >= 5] *= 1.6
        weights /= weights.sum()
        return rng.choice(self.span_days, size=self.batch_count, p=weights)

    def memories_only(self, index: int) -> Batch:
        """Batch `index`'s memories as `batch` draws them, without computing vectors."""
        rng = np.random.default_rng([self.seed, 1, index])
        episode = self.episode(index)
        count = min(self.batch_size, self.size - index * self.batch_size)
        memories = tuple(self._memory(rng, index, i, episode.time) for i in range(count))
        return Batch(index=index, episode=episode, memories=memories,
                     vectors=np.zeros((0, DIM), dtype=np.float32))


@dataclass(frozen=True)
class StoreNote:
    """What a kept store holds; a store is reused only when its note matches."""

    size: int
    years: float
    batch_size: int
    seed: int
    embedding_model: str
    vectors: bool
    build_seconds: float = 0.0

    def same_data(self, other: StoreNote) -> bool:
        """True when both notes describe the same memories (build time aside)."""
        return asdict(self) | {"build_seconds": 0} == asdict(other) | {"build_seconds": 0}


def build_store(
    directory: Path, corpus: YearsCorpus, unlocker: Unlocker, model_name: str, *,
    embedder: Embedder | None = None, progress: Progress | None = None,
) -> float:
    """Write `corpus` into a new store at `directory`; return the seconds it took.

    With `embedder` every memory also gets its vector (and the index is synced), so
    the app finds a store whose index matches its own embedder.
    """
    started = time.perf_counter()
    store = Store(directory, model_name, unlocker)
    try:
        with store.ledger.transaction() as conn:
            for source in SOURCES:
                records.ensure_source(conn, source, "chat", source, "user-import")
        for first in range(0, corpus.batch_count, 50):
            last = min(first + 50, corpus.batch_count)
            with store.ledger.transaction() as conn:
                for index in range(first, last):
                    _write_batch(conn, corpus, index, model_name, embedder)
            if embedder is not None:
                store.sync_index()
            if progress is not None:
                progress(min(last * corpus.batch_size, corpus.size), corpus.size)
    finally:
        store.close()
    return time.perf_counter() - started


def _write_batch(conn: object, corpus: YearsCorpus, index: int, model_name: str,
                 embedder: Embedder | None) -> None:
    episode = corpus.episode(index)
    records.insert_episode(conn, SOURCES[index % len(SOURCES)], new_episode(episode))
    batch = corpus.memories_only(index)
    memories = new_memories(batch)
    for memory in memories:
        records.insert_memory(conn, memory, f"bench-{index}", Actor.EXTRACTOR)
    if embedder is not None:
        vectors = normalise(embedder.embed([m.text for m in memories]))
        for memory, vector in zip(memories, vectors, strict=True):
            records.store_vector(conn, memory.id, model_name, vector)


def cached_store(
    directory: Path, note: StoreNote, unlocker: Unlocker, embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> tuple[StoreNote, bool]:
    """The store at `directory` as `note` describes it, built unless already there.

    Returns the note (with the build time of whoever built it) and whether it was
    reused. A folder without a matching note is removed and built again.
    """
    kept = directory / NOTE
    if kept.exists():
        old = StoreNote(**json.loads(kept.read_text(encoding="utf-8")))
        if old.same_data(note):
            return old, True
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    corpus = YearsCorpus(note.size, note.years, note.batch_size, note.seed)
    seconds = build_store(directory, corpus, unlocker, note.embedding_model,
                          embedder=embedder if note.vectors else None, progress=progress)
    built = StoreNote(**(asdict(note) | {"build_seconds": round(seconds, 1)}))
    kept.write_text(json.dumps(asdict(built), indent=1), encoding="utf-8")
    return built, False
