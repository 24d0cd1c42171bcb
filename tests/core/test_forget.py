"""Forgetting forgets: no byte of a forgotten memory is left in any file Reverie keeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.core.store import records
from reverie.core.store.forget import ForgetTarget
from reverie.core.store.keys import KEYRING_SERVICE, read_recipes
from reverie.core.store.records import NewMemory
from reverie.core.types import Actor, MemoryKind
from tests.keyring_double import MemoryKeyring
from tests.sqlcipher_pages import plaintext

CANARY = b"zqxcanary7731"


def ledger_key(data_dir: Path, keyring: MemoryKeyring) -> bytes:
    """The ledger key the store put in the (test) keyring."""
    recipes = read_recipes(data_dir)
    assert recipes
    assert recipes[0].keyring_user
    return bytes.fromhex(keyring.entries[(KEYRING_SERVICE, recipes[0].keyring_user)])


def files_holding(data_dir: Path, needle: bytes) -> list[Path]:
    """Every file under the data directory whose raw bytes contain `needle`."""
    return [p for p in data_dir.rglob("*") if p.is_file() and needle in p.read_bytes()]


def episode_ids(reverie: Reverie) -> list[str]:
    return [row["id"] for row in reverie.store.ledger.query("SELECT id FROM episodes ORDER BY ts")]


def add_cited_memory(reverie: Reverie, text: str, cites: tuple[str, ...]) -> str:
    """A memory citing the given turns, as extraction would write it."""
    memory = NewMemory(
        id=f"mem_{abs(hash(text))}", kind=MemoryKind.FACT, text=text, about="Sam",
        valid_from=datetime.fromisoformat("2026-03-05T10:00:00+00:00"), confidence=0.8,
        trust="extracted", episode_ids=cites,
    )
    vector = reverie.embedder.embed([text])[0]
    with reverie.store.ledger.transaction() as conn:
        records.ensure_batch(conn, "b_test", Actor.EXTRACTOR, "extraction")
        records.insert_memory(conn, memory, "b_test", Actor.EXTRACTOR)
        records.store_vector(conn, memory.id, reverie.embedder.name, vector)
    reverie.store.sync_index()
    return memory.id


def test_a_forgotten_canary_leaves_no_byte_in_any_file(
    open_store: Callable[..., Reverie], sample_chat: Path, memory_keyring: MemoryKeyring
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    memory_id, _ = reverie.memories.add(f"My gym locker code is {CANARY.decode()} this year")
    reverie.memories.edit(memory_id, text=f"My gym locker code is {CANARY.decode()} for now")
    reverie.memories.pin(memory_id)
    data, key = reverie.data_dir, ledger_key(reverie.data_dir, memory_keyring)
    ledger = data / "ledger.db"

    # Before: stored, and yet no file holds it in plaintext.
    assert next(h.id for h in reverie.search(CANARY.decode(), k=3)) == memory_id
    assert files_holding(data, CANARY) == []
    assert CANARY in plaintext(ledger, key)  # the decryption below really sees the pages

    plan = reverie.memories.plan_forget(ForgetTarget(memory_ids=(memory_id,)))
    assert "1 memory will be removed for good" in plan.describe()
    changes = reverie.memories.forget(plan)
    assert changes.memories_removed == 1

    assert files_holding(data, CANARY) == []
    decrypted = plaintext(ledger, key)
    assert CANARY not in decrypted
    assert b"pottery class" in decrypted  # the rest of the ledger is still there
    assert all(h.id != memory_id for h in reverie.search(CANARY.decode(), k=10))
    assert next(e.action for e in reverie.memories.history(memory_id)) == "forgotten"
    assert all(e.before is None and e.after is None for e in reverie.memories.history(memory_id))
    reverie.close()
    assert files_holding(data, CANARY) == []
    assert CANARY not in plaintext(ledger, key)


def test_forgetting_a_turn_takes_the_memories_that_came_only_from_it(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    first, second = episode_ids(reverie)[:2]
    only = add_cited_memory(reverie, "Sam adopted a grey cat called Pixel", (first,))
    shared = add_cited_memory(reverie, "Sam lives near the river", (first, second))

    plan = reverie.memories.plan_forget(ForgetTarget(episode_ids=(first,)))
    assert plan.derived_memory_ids == (only,)
    assert plan.memories_losing_citations == (shared,)
    text = plan.describe()
    assert "1 turn or passage and 1 memory" in text
    assert "also cite other turns" in text
    reverie.memories.forget(plan)

    ledger = reverie.store.ledger
    assert not ledger.query("SELECT 1 FROM memories WHERE id = ?", (only,))
    cited = ledger.query("SELECT episode_id FROM memory_sources WHERE memory_id = ?", (shared,))
    assert [row[0] for row in cited] == [second]
    assert first not in reverie.store.index.ids()
    # Importing the same file again never brings a forgotten turn back.
    report = reverie.import_file(sample_chat, extract=False)
    assert report.episodes_added == 0
    assert first not in episode_ids(reverie)


def test_forgetting_a_source_or_a_span_of_time(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    ledger = reverie.store.ledger
    times = [row[0] for row in ledger.query("SELECT ts FROM episodes ORDER BY ts")]
    start = datetime.fromtimestamp(times[0]).astimezone()
    end = datetime.fromtimestamp(times[2]).astimezone()
    plan = reverie.memories.plan_forget(ForgetTarget(start=start, end=end))
    assert len(plan.episode_ids) == 2
    reverie.memories.forget(plan)
    assert len(episode_ids(reverie)) == len(times) - 2

    source = ledger.query("SELECT id FROM sources")[0][0]
    reverie.memories.forget(reverie.memories.plan_forget(ForgetTarget(source_ids=(source,))))
    assert reverie.counts()["episodes"] == 0
    assert reverie.counts()["sources"] == 0
    assert reverie.timeline_days(0, 10) == []
    report = reverie.import_file(sample_chat, extract=False)
    assert (report.episodes_added, report.sources) == (0, ())
    assert reverie.counts()["sources"] == 0


def test_forgetting_what_does_not_exist_changes_nothing(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    before = reverie.counts()
    with pytest.raises(BadInput, match="no memory mem_nope"):
        reverie.memories.plan_forget(ForgetTarget(memory_ids=("mem_nope",)))
    now = datetime.now().astimezone()
    with pytest.raises(BadInput, match="ends before it starts"):
        reverie.memories.plan_forget(ForgetTarget(start=now, end=now))
    with pytest.raises(BadInput, match="nothing to forget"):
        reverie.memories.forget(reverie.memories.plan_forget(ForgetTarget()))
    assert reverie.counts() == before
