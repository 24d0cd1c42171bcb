"""What a search may be asked to do: hard filters from the UI or CLI, and the switches
that turn each part of retrieval off (the benchmark's ablations and a user's choice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reverie.core.errors import BadInput
from reverie.core.types import ItemKind


@dataclass(frozen=True)
class SearchFilters:
    """Hard limits: a hit outside any of them is never returned.

    `start`/`end` bound when an item happened ([start, end)); `people` are speakers of
    episodes or whom memories are about; `sources` are source names; `kinds` the item
    kinds wanted (None: all).
    """

    start: datetime | None = None
    end: datetime | None = None
    people: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    kinds: frozenset[ItemKind] | None = None
    # Archived memories (faded, merged away, or a creation the user undid) are left out
    # unless asked for; then they rank below active ones.
    include_archived: bool = False

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise BadInput("the time filter's start must be before its end")
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise BadInput("time filters need a time zone")
        if self.kinds is not None and not self.kinds:
            raise BadInput("the kind filter is empty: no hit could match it")

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return self == SearchFilters()


@dataclass(frozen=True)
class RetrievalOptions:
    """Each part of retrieval can be switched off; all are on by default.

    - `tuned_fusion`: weighted reciprocal-rank fusion with k = `Settings.rrf_k` and a
      separate, lighter list for memories; off is plain RRF (k = 60) over one pool.
    - `context`: an episode is also matched through the turn before it (FTS context
      column, and a share of the previous turn's vector similarity).
    - `time`: time expressions in the query ("last May") favour hits in that period.
    - `people`: people named in the query favour hits by or about them.
    - `priors`: superseded and archived memories rank below active ones; importance.
    - `recency`: newer items rank slightly higher.
    - `memories`, `summaries`: extracted memories and consolidation summaries are searched.
    """

    tuned_fusion: bool = True
    context: bool = True
    time: bool = True
    people: bool = True
    priors: bool = True
    recency: bool = True
    memories: bool = True
    summaries: bool = True
