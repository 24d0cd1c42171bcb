"""What a consolidation run intends to do, read from the store without changing it.

Four kinds of change, each with a key that names it for good:
- **merge** near-duplicates: an active memory whose vector lies within `MERGE_SIMILARITY`
  of another about the same person, and that shares most of its words, is folded into
  the one with more citations (its citations move over; it is archived, pointing at
  the survivor). Only memories new since the last run are compared, so a run stays
  proportional to what arrived.
- **supersede** what a newer memory contradicts: slot rules (`slots.py`).
- **summary** of each day with enough memories, of each week, and a digest per person;
  a summary is written again (and the old one superseded) when its memories change.
- **fade** what is stale, unimportant and never recalled, by the score in `fade_score`.

A change that would touch a pinned or user-edited memory is planned as a proposal for
the review inbox instead.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from reverie.core.consolidate.journal import PlannedChange
from reverie.core.consolidate.slots import slot_value
from reverie.core.extract.grounding import content_words
from reverie.core.store.store import Store
from reverie.core.timeutil import to_ts

MERGE_SIMILARITY = 0.85
MERGE_WORD_OVERLAP = 0.5  # Jaccard of content words: "likes jazz" is not "likes rock"
NEIGHBOURS = 6
DAY_SUMMARY_MIN = 3  # memories a day needs before it gets a summary
WEEK_SUMMARY_MIN = 6
DIGEST_MIN = 3  # memories about a person before they get a digest
FADE_BELOW = 0.1
FADE_MIN_AGE_DAYS = 365
HALF_LIFE_DAYS = 730.0
KIND_WEIGHT = {"event": 0.5, "plan": 0.4, "fact": 0.7, "preference": 0.7, "person": 0.8}

_COLUMNS = (
    "m.id, m.kind, m.text, m.about, m.day, m.valid_from_ts, m.recorded_ts, m.pinned,"
    " m.user_edited, m.confidence, m.recalls, m.last_recalled, m.review,"
    " (SELECT COUNT(*) FROM memory_sources s WHERE s.memory_id = m.id) AS citations"
)


@dataclass(frozen=True)
class Memo:
    """What planning needs to know of one active memory."""

    id: str
    kind: str
    text: str
    about: str
    day: str
    valid_from_ts: float
    recorded_ts: float
    protected: bool  # pinned or edited by the user
    confidence: float
    recalls: int
    last_recalled_ts: float | None
    citations: int
    review: bool = False  # waiting for the user's verdict: never the one that prevails


def active_memories(store: Store) -> list[Memo]:
    """Every active memory that is not itself a summary, oldest first."""
    rows = store.ledger.query(
        f"SELECT {_COLUMNS} FROM memories m WHERE m.status = 'active' AND m.kind != 'summary'"
        " ORDER BY m.valid_from_ts, m.seq"
    )
    return [_memo(row) for row in rows]


def _memo(row: Any) -> Memo:
    recalled = row["last_recalled"]
    return Memo(
        id=row["id"], kind=row["kind"], text=row["text"], about=row["about"], day=row["day"],
        valid_from_ts=row["valid_from_ts"], recorded_ts=row["recorded_ts"],
        protected=bool(row["pinned"] or row["user_edited"]), confidence=row["confidence"],
        recalls=int(row["recalls"]),
        last_recalled_ts=to_ts(datetime.fromisoformat(recalled)) if recalled else None,
        citations=int(row["citations"]), review=bool(row["review"]),
    )


def plan_merges(store: Store, memos: list[Memo], since_ts: float | None) -> list[PlannedChange]:
    """Near-duplicate pairs, the newer folded into the better-cited."""
    by_id = {m.id: m for m in memos}
    pairs: list[tuple[float, str, str]] = []
    for memo in memos:
        if since_ts is not None and memo.recorded_ts < since_ts:
            continue
        vector = _vector(store, memo.id)
        if vector is None:
            continue
        for other_id, distance in store.nearest(vector, NEIGHBOURS, kind="memory"):
            other = by_id.get(other_id)
            similarity = 1.0 - distance
            if other is None or other.id == memo.id or similarity < MERGE_SIMILARITY:
                continue
            if other.about.lower() == memo.about.lower() and _overlap(memo, other):
                first, second = sorted((memo.id, other.id))
                pairs.append((similarity, first, second))
    used: set[str] = set()
    planned: list[PlannedChange] = []
    for similarity, first, second in sorted(set(pairs), reverse=True):
        if first in used or second in used:
            continue
        keep, fold = _survivor(by_id[first], by_id[second])
        used.update((first, second))
        planned.append(PlannedChange(
            key=f"merge:{fold.id}>{keep.id}", op="merge",
            payload={"keep": keep.id, "fold": fold.id, "similarity": round(similarity, 3)},
            proposal=keep.protected or fold.protected,
        ))
    return planned


def _overlap(first: Memo, second: Memo) -> bool:
    ignore = frozenset({first.about.lower()})
    a, b = set(content_words(first.text, ignore)), set(content_words(second.text, ignore))
    return bool(a | b) and len(a & b) / len(a | b) >= MERGE_WORD_OVERLAP


def _survivor(first: Memo, second: Memo) -> tuple[Memo, Memo]:
    """The memory kept: one the user need not check, then the better-cited, the more
    confident, the one said first."""
    ranked = sorted((first, second), key=lambda m: (
        m.review, -m.citations, -m.confidence, m.valid_from_ts, m.recorded_ts, m.id))
    return ranked[0], ranked[1]


def plan_supersedes(memos: list[Memo]) -> list[PlannedChange]:
    """Each slot value followed, later in time, by a different value for the same person."""
    groups: dict[tuple[str, str], list[tuple[Memo, str]]] = defaultdict(list)
    for memo in memos:
        found = slot_value(memo.text)
        if found is not None:
            groups[(memo.about.lower(), found.slot)].append((memo, found.key))
    planned: list[PlannedChange] = []
    for (_, slot), members in groups.items():
        members.sort(key=lambda pair: (pair[0].valid_from_ts, pair[0].recorded_ts))
        for index, (old, value) in enumerate(members):
            # A memory waiting for review may be superseded, never supersede.
            successor = next(
                (m for m, v in members[index + 1:] if v != value and not m.review), None)
            if successor is None or successor.valid_from_ts <= old.valid_from_ts:
                continue
            planned.append(PlannedChange(
                key=f"supersede:{old.id}>{successor.id}", op="supersede",
                payload={"old": old.id, "new": successor.id, "slot": slot},
                proposal=old.protected,
            ))
    return planned


def plan_summaries(store: Store, memos: list[Memo]) -> list[PlannedChange]:
    """Summaries of days and weeks, and digests of people, whose memories changed."""
    days: dict[str, list[str]] = defaultdict(list)
    weeks: dict[str, list[str]] = defaultdict(list)
    for memo in memos:
        days[memo.day].append(memo.id)
        year, week, _ = datetime.fromisoformat(memo.day).isocalendar()
        weeks[f"{year}-W{week:02d}"].append(memo.id)
    wanted = [("day", d, ids) for d, ids in days.items() if len(ids) >= DAY_SUMMARY_MIN]
    wanted += [("week", w, ids) for w, ids in weeks.items() if len(ids) >= WEEK_SUMMARY_MIN]
    staying = {memo.id for memo in memos}
    people = {name: [i for i in ids if i in staying] for name, ids in _people(store).items()}
    wanted += [("person", name, ids) for name, ids in people.items() if len(ids) >= DIGEST_MIN]
    current = _current_summaries(store)
    planned: list[PlannedChange] = []
    for scope, period, ids in wanted:
        digest = hashlib.sha1(",".join(sorted(ids)).encode()).hexdigest()[:12]
        key = f"summary:{scope}:{period}:{digest}"
        planned.append(PlannedChange(key=key, op="summary", payload={
            "scope": scope, "period": period, "memories": sorted(ids),
            "replaces": current.get(f"{scope}:{period}"),
        }))
    return planned


def _people(store: Store) -> dict[str, list[str]]:
    rows = store.ledger.query(
        "SELECT e.name, me.memory_id FROM entities e JOIN memory_entities me"
        " ON me.entity_id = e.id JOIN memories m ON m.id = me.memory_id"
        " WHERE e.kind = 'person' AND m.status = 'active' AND m.kind != 'summary'"
    )
    people: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        people[row["name"]].append(row["memory_id"])
    return people


def _current_summaries(store: Store) -> dict[str, str]:
    """The active summary of each scope and period, by "scope:period"."""
    rows = store.ledger.query(
        "SELECT c.key, c.payload FROM consolidation_changes c JOIN memories m"
        " ON m.id = json_extract(c.payload, '$.summary') WHERE c.op = 'summary'"
        " AND c.state = 'applied' AND m.status = 'active'"
    )
    current: dict[str, str] = {}
    for row in rows:
        _, scope, period, _ = row["key"].split(":", 3)
        current[f"{scope}:{period}"] = _summary_id(row["key"])
    return current


def summary_id(key: str) -> str:
    """The id a summary gets: from its key, so a resumed run writes the same one."""
    return _summary_id(key)


def _summary_id(key: str) -> str:
    return "mem_" + hashlib.sha1(key.encode()).hexdigest()[:20]


def fade_score(memo: Memo, now: datetime) -> float:
    """How much a memory still earns its place (documented in docs/consolidation.md).

    importance = kind weight x (0.5 + 0.5 x confidence) + 0.1 per extra citation (up to 5)
    recency = 0.5 ^ (days since it happened, was learned or was last recalled / 730)
    score = importance x recency + 0.15 per recall (up to 4)
    """
    importance = KIND_WEIGHT.get(memo.kind, 0.6) * (0.5 + 0.5 * memo.confidence)
    importance += 0.1 * min(max(memo.citations - 1, 0), 5)
    age_days = max(0.0, (to_ts(now) - _last_touched(memo)) / 86400)
    recency = math.pow(0.5, age_days / HALF_LIFE_DAYS)
    return importance * recency + 0.15 * min(memo.recalls, 4)


def current_slot_holders(memos: list[Memo]) -> set[str]:
    """The newest memory of each person's slot: where they live now does not go stale."""
    newest: dict[tuple[str, str], Memo] = {}
    for memo in memos:
        found = slot_value(memo.text)
        if found is None:
            continue
        key = (memo.about.lower(), found.slot)
        held = newest.get(key)
        if held is None or memo.valid_from_ts >= held.valid_from_ts:
            newest[key] = memo
    return {memo.id for memo in newest.values()}


