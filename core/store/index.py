"""The vector index: a Chroma collection derived from the ledger.

It holds ids, vectors and the few metadata fields search filters on (kind, time), and
never any text. One collection per embedding model, so changing the embedder never
mixes vectors of two spaces.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reverie.core.native_imports import native_import

log = logging.getLogger("reverie.index")


@dataclass(frozen=True)
class IndexEntry:
    """What the index keeps of one item."""

    item_id: str
    kind: str
    ts: float


class VectorIndex:
    """Nearest-neighbour search over item vectors, backed by a Chroma PersistentClient."""

    def __init__(self, path: Path, model: str) -> None:
        with native_import():
            import chromadb
            from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        self.model = model
        """The embedding model whose vectors the index holds."""
        try:
            self._client = chromadb.PersistentClient(
                path=str(path),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )
            self._collection = self._client.get_or_create_collection(
                name=_collection_name(model),
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception:
            _drop_cached_system(path)
            raise

    def probe(self, item_id: str, vector: np.ndarray) -> bool:
        """True when searching with an item's own vector finds that item first.

        A damaged HNSW file may still answer `count`; this catches that.
        """
        found = self.nearest(vector, 1)
        # Items with identical text share a vector: any exact match will do.
        return bool(found) and (found[0][0] == item_id or found[0][1] < 1e-4)

    def close(self) -> None:
        """Release Chroma's files and threads; the index is unusable afterwards."""
        # PersistentClient has close(); the ClientAPI protocol it is typed as does not.
        close = getattr(self._client, "close", None)
        if close is not None:
            close()

    def upsert(self, entries: Sequence[IndexEntry], vectors: np.ndarray) -> None:
        """Add or replace items and their vectors."""
        if not entries:
            return
        self._collection.upsert(
            ids=[e.item_id for e in entries],
            embeddings=np.asarray(vectors, dtype=np.float32),
            metadatas=[{"kind": e.kind, "ts": e.ts} for e in entries],
        )

    def delete(self, item_ids: Sequence[str]) -> None:
        """Remove items; unknown ids are ignored."""
        if item_ids:
            self._collection.delete(ids=list(item_ids))

    def contains(self, item_id: str) -> bool:
        """Whether the index holds `item_id`."""
        return bool(self._collection.get(ids=[item_id], include=[])["ids"])

    def ids(self) -> set[str]:
        """Every id in the index."""
        return set(self._collection.get(include=[])["ids"])

    def count(self) -> int:
        """How many items the index holds."""
        return int(self._collection.count())

    def nearest(
        self, vector: np.ndarray, n: int, *, max_ts: float | None = None,
        kind: str | None = None, span: tuple[float, float] | None = None,
        model: str | None = None,
    ) -> list[tuple[str, float]]:
        """The `n` nearest items as (id, cosine distance), optionally only up to `max_ts`,
        only of one `kind` ("episode", "memory") and only in `span` ([start, end) ts).

        `model` names the model `vector` came from: when it is not this index's (a
        re-embedding switched indexes in between) nothing is found, rather than
        comparing vectors of two spaces.
        """
        if model is not None and model != self.model:
            return []
        # Chroma returns fewer than n (none when empty) without complaint, so no count
        # first: that would double the cost of every search.
        filters: list[Any] = []
        if max_ts is not None:
            filters.append({"ts": {"$lte": max_ts}})
        if kind is not None:
            filters.append({"kind": kind})
        if span is not None:
            filters += [{"ts": {"$gte": span[0]}}, {"ts": {"$lt": span[1]}}]
        where: Any = None if not filters else filters[0] if len(filters) == 1 else {
            "$and": filters}
        result = self._collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=n,
            where=where,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [(item_id, float(d)) for item_id, d in zip(ids, distances, strict=True)]


def _drop_cached_system(path: Path) -> None:
    # Chroma caches one System per folder, even one that failed to start; a rebuilt
    # index in the same folder would get the broken one back. Its cache is private,
    # hence the care.
    from chromadb.api.shared_system_client import SharedSystemClient

    cache = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(cache, dict):
        cache.pop(str(path), None)


def _collection_name(model: str) -> str:
    # Chroma names allow [a-zA-Z0-9._-], 3-512 characters.
    return "items-" + re.sub(r"[^a-zA-Z0-9._-]", "-", model)[:200]
