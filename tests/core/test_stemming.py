"""Words stemmed by the full-text index's own tokenizer (`core/store/stemming.py`)."""

from __future__ import annotations

import re

from reverie.core.store import schema
from reverie.core.store.stemming import FTS_TOKENIZE, IndexStems


def test_the_stems_are_the_index_tokenizers() -> None:
    stems = IndexStems()
    try:
        assert stems.stems(["walked", "walking", "happiness", "happy", "café", "cafe"]) == {
            "walked": "walk", "walking": "walk", "happiness": "happi", "happy": "happi",
            "café": "cafe", "cafe": "cafe"}
        assert stems.stems(["night_owl", "walked"]) == {"night_owl": "night", "walked": "walk"}
    finally:
        stems.close()


def test_the_ledger_indexes_with_the_same_tokenizer() -> None:
    found = {match for migration in schema.MIGRATIONS
             for match in re.findall(r"tokenize = '([^']+)'", migration)}
    assert found == {FTS_TOKENIZE}
