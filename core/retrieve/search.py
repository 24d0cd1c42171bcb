"""Hybrid retrieval: BM25 and dense candidates fused by reciprocal rank."""

from __future__ import annotations

import logging
from datetime import datetime

from reverie.core.config import Settings
from reverie.core.errors import BadInput
from reverie.core.retrieve.fusion import reciprocal_rank_fusion
from reverie.core.retrieve.keyword import keyword_search
from reverie.core.store.queries import items_by_id
from reverie.core.store.store import Store
from reverie.core.timeutil import to_ts
from reverie.core.types import Hit, ItemKind, MemoryStatus
from reverie.models.base import Embedder

log = logging.getLogger("reverie.retrieve")

MAX_K = 1000


class Searcher:
    """Answers queries over episodes and memories."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings) -> None:
        self._store = store
        self._embedder = embedder
        self._settings = settings

    def search(self, query: str, k: int = 10, as_of: datetime | None = None) -> list[Hit]:
        """The `k` best hits for `query`; with `as_of`, only what had happened by then."""
        if not query.strip():
            raise BadInput("the query is empty")
        if not 1 <= k <= MAX_K:
            raise BadInput(f"k must be between 1 and {MAX_K}, not {k}")
        max_ts = to_ts(as_of) if as_of is not None else None
        pool = max(self._settings.candidates_per_list, 3 * k)
        lexical = keyword_search(self._store.ledger, query, pool)
        vector = self._embedder.embed([query])[0]
        dense = [item_id for item_id, _ in self._store.index.nearest(vector, pool, max_ts=max_ts)]
        fused = reciprocal_rank_fusion([lexical, dense], k=self._settings.rrf_k)
        records = items_by_id(self._store.ledger, [item_id for item_id, _ in fused])
        hits: list[Hit] = []
        for item_id, score in fused:
            record = records.get(item_id)
            if record is None or (max_ts is not None and record.ts > max_ts):
                continue
            if record.status == MemoryStatus.ARCHIVED:
                continue  # kept for undo and the archive view, not for answers
            hits.append(
                Hit(
                    id=record.id, kind=record.kind, text=record.text, score=score,
                    time=record.time, sources=record.sources,
                    speaker=record.label if record.kind is ItemKind.EPISODE else None,
                )
            )
            if len(hits) == k:
                break
        return hits
