"""Priors: what a hit's fused score is multiplied by, besides how well its words match.

Each factor is 1 when its part is switched off or says nothing, so they combine freely
and the benchmark can switch them off one at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from reverie.core.retrieve.query import QueryPlan
from reverie.core.store.queries import ItemRecord
from reverie.core.timeutil import to_ts
from reverie.core.types import ItemKind, MemoryStatus


@dataclass(frozen=True)
class PriorWeights:
    """How strongly each prior pulls; see `Settings` for the defaults and why."""

    person: float
    period: float
    period_slack_days: float
    superseded: float
    archived: float
    recency: float
    recency_half_life_days: float


def person_factor(record: ItemRecord, plan: QueryPlan, weights: PriorWeights) -> float:
    """Hits by or about a person the query names rise."""
    return 1.0 + weights.person if record.about in plan.people else 1.0


def period_factor(record: ItemRecord, plan: QueryPlan, weights: PriorWeights) -> float:
    """Hits inside a period the query names (with some slack: people misplace dates by a
    few days) rise."""
    if not plan.periods:
        return 1.0
    slack = timedelta(days=weights.period_slack_days).total_seconds()
    for period in plan.periods:
        if to_ts(period.start) - slack <= record.ts < to_ts(period.end) + slack:
            return 1.0 + weights.period
    return 1.0


def status_factor(record: ItemRecord, weights: PriorWeights) -> float:
    """What is no longer true (superseded) or has faded (archived) ranks lower, yet can
    still be found; pinned and confident memories rank a little higher."""
    if record.kind is ItemKind.EPISODE:
        return 1.0
    factor = {
        MemoryStatus.SUPERSEDED.value: weights.superseded,
        MemoryStatus.ARCHIVED.value: weights.archived,
    }.get(record.status or "", 1.0)
    importance = 1.0 if record.pinned else record.confidence
    return factor * (0.9 + 0.2 * importance)


def recency_factor(record: ItemRecord, now_ts: float, weights: PriorWeights) -> float:
    """Newer items rise slightly: a bonus that halves every half-life."""
    age_days = max(0.0, (now_ts - record.ts) / 86400)
    return 1.0 + weights.recency * math.pow(0.5, age_days / weights.recency_half_life_days)
