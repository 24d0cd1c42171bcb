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


def keyword_search(ledger: Ledger, query: str, limit: int) -> list[str]:
    """Ids of the best BM25 matches for `query`, best first."""
    match = fts_query(query)
    if match is None:
        return []
    rows = ledger.query(
        "SELECT item_id FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?", (match, limit)
    )
    return [row["item_id"] for row in rows]
