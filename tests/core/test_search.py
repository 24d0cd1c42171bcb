"""Hybrid retrieval over the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from reverie.core.errors import BadInput
from reverie.core.retrieve.fusion import reciprocal_rank_fusion
from reverie.core.retrieve.keyword import fts_query
from reverie.core.service import Reverie


def test_rrf_rewards_agreement_and_is_deterministic() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]], k=60)
    assert [item for item, _ in fused] == ["b", "c", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    tied = reciprocal_rank_fusion([["x"], ["y"]], k=60)
    assert [item for item, _ in tied] == ["x", "y"]


def test_fts_query_quotes_words_so_syntax_is_literal() -> None:
    assert fts_query('what did "Sam" NEAR(run*) do?') == '"sam" OR "near" OR "run"'
    assert fts_query("?!") is None


@pytest.fixture
def loaded(open_store: Callable[..., Reverie], sample_chat: Path) -> Reverie:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    return reverie


def test_finds_the_turn_and_cites_its_locator(loaded: Reverie) -> None:
    hits = loaded.search("Which restaurant did Alex book for Friday dinner?", k=3)
    assert all(h.sources[0].source == "Sam and me" for h in hits)
    assert "s2-3" in [h.sources[0].ref for h in hits]
    assert all(h.kind.value == "episode" for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_dense_half_finds_paraphrases_without_shared_words(loaded: Reverie) -> None:
    hits = loaded.search("ceramics lessons", k=2)
    assert {h.sources[0].ref for h in hits} & {"s1-1", "s3-1"}


def test_as_of_hides_what_happened_later(loaded: Reverie) -> None:
    hits = loaded.search("pottery class", k=10, as_of=datetime(2026, 3, 3))
    assert hits
    assert all(h.time <= datetime(2026, 3, 3) for h in hits)
    assert "s3-1" not in {h.sources[0].ref for h in hits}


@pytest.mark.parametrize(("query", "k"), [("   ", 5), ("pottery", 0), ("pottery", 5000)])
def test_bad_queries_are_refused(loaded: Reverie, query: str, k: int) -> None:
    with pytest.raises(BadInput):
        loaded.search(query, k=k)


def test_fts_syntax_in_queries_is_harmless(loaded: Reverie) -> None:
    assert loaded.search('"unbalanced AND OR NOT ( * ^', k=3) is not None
