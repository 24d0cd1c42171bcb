"""The vector index is derived: lost or damaged, it is rebuilt from the ledger at start."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core.service import Reverie

QUERIES = ("pottery class", "what did Sam cook", "weekend hike", "birthday present")


def answers(reverie: Reverie) -> list[list[str]]:
    return [[hit.id for hit in reverie.search(query, k=5)] for query in QUERIES]


def stored_vectors(reverie: Reverie) -> set[str]:
    return {row[0] for row in reverie.store.ledger.query("SELECT item_id FROM vectors")}


def damage_deleting(data: Path) -> None:
    shutil.rmtree(data / "index")


def damage_truncating_vectors(data: Path) -> None:
    for hnsw in (data / "index").rglob("data_level0.bin"):
        with open(hnsw, "r+b") as handle:
            handle.truncate(50)


def damage_truncating_chroma_sqlite(data: Path) -> None:
    with open(data / "index" / "chroma.sqlite3", "r+b") as handle:
        handle.truncate(4096)


@pytest.mark.parametrize(
    "damage", [damage_deleting, damage_truncating_vectors, damage_truncating_chroma_sqlite]
)
def test_a_lost_or_damaged_index_is_rebuilt_and_finds_the_same(
    open_store: Callable[..., Reverie], sample_chat: Path, damage: Callable[[Path], None]
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    reverie.memories.add("Sam's sister is called Juniper")
    before = answers(reverie)
    data = reverie.data_dir
    reverie.close()
    # Enough vectors that Chroma writes its HNSW files, not only its log.
    damage(data)
    reopened = open_store(data_dir=data)
    assert reopened.store.index.ids() == stored_vectors(reopened)
    assert answers(reopened) == before


def test_rebuild_on_demand_keeps_every_item(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    before = answers(reverie)
    seen: list[tuple[int, int]] = []
    size = reverie.rebuild_index(progress=lambda done, total, _what: seen.append((done, total)))
    assert size == len(stored_vectors(reverie))
    assert seen[-1] == (size, size)
    assert answers(reverie) == before