def _last_touched(memo: Memo) -> float:
    """When a memory last mattered: it happened, Reverie learned it, or it was recalled.
    A ten-year-old chat imported today is news to Reverie, not stale."""
    return max(memo.valid_from_ts, memo.recorded_ts, memo.last_recalled_ts or 0.0)


def plan_fades(memos: list[Memo], now: datetime) -> list[PlannedChange]:
    """Stale, unimportant, never-recalled memories to archive (never to delete); the
    current value of a slot never fades."""
    oldest = to_ts(now - timedelta(days=FADE_MIN_AGE_DAYS))
    current = current_slot_holders(memos)
    planned: list[PlannedChange] = []
    for memo in memos:
        if memo.protected or memo.recalls or _last_touched(memo) > oldest or memo.id in current:
            continue
        score = fade_score(memo, now)
        if score < FADE_BELOW:
            planned.append(PlannedChange(
                key=f"fade:{memo.id}", op="fade",
                payload={"memory": memo.id, "score": round(score, 4)},
            ))
    return planned


def _vector(store: Store, memory_id: str) -> np.ndarray | None:
    rows = store.ledger.query(
        "SELECT vector FROM vectors WHERE item_id = ? AND model = ?",
        (memory_id, store.embedding_model),
    )
    return np.frombuffer(rows[0]["vector"], dtype=np.float32) if rows else None
