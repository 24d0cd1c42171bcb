"""Dense candidates from the vector index, and the turn-context share for episodes.

A reply ("Took a short trip to Rome") often answers a question only with the turn before
it ("where did you go?"). Rather than store vectors mixed from two turns (which would
keep a forgotten turn's meaning in its neighbour), an episode's score is raised at query
time by a share of its predecessor's similarity: each candidate passes the share on to
the next episode of its source.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reverie.core.store.ledger import Ledger
from reverie.core.store.store import Store


def dense_search(
    store: Store,
    vector: np.ndarray,
    limit: int,
    *,
    max_ts: float | None = None,
    span: tuple[float, float] | None = None,
    model: str | None = None,
) -> list[tuple[str, float]]:
    """The `limit` nearest items of both families as (id, cosine similarity), best first.

    One query for episodes and memories alike: a metadata filter per family would make
    Chroma scan its metadata table on every search.
    """
    found = store.nearest(vector, limit, max_ts=max_ts, span=span, model=model)
    return [(item_id, 1.0 - distance) for item_id, distance in found]


def is_memory_id(item_id: str) -> bool:
    """Memories and summaries have ids "mem_…" wherever they are made; episodes "ep_…"."""
    return item_id.startswith("mem_")


def with_turn_context(
    ledger: Ledger, model: str, vector: np.ndarray, scored: Sequence[tuple[str, float]],
    share: float,
) -> list[tuple[str, float]]:
    """Episodes re-scored as similarity + `share` x the previous turn's similarity.

    The episode after each candidate joins the list (scored from its stored vector) so a
    reply to a matching question is found even when its own words match nothing.
    """
    if share <= 0 or not scored:
        return list(scored)
    scores = dict(scored)
    followers = _followers(ledger, list(scores))
    missing = [f for f in followers.values() if f not in scores]
    scores.update(_similarities(ledger, model, vector, missing))
    boosted = dict(scores)
    for item_id, follower in followers.items():
        if follower in boosted and item_id in scores:
            boosted[follower] += share * scores[item_id]
    return sorted(boosted.items(), key=lambda pair: -pair[1])


def _followers(ledger: Ledger, episode_ids: list[str]) -> dict[str, str]:
    marks = ",".join("?" * len(episode_ids))
    rows = ledger.query(
        "SELECT e.id, (SELECT n.id FROM episodes n WHERE n.source_id = e.source_id"
        " AND n.seq > e.seq ORDER BY n.seq LIMIT 1) AS follower"
        f" FROM episodes e WHERE e.id IN ({marks})",
        episode_ids,
    )
    return {row["id"]: row["follower"] for row in rows if row["follower"] is not None}


def _similarities(
    ledger: Ledger, model: str, vector: np.ndarray, item_ids: list[str]
) -> dict[str, float]:
    if not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    rows = ledger.query(
        f"SELECT item_id, vector FROM vectors WHERE model = ? AND item_id IN ({marks})",
        [model, *item_ids],
    )
    query = np.asarray(vector, dtype=np.float32)
    return {
        row["item_id"]: float(np.frombuffer(row["vector"], dtype=np.float32) @ query)
        for row in rows
    }
