"""The two systems the store benchmark compares, behind one small interface.

- `ReverieSystem`: the product's store (`Store`: SQLCipher ledger + Chroma index),
  written as extraction writes (one transaction per batch with provenance, history,
  FTS and the vector, then `sync_index`) and read with the product's own functions.
- `PlainSystem`: plain sqlite3 and plain Chroma doing the same work (bench/_plain.py).

Each builds from the same `Corpus`, reopens as an app would at start-up, and hands out
its reads as lists of zero-argument calls, so the driver times both the same way.
"""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Callable, Sized
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from bench._plain import PlainIndex, PlainLedger
from bench._synthetic import BagOfWordsEmbedder, Batch, Corpus, SyntheticEpisode
from reverie.core.config import Settings
from reverie.core.retrieve.fusion import reciprocal_rank_fusion
from reverie.core.retrieve.keyword import keyword_search
from reverie.core.retrieve.search import Searcher
from reverie.core.store import queries, records
from reverie.core.store.keys import Unlocker
from reverie.core.store.records import NewEpisode, NewMemory
from reverie.core.store.store import Store
from reverie.core.types import Actor

DEPTH = Settings().candidates_per_list  # candidates per list, as the product asks for
HITS = 10  # what a search shows
DAYS_SHOWN = 60  # the timeline's first screenful of days
PAGE = 200  # rows per timeline page
SOURCES = ("bench-chat-a", "bench-chat-b", "bench-notes")
READS = ("keyword", "vector", "fused", "days", "page", "page_kind")

Call = Callable[[], Sized]


class System(Protocol):
    """What the driver needs of a system under test."""

    def write(self, batch: Batch) -> tuple[float, float]:
        """Write one batch; return (ms for the ledger, ms for the vector index)."""
        ...

    def reopen(self) -> float:
        """Close and open again as at start-up, ready to answer; return the seconds."""
        ...

    def reads(self, count: int) -> dict[str, list[Call]]:
        """`count` calls of each read in `READS`."""
        ...

    def counts(self) -> dict[str, int]:
        """How many memories the ledger and the index hold."""
        ...

    def disk_mib(self) -> float:
        """What the system's files take on disk."""
        ...

    def close(self) -> None:
        """Release every file."""
        ...


class MemoryKeyring:
    """Holds the ledger's random key for the run: no OS keyring, and no scrypt per open."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        """The stored secret, or None."""
        return self._entries.get((service, user))

    def set_password(self, service: str, user: str, secret: str) -> None:
        """Keep a secret."""
        self._entries[(service, user)] = secret

    def delete_password(self, service: str, user: str) -> None:
        """Drop a secret."""
        self._entries.pop((service, user), None)


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mib(*paths: Path) -> float:
    """Bytes in the files at or under `paths`, in MiB."""
    total = 0
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        total += sum(p.stat().st_size for p in files)
    return total / 2**20


def read_inputs(corpus: Corpus, count: int) -> tuple[list[str], Any, list[str], list[str]]:
    """Query texts, their vectors, days and kinds: the same for both systems."""
    texts = corpus.queries(count)
    return (texts, corpus.embedder.embed(texts), corpus.sample_days(count),
            corpus.sample_kinds(count))


def new_episode(episode: SyntheticEpisode) -> NewEpisode:
    """A synthetic turn as the importer hands it to the ledger."""
    digest = hashlib.sha256(episode.text.encode()).hexdigest()
    return NewEpisode(
        id=episode.id, locator=episode.id, speaker="me", text=episode.text,
        time=episode.time, text_sha256=digest,
    )


def new_memories(batch: Batch) -> list[NewMemory]:
    """The batch's memories as extraction hands them to the ledger."""
    return [
        NewMemory(
            id=m.id, kind=m.kind, text=m.text, about=m.about, valid_from=m.time,
            confidence=0.7, trust="extracted", episode_ids=(batch.episode.id,),
        )
        for m in batch.memories
    ]


