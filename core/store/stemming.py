"""Words stemmed as the full-text index stems them, for showing what a search matched.

The ledger's FTS5 table tokenizes with `FTS_TOKENIZE` (porter): a search for "happy"
finds "happiness". Whoever lights the matched words in a row must stem them the same
way, so `IndexStems` asks SQLite's own tokenizer, in a small in-memory FTS5 table, and
keeps each answer: a word costs one query the first time it is seen, a lookup after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlcipher3 import dbapi2 as sqlite

FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"
"""The ledger's full-text tokenizer (`schema.py` creates its `fts` table with it)."""
MAX_KNOWN = 50_000  # words kept; past that the memo starts again (a few MB at most)


class IndexStems:
    """The index's stem of each word, from SQLite's own porter tokenizer.

    One per thread: the connection is SQLite's, and its answers are kept in a plain
    dictionary.
    """

    def __init__(self) -> None:
        """Open the in-memory table the words are tokenized in."""
        self._conn = sqlite.connect(":memory:")
        self._conn.execute(
            f"CREATE VIRTUAL TABLE words USING fts5(word, tokenize = '{FTS_TOKENIZE}')")
        self._conn.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(words, 'instance')")
        self._known: dict[str, str] = {}

    def stems(self, words: Iterable[str]) -> dict[str, str]:
        """Each of `words` with its stem (a word the tokenizer drops stems to itself)."""
        wanted = set(words)
        new = sorted(wanted - self._known.keys())
        if new:
            if len(self._known) + len(new) > MAX_KNOWN:
                self._known.clear()
            self._learn(new)
        return {word: self._known[word] for word in wanted}

    def _learn(self, words: Sequence[str]) -> None:
        with self._conn:
            self._conn.executemany("INSERT INTO words (rowid, word) VALUES (?, ?)",
                                   list(enumerate(words, 1)))
            first: dict[int, str] = {}
            # A word the tokenizer splits ("night_owl") is known by its first part.
            for term, doc in self._conn.execute(
                    "SELECT term, doc FROM terms ORDER BY doc, offset DESC"):
                first[int(doc)] = str(term)
            self._conn.execute("DELETE FROM words")
        for number, word in enumerate(words, 1):
            self._known[word] = first.get(number, word)

    def close(self) -> None:
        """Close the in-memory table."""
        self._conn.close()
