"""Hybrid retrieval over episodes, memories and summaries.

1. The query is planned: the periods and people it names (query.py).
2. Candidates: BM25 and dense lists for episodes (each turn also matched through the
   turn before it) and, with a lighter vote, for memories; with hard time filters the
   lists are drawn from that span only.
3. Weighted reciprocal-rank fusion, then priors (person, period, status, importance,
   recency) multiply the fused score.
4. Hard filters drop what they exclude; results are grouped by provenance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from reverie.core.config import Settings
from reverie.core.embedding import pinned
from reverie.core.errors import BadInput
from reverie.core.retrieve.dense import dense_search, is_memory_id, with_turn_context
from reverie.core.retrieve.fusion import reciprocal_rank_fusion
from reverie.core.retrieve.grouping import group_by_provenance
from reverie.core.retrieve.keyword import keyword_search
from reverie.core.retrieve.options import RetrievalOptions, SearchFilters
from reverie.core.retrieve.priors import (
    PriorWeights,
    period_factor,
    person_factor,
    recency_factor,
    status_factor,
)
from reverie.core.retrieve.query import KnownPeople, QueryPlan, plan_query
from reverie.core.store.queries import ItemRecord, items_by_id
from reverie.core.store.store import Store
from reverie.core.timeutil import to_ts
from reverie.core.types import Hit, ItemKind, MemoryStatus
from reverie.models.base import Embedder

log = logging.getLogger("reverie.retrieve")

MAX_K = 1000
CLASSIC_RRF_K = 60
FILTERED_POOL_FACTOR = 4  # hard filters drop candidates afterwards: draw more


@dataclass(frozen=True)
class _Lists:
    rankings: list[list[str]]
    weights: list[float]


class Searcher:
    """Answers queries over episodes, memories and summaries."""

    def __init__(
        self, store: Store, embedder: Embedder, settings: Settings,
        options: RetrievalOptions | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._settings = settings
        self._options = options or RetrievalOptions()
        self._people = KnownPeople(store.ledger)
        self._weights = PriorWeights(
            person=settings.person_boost, period=settings.period_boost,
            period_slack_days=settings.period_slack_days,
            superseded=settings.superseded_factor, archived=settings.archived_factor,
            recency=settings.recency_boost,
            recency_half_life_days=settings.recency_half_life_days,
        )

    def plan(self, query: str, as_of: datetime | None = None) -> QueryPlan:
        """The periods and people `query` names, as search would read them."""
        return self._plan(query, as_of, self._options)

    def _plan(self, query: str, as_of: datetime | None, options: RetrievalOptions) -> QueryPlan:
        names = self._people.names() if options.people else frozenset()
        return plan_query(query, _moment(as_of), names, time=options.time,
                          people=options.people)

    def search(
        self,
        query: str,
        k: int = 10,
        as_of: datetime | None = None,
        filters: SearchFilters | None = None,
        options: RetrievalOptions | None = None,
    ) -> list[Hit]:
        """The `k` best hits for `query`.

        With `as_of`, only what had happened by then, and relative times in the query
        ("last May") are read from that moment. `filters` are hard limits; `options`
        switch parts of retrieval off (default: the searcher's own).
        """
        if not query.strip():
            raise BadInput("the query is empty")
        if not 1 <= k <= MAX_K:
            raise BadInput(f"k must be between 1 and {MAX_K}, not {k}")
        options = options or self._options
        filters = filters or SearchFilters()
        plan = self._plan(query, as_of, options)
        max_ts = to_ts(as_of) if as_of is not None else None
        model = pinned(self._embedder)
        vector = model.embed([query])[0]
        lists = self._candidates(plan, vector, k=k, max_ts=max_ts, filters=filters,
                                 options=options, model=model.name)
        rrf_k = self._settings.rrf_k if options.tuned_fusion else CLASSIC_RRF_K
        fused = reciprocal_rank_fusion(lists.rankings, k=rrf_k, weights=lists.weights)
        records = items_by_id(self._store.ledger, [item_id for item_id, _ in fused])
        now_ts = max_ts if max_ts is not None else to_ts(_moment(None))
        scored = [
            (record, score * self._vote(record, options) * self._prior(record, plan, now_ts,
                                                                     options))
            for item_id, score in fused
            if (record := records.get(item_id)) is not None
            and _admitted(record, max_ts, filters, options)
        ]
        return [
            _hit(group.head, group.score, group.related)
            for group in group_by_provenance(scored)[:k]
        ]

    def _candidates(
        self, plan: QueryPlan, vector: np.ndarray, *, k: int, max_ts: float | None,
        filters: SearchFilters, options: RetrievalOptions, model: str,
    ) -> _Lists:
        pool = max(self._settings.candidates_per_list, 3 * k)
        if filters.people or filters.sources or filters.kinds is not None:
            pool *= FILTERED_POOL_FACTOR
        span = _span(filters)
        context = self._settings.context_weight if options.context else 0.0
        ledger = self._store.ledger
        nearest = dense_search(self._store, vector, 2 * pool, max_ts=max_ts, span=span,
                               model=model)
        dense_episodes = [pair for pair in nearest if not is_memory_id(pair[0])][:pool]
        dense_memories = [pair for pair in nearest if is_memory_id(pair[0])][:pool]
        if options.context:
            dense_episodes = with_turn_context(
                ledger, self._embedder.name, vector, dense_episodes,
                self._settings.context_share,
            )
        if not options.tuned_fusion:
            lexical = keyword_search(ledger, plan.text, pool, context_weight=context,
                                     span=span)
            return _Lists([_ids(lexical), _ids(nearest[:pool])], [1.0, 1.0])
        rankings = [
            _ids(keyword_search(ledger, plan.text, pool, kind="episode",
                                context_weight=context, span=span)),
            _ids(dense_episodes),
        ]
        weights = [1.0, 1.0]
        if options.memories or options.summaries:
            rankings += [
                _ids(keyword_search(ledger, plan.text, pool, kind="memory", span=span)),
                _ids(dense_memories),
            ]
            # Weighted per memory after fusion (_vote): only memories lists rank them.
            weights += [1.0, 1.0]
        return _Lists(rankings, weights)

    def _vote(self, record: ItemRecord, options: RetrievalOptions) -> float:
        """A memory restating turns (it cites them) gets a lighter vote than the turns:
        on its own it adds little but crowds them out. One that stands alone (the user
        wrote it) counts fully."""
        if not options.tuned_fusion or record.kind is ItemKind.EPISODE or not record.sources:
            return 1.0
        return self._settings.memory_list_weight

    def _prior(
        self, record: ItemRecord, plan: QueryPlan, now_ts: float, options: RetrievalOptions
    ) -> float:
        factor = 1.0
        if options.people:
            factor *= person_factor(record, plan, self._weights)
        if options.time:
            factor *= period_factor(record, plan, self._weights)
        if options.priors:
            factor *= status_factor(record, self._weights)
        if options.recency:
            factor *= recency_factor(record, now_ts, self._weights)
        return factor


def _moment(as_of: datetime | None) -> datetime:
    return as_of if as_of is not None else datetime.now().astimezone()


def _span(filters: SearchFilters) -> tuple[float, float] | None:
    if filters.start is None and filters.end is None:
        return None
    start = to_ts(filters.start) if filters.start is not None else float("-inf")
    end = to_ts(filters.end) if filters.end is not None else float("inf")
    return start, end


def _ids(scored: list[tuple[str, float]]) -> list[str]:
    return [item_id for item_id, _ in scored]


def _admitted(
    record: ItemRecord, max_ts: float | None, filters: SearchFilters,
    options: RetrievalOptions,
) -> bool:
    if max_ts is not None and record.ts > max_ts:
        return False
    if record.kind is ItemKind.MEMORY and not options.memories:
        return False
    if record.kind is ItemKind.SUMMARY and not options.summaries:
        return False
    if record.status == MemoryStatus.FORGOTTEN:
        return False
    if record.status == MemoryStatus.ARCHIVED and not filters.include_archived:
        return False
    return _passes(record, filters)


def _passes(record: ItemRecord, filters: SearchFilters) -> bool:
    if filters.start is not None and record.ts < to_ts(filters.start):
        return False
    if filters.end is not None and record.ts >= to_ts(filters.end):
        return False
    if filters.kinds is not None and record.kind not in filters.kinds:
        return False
    if filters.people and record.about not in filters.people:
        return False
    return not filters.sources or any(s.source in filters.sources for s in record.sources)


def _hit(record: ItemRecord, score: float, related: tuple[str, ...]) -> Hit:
    return Hit(
        id=record.id, kind=record.kind, text=record.text, score=score, time=record.time,
        sources=record.sources,
        speaker=record.label if record.kind is ItemKind.EPISODE else None,
        status=record.status, related=related,
    )