class ReverieSystem:
    """The product's store, written and read through core's own functions."""

    def __init__(self, corpus: Corpus, workdir: Path) -> None:
        self._corpus = corpus
        self._dir = workdir / "reverie"
        self._unlocker = Unlocker(MemoryKeyring(), None)
        self._store = Store(self._dir, corpus.embedder.name, self._unlocker)
        self._write_episodes()

    @property
    def store(self) -> Store:
        """The product's store, for benchmarks that drive it further."""
        return self._store

    def _write_episodes(self) -> None:
        # The turns the memories cite, one per batch, written before anything is timed.
        with self._store.ledger.transaction() as conn:
            for source in SOURCES:
                records.ensure_source(conn, source, "chat", source, "user-import")
        count = self._corpus.batch_count
        for start in range(0, count, 1000):
            with self._store.ledger.transaction() as conn:
                for index in range(start, min(start + 1000, count)):
                    episode = new_episode(self._corpus.episode(index))
                    records.insert_episode(conn, SOURCES[index % len(SOURCES)], episode)
        self._store.sync_index()  # the episodes carry no vector: this clears the outbox

    def write(self, batch: Batch) -> tuple[float, float]:
        """One extraction-sized transaction, then the index sync that follows it."""
        memories = new_memories(batch)
        model = self._corpus.embedder.name
        t0 = time.perf_counter()
        with self._store.ledger.transaction() as conn:
            for memory, vector in zip(memories, batch.vectors, strict=True):
                records.insert_memory(conn, memory, f"bench-{batch.index}", Actor.EXTRACTOR)
                records.store_vector(conn, memory.id, model, vector)
        t1 = time.perf_counter()
        self._store.sync_index()
        t2 = time.perf_counter()
        return 1000 * (t1 - t0), 1000 * (t2 - t1)

    def reopen(self) -> float:
        """As the app opens it (compose.open_reverie): lock, key, ledger, index, reconcile."""
        self._store.close()
        started = time.perf_counter()
        self._store = Store(self._dir, self._corpus.embedder.name, self._unlocker)
        self._store.reconcile()
        return time.perf_counter() - started

    def reads(self, count: int) -> dict[str, list[Call]]:
        """The product's keyword, vector and fused search and its timeline reads."""
        texts, vectors, days, kinds = read_inputs(self._corpus, count)
        store, ledger = self._store, self._store.ledger
        searcher = Searcher(store, self._corpus.embedder, Settings())
        return {
            "keyword": [partial(keyword_search, ledger, q, DEPTH) for q in texts],
            "vector": [partial(store.index.nearest, v, DEPTH) for v in vectors],
            "fused": [partial(searcher.search, q, HITS) for q in texts],
            "days": [partial(queries.timeline_days, ledger, 0, DAYS_SHOWN)] * count,
            "page": [partial(queries.timeline_page, ledger, d, 0, PAGE) for d in days],
            "page_kind": [
                partial(queries.timeline_page, ledger, d, 0, PAGE, kind=k)
                for d, k in zip(days, kinds, strict=True)
            ],
        }

    def counts(self) -> dict[str, int]:
        """Memories in the ledger and items in the index (episodes have no vector)."""
        return {"ledger": queries.counts(self._store.ledger)["memories"],
                "index": self._store.index.count()}

    def disk_mib(self) -> float:
        """The data directory: ledger, WAL and index."""
        return disk_mib(self._dir)

    def close(self) -> None:
        """Close the store (safe twice)."""
        self._store.close()


class PlainSystem:
    """An unencrypted sqlite3 file and a Chroma collection, used directly."""

    def __init__(self, corpus: Corpus, workdir: Path) -> None:
        self._corpus = corpus
        self._db = workdir / "plain.db"
        self._chroma = workdir / "plain-chroma"
        self._ledger = PlainLedger(self._db, corpus.embedder.name)
        self._index = PlainIndex(self._chroma)
        self._closed = False

    def write(self, batch: Batch) -> tuple[float, float]:
        """One transaction in SQLite, then Chroma's own `add` of the same batch."""
        at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        t0 = time.perf_counter()
        self._ledger.write(batch.memories, batch.vectors, at)
        t1 = time.perf_counter()
        self._index.add(batch.memories, batch.vectors)
        t2 = time.perf_counter()
        return 1000 * (t1 - t0), 1000 * (t2 - t1)

    def reopen(self) -> float:
        """Connect again and run one vector query, since Chroma loads its index lazily."""
        self.close()
        started = time.perf_counter()
        self._ledger = PlainLedger(self._db, self._corpus.embedder.name)
        self._index = PlainIndex(self._chroma)
        self._closed = False
        self._index.nearest(self._corpus.embedder.embed(["open"])[0], 1)
        return time.perf_counter() - started

    def reads(self, count: int) -> dict[str, list[Call]]:
        """The same reads as `ReverieSystem.reads`, done directly on SQLite and Chroma."""
        texts, vectors, days, kinds = read_inputs(self._corpus, count)
        ledger, index = self._ledger, self._index
        return {
            "keyword": [partial(ledger.keyword, q, DEPTH) for q in texts],
            "vector": [partial(index.nearest, v, DEPTH) for v in vectors],
            "fused": [partial(plain_search, ledger, index, self._corpus.embedder, q)
                      for q in texts],
            "days": [partial(ledger.days, 0, DAYS_SHOWN)] * count,
            "page": [partial(ledger.page, d, 0, PAGE) for d in days],
            "page_kind": [
                partial(ledger.page, d, 0, PAGE, k) for d, k in zip(days, kinds, strict=True)
            ],
        }

    def counts(self) -> dict[str, int]:
        """Rows in the SQLite file and vectors in the collection."""
        return {"ledger": self._ledger.count(), "index": self._index.count()}

    def disk_mib(self) -> float:
        """The SQLite file (with its WAL) and the Chroma folder."""
        return disk_mib(*self._db.parent.glob("plain.db*"), self._chroma)

    def close(self) -> None:
        """Close both (safe twice)."""
        if not self._closed:
            self._closed = True
            self._ledger.close()
            self._index.close()


def plain_search(
    ledger: PlainLedger, index: PlainIndex, embedder: BagOfWordsEmbedder, query: str
) -> list[tuple[Any, ...]]:
    """The hybrid search done by hand: FTS5 and Chroma lists, fused, rows fetched."""
    lexical = ledger.keyword(query, DEPTH)
    dense = index.nearest(embedder.embed([query])[0], DEPTH)
    fused = [item_id for item_id, _ in reciprocal_rank_fusion([lexical, dense])]
    rows = ledger.rows_by_id(fused)
    return [rows[item_id] for item_id in fused if item_id in rows][:HITS]


SYSTEMS: dict[str, Callable[[Corpus, Path], System]] = {
    "reverie": ReverieSystem, "plain": PlainSystem,
}
