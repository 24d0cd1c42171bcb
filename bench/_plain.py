"""The baselines of the store benchmark: plain SQLite and plain Chroma, used directly.

`PlainLedger` is what one would write without Reverie's ledger: the standard library's
sqlite3, unencrypted, one memories table with the same columns and the same timeline
indexes, the same FTS5 table (same tokenizer) and the same vectors table, in WAL mode
with `synchronous = FULL` (the ledger's durability). It leaves out what the ledger adds
for trust: encryption, provenance and history rows, the index outbox, the per-day
count triggers and secure delete. Its day list is a GROUP BY over the memories, as
there is no counts table.

`PlainIndex` is a Chroma collection with the ledger's index settings (cosine HNSW, the
same metadata), written with its own `add` and read with its own `query`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench._synthetic import SyntheticMemory
from reverie.core.retrieve.keyword import fts_query
from reverie.core.timeutil import day_of, to_ts

VISIBLE = ("active", "superseded")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    about TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_from_ts REAL NOT NULL,
    day TEXT NOT NULL,
    recorded TEXT NOT NULL,
    status TEXT NOT NULL,
    confidence REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_by_day ON memories (day, valid_from_ts);
CREATE INDEX IF NOT EXISTS memories_by_kind ON memories (kind, day, valid_from_ts);
CREATE INDEX IF NOT EXISTS memories_by_about ON memories (about COLLATE NOCASE, day, valid_from_ts);
CREATE INDEX IF NOT EXISTS memories_by_status ON memories (status, day);
CREATE TABLE IF NOT EXISTS vectors (
    item_id TEXT NOT NULL,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (item_id, model)
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    text, item_id UNINDEXED, kind UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


class PlainLedger:
    """Memories in an unencrypted SQLite file, written and read with plain SQL."""

    def __init__(self, path: Path, model: str) -> None:
        self._model = model
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.executescript(_SCHEMA)

    def write(self, memories: Sequence[SyntheticMemory], vectors: np.ndarray, at: str) -> None:
        """Write one batch of memories, their FTS rows and vectors in one transaction."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO memories (id, kind, text, about, valid_from, valid_from_ts, day,"
                " recorded, status, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', 0.7)",
                [_memory_row(m, at) for m in memories],
            )
            conn.executemany(
                "INSERT INTO fts (text, item_id, kind) VALUES (?, ?, 'memory')",
                [(m.text, m.id) for m in memories],
            )
            conn.executemany(
                "INSERT INTO vectors (item_id, model, vector) VALUES (?, ?, ?)",
                [(m.id, self._model, v.tobytes()) for m, v in zip(memories, vectors, strict=True)],
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def keyword(self, query: str, limit: int) -> list[str]:
        """Ids of the best BM25 matches, with the product's MATCH expression."""
        match = fts_query(query)
        if match is None:
            return []
        rows = self._conn.execute(
            "SELECT item_id FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?",
            (match, limit),
        ).fetchall()
        return [row[0] for row in rows]

    def rows_by_id(self, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """The memories with these ids (id, kind, text, time), as search shows them."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT id, kind, text, valid_from FROM memories WHERE id IN ({marks})", list(ids)
        ).fetchall()
        return {row[0]: tuple(row) for row in rows}

    def days(self, offset: int, limit: int) -> list[tuple[str, int]]:
        """Days holding visible memories, newest first, with their counts."""
        rows = self._conn.execute(
            "SELECT day, COUNT(*) FROM memories WHERE status IN (?, ?)"
            " GROUP BY day ORDER BY day DESC LIMIT ? OFFSET ?",
            (*VISIBLE, limit, offset),
        ).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def page(self, day: str, offset: int, limit: int, kind: str | None = None) -> list[Any]:
        """One page of a day's visible memories, newest first; optionally of one kind."""
        kind_filter = " AND kind = ?" if kind else ""
        return self._conn.execute(
            "SELECT id, kind, text, valid_from, valid_from_ts, status FROM memories"
            f" WHERE day = ? AND status IN (?, ?){kind_filter}"
            " ORDER BY valid_from_ts DESC, seq DESC LIMIT ? OFFSET ?",
            (day, *VISIBLE, *([kind] if kind else []), limit, offset),
        ).fetchall()

    def count(self) -> int:
        """How many memories the file holds."""
        return int(self._conn.execute("SELECT COUNT(*) FROM memories").fetchone()[0])

    def close(self) -> None:
        """Checkpoint and close, as the ledger does."""
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()


def _memory_row(memory: SyntheticMemory, at: str) -> tuple[Any, ...]:
    return (
        memory.id, memory.kind.value, memory.text, memory.about, memory.time.isoformat(),
        to_ts(memory.time), day_of(memory.time), at,
    )


class PlainIndex:
    """A Chroma collection used directly: `add` to write, `query` to search."""

    def __init__(self, path: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self._collection = self._client.get_or_create_collection(
            name="plain", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def add(self, memories: Sequence[SyntheticMemory], vectors: np.ndarray) -> None:
        """Add a batch with the metadata the product's index keeps (kind, time)."""
        self._collection.add(
            ids=[m.id for m in memories],
            embeddings=vectors,
            metadatas=[{"kind": "memory", "ts": to_ts(m.time)} for m in memories],
        )

    def nearest(self, vector: np.ndarray, n: int) -> list[str]:
        """Ids of the `n` nearest vectors."""
        result = self._collection.query(
            query_embeddings=vector.reshape(1, -1), n_results=n, include=["distances"]
        )
        return list(result["ids"][0])

    def count(self) -> int:
        """How many vectors the collection holds."""
        return int(self._collection.count())

    def close(self) -> None:
        """Release Chroma's files and threads."""
        close = getattr(self._client, "close", None)
        if close is not None:
            close()
