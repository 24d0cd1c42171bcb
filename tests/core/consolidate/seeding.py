"""Memories written as extraction writes them, without running a model to find them.

Consolidation's logic is about what is stored, not how it got there; seeding the store
directly keeps its tests fast and exact. The vectors come from the real embedder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from reverie.core.service import Reverie
from reverie.core.store import records
from reverie.core.store.records import NewEpisode, NewMemory
from reverie.core.types import Actor, MemoryKind

SOURCE = "src_seeded"


@dataclass(frozen=True)
class Seed:
    """One memory to seed, said by `about` in a turn at `when`."""

    text: str
    when: datetime
    about: str = "Sam"
    kind: MemoryKind = MemoryKind.FACT
    confidence: float = 0.8


def seed(reverie: Reverie, seeds: list[Seed]) -> list[str]:
    """Write each seed as a turn and an extracted memory citing it; return memory ids."""
    embedder = reverie.embedder
    vectors = embedder.embed([s.text for s in seeds])
    ids: list[str] = []
    batch = records.new_batch_id()
    with reverie.store.ledger.transaction() as conn:
        records.ensure_source(conn, SOURCE, "chat", "seeded", "user-import")
        records.ensure_batch(conn, batch, Actor.EXTRACTOR, "extraction")
        for number, (item, vector) in enumerate(zip(seeds, vectors, strict=True)):
            episode = NewEpisode(
                id=f"ep_seed_{uuid.uuid4().hex[:12]}", locator=f"t{number}_{uuid.uuid4().hex[:6]}",
                speaker=item.about, text=item.text, time=item.when, text_sha256=uuid.uuid4().hex,
            )
            records.insert_episode(conn, SOURCE, episode)
            records.mark_extracted(conn, [episode.id])
            memory = NewMemory(
                id="mem_" + uuid.uuid4().hex[:20], kind=item.kind, text=item.text,
                about=item.about, valid_from=item.when, confidence=item.confidence,
                trust="user-import", episode_ids=(episode.id,),
            )
            records.insert_memory(conn, memory, batch, Actor.EXTRACTOR)
            records.store_vector(conn, memory.id, embedder.name, vector)
            ids.append(memory.id)
    reverie.store.sync_index()
    return ids


def memory(reverie: Reverie, memory_id: str) -> dict[str, object]:
    """A memory's row as a dict, with the episodes it cites."""
    rows = reverie.store.ledger.query("SELECT * FROM memories WHERE id = ?", (memory_id,))
    assert rows, f"memory {memory_id} is gone"
    cited = reverie.store.ledger.query(
        "SELECT episode_id FROM memory_sources WHERE memory_id = ? ORDER BY episode_id",
        (memory_id,),
    )
    return {**dict(rows[0]), "episodes": [row[0] for row in cited]}
