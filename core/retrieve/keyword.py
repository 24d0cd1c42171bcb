"""Keyword search: SQLite FTS5 with its BM25 ranking."""

from __future__ import annotations

import re

from reverie.core.store.ledger import Ledger

# Words so common that matching them says nothing about relevance; dropping them keeps
# the OR query small and fast.
STOPWORDS = frozenset(
    """
    a about after an and any are as at be been before but by can could did do does for
    from had has have he her hers him his how i if in into is it its me my of on or our
    she so some than that the their them then there these they this to was we were what
    when where which who whom why will with would you your yours
    """.split()
)
_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression that ORs the query's meaningful words, each quoted.

    Quoting makes every word a literal, so no user input is read as FTS5 syntax.
    Returns None when the text has no words at all.
    """
    words = [w.lower() for w in _WORD.findall(text)]
    meaningful = [w for w in words if w not in STOPWORDS] or words
    unique = list(dict.fromkeys(meaningful))
    if not unique:
        return None
    return " OR ".join(f'"{word}"' for word in unique)


def keyword_search(
    ledger: Ledger,
    query: str,
    limit: int,
    *,
    kind: str | None = None,
    context_weight: float = 0.0,
    span: tuple[float, float] | None = None,
) -> list[tuple[str, float]]:
    """The best BM25 matches for `query` as (id, score), best first; higher is better.

    `kind` keeps only "episode" or "memory" rows (summaries are memories). An episode's
    context column (the turn before it) counts with `context_weight` (0: ignored).
    `span` keeps items that happened in [start_ts, end_ts).
    """
    if kind not in (None, "episode", "memory"):
        raise ValueError(f"kind must be episode or memory, not {kind!r}")
    match = fts_query(query)
    if match is None:
        return []
    if context_weight <= 0:
        match = f"text : ({match})"
    weights = f"1.0, {max(context_weight, 0.0)}"
    where: list[str] = ["fts MATCH ?"]
    params: list[object] = [match]
    if kind is not None:
        # By rowid sign (an episode's seq, minus a memory's seq): FTS5 then walks only
        # that family's rows, where a filter on the kind column would score them all.
        where.append("fts.rowid > 0" if kind == "episode" else "fts.rowid < 0")
    join = ""
    if span is not None:
        # An FTS row's id is its episode's seq, or minus its memory's seq.
        join = (" LEFT JOIN episodes e ON fts.rowid > 0 AND e.seq = fts.rowid"
                " LEFT JOIN memories m ON fts.rowid < 0 AND m.seq = -fts.rowid")
        where.append("COALESCE(e.ts, m.valid_from_ts) >= ? AND COALESCE(e.ts, m.valid_from_ts) < ?")
        params += [span[0], span[1]]
    rows = ledger.query(
        f"SELECT fts.item_id, bm25(fts, {weights}) AS score FROM fts{join}"
        f" WHERE {' AND '.join(where)} ORDER BY score LIMIT ?",
        (*params, limit),
    )
    # FTS5's bm25 is negative, more negative is better.
    return [(row["item_id"], -float(row["score"])) for row in rows]
