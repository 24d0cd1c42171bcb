"""Health figures of a memory store, computed at the end of every consolidation run."""

from __future__ import annotations

from collections import defaultdict

from reverie.core.consolidate import plan
from reverie.core.consolidate.slots import slot_value
from reverie.core.store.store import Store

SAMPLE = 2000  # newest active memories checked for duplicates (a query each)


def health_figures(store: Store) -> dict[str, float]:
    """duplicate_rate: share of (the newest `SAMPLE`) active memories with a near-duplicate
    about the same person; contradictions_open: slot conflicts among active memories
    (a supersede waiting for the user's verdict is one of them); share_archived: archived
    among all stored memories; review_waiting: memories and proposals in the review inbox.
    """
    memos = plan.active_memories(store)
    recent = sorted(memos, key=lambda m: m.recorded_ts)[-SAMPLE:]
    merges = plan.plan_merges(store, recent, None)
    in_pairs = 2 * len(merges)
    counts = store.ledger.query(
        "SELECT SUM(status = 'archived') AS archived, COUNT(*) AS total,"
        " SUM(review = 1 AND status = 'active') AS review FROM memories"
    )[0]
    proposals = store.ledger.query(
        "SELECT COUNT(*) FROM consolidation_changes WHERE state = 'proposed'"
    )[0][0]
    return {
        "active": float(len(memos)),
        "duplicate_rate": round(in_pairs / len(recent), 4) if recent else 0.0,
        "contradictions_open": float(_open_conflicts(memos)),
        "share_archived": round((counts["archived"] or 0) / counts["total"], 4)
        if counts["total"] else 0.0,
        "review_waiting": float((counts["review"] or 0) + proposals),
    }


def _open_conflicts(memos: list[plan.Memo]) -> int:
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for memo in memos:
        found = slot_value(memo.text)
        if found is not None:
            values[(memo.about.lower(), found.slot)].add(found.key)
    return sum(len(v) - 1 for v in values.values() if len(v) > 1)
