"""The demo store (`core/demo.py`): built from the bundled sample life with the real
importers, the real reverie-jsonl import and the real embedder; opened as the app would."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reverie.core.compose import open_reverie
from reverie.core.config import CONFIG_DIR_ENV, DATA_DIR_ENV
from reverie.core.demo import SAMPLE_DIR, build_demo, demo_environment, sample_files
from reverie.core.errors import BadInput, Cancelled, PassphraseRequired
from reverie.core.service import Reverie
from reverie.core.store.keys import PASSPHRASE_ENV, Unlocker, fixed_passphrase
from reverie.models.base import Embedder
from tests.doubles import ScriptedLLM
from tests.keyring_double import MemoryKeyring

PASSPHRASE = "a demo passphrase for the tests"


def sample_memories() -> list[dict[str, Any]]:
    """The sample's memories as written in resources/samples/demo/memories.jsonl."""
    lines = (SAMPLE_DIR / "memories.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def sample_turns() -> list[dict[str, Any]]:
    """Every chat turn of the sample."""
    return [json.loads(line) for path in sorted((SAMPLE_DIR / "chats").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, bundled_embedder: Embedder) -> Path:
    """One demo store for the module (building it embeds a few hundred texts)."""
    data = tmp_path_factory.mktemp("demo") / "data"
    build_demo(data, passphrase=PASSPHRASE, embedder=bundled_embedder)
    return data


@pytest.fixture
def demo(built: Path, bundled_embedder: Embedder) -> Iterator[Reverie]:
    """The demo store opened with its passphrase, as the app's opener does."""
    reverie = open_reverie(built, llm=ScriptedLLM(lambda _m: "ok"), embedder=bundled_embedder,
                           unlocker=Unlocker(None, fixed_passphrase(PASSPHRASE)))
    yield reverie
    reverie.close()


def test_the_sample_is_a_few_months_of_a_life_and_small() -> None:
    turns = sample_turns()
    months = {turn["time"][:7] for turn in turns}
    assert months == {"2026-01", "2026-02", "2026-03", "2026-04"}
    assert len({turn["conversation"] for turn in turns}) >= 4
    assert len(turns) >= 200
    size = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    assert size < 300 * 1024


def test_demo_store_holds_every_turn_note_and_memory(demo: Reverie) -> None:
    counts = demo.counts()
    memories = sample_memories()
    notes = [p for p in sample_files() if p.parent.name == "notes"]
    assert counts["memories"] == len(memories)
    assert counts["sources"] == len({t["conversation"] for t in sample_turns()}) + len(notes)
    chunks = demo.store.ledger.query(
        "SELECT COUNT(*) FROM episodes e JOIN sources s ON s.id = e.source_id"
        " WHERE s.kind = 'file'")[0][0]
    assert counts["episodes"] == len(sample_turns()) + chunks
    assert chunks >= len(notes)
    # Every memory has the one 'created' entry of its history, plus one per supersede.
    superseding = sum(1 for m in memories if m["supersedes"])
    assert counts["history"] == len(memories) + superseding


def test_every_memory_cites_exactly_the_turns_it_came_from(demo: Reverie) -> None:
    ledger = demo.store.ledger
    for memory in sample_memories():
        cited = demo.memories.cited_episode_ids(memory["id"])
        assert len(cited) == len(memory["cites"]), memory["id"]
        for episode_id, cite in zip(_ordered(demo, cited, memory), memory["cites"],
                                    strict=True):
            row = ledger.query(
                "SELECT e.locator, e.text, s.name FROM episodes e JOIN sources s"
                " ON s.id = e.source_id WHERE e.id = ?", (episode_id,))[0]
            assert row["name"] == cite["source"]
            if "ref" in cite:
                assert row["locator"] == cite["ref"]
            else:
                assert cite["quote"] in row["text"]


def _ordered(demo: Reverie, cited: tuple[str, ...], memory: dict[str, Any]) -> list[str]:
    # memory_sources has no order: match each cite to its episode by source and place.
    rows = {
        r["id"]: r for r in demo.store.ledger.query(
            f"SELECT e.id, e.locator, e.text, s.name FROM episodes e JOIN sources s"
            f" ON s.id = e.source_id WHERE e.id IN ({','.join('?' * len(cited))})", cited)
    }
    out = []
    for cite in memory["cites"]:
        out += [i for i, r in rows.items() if r["name"] == cite["source"] and (
            r["locator"] == cite.get("ref") or cite.get("quote", "\0") in r["text"])]
    return out


def test_memories_keep_their_kind_people_time_and_trust(demo: Reverie) -> None:
    for memory in sample_memories():
        row = demo.store.ledger.query(
            "SELECT kind, about, valid_from, day, confidence, trust, text FROM memories"
            " WHERE id = ?", (memory["id"],))[0]
        assert (row["kind"], row["about"], row["text"]) == (
            memory["kind"], memory["about"], memory["text"])
        assert row["valid_from"] == memory["valid_from"]
        assert row["day"] == memory["valid_from"][:10]  # shown in its own day
        assert row["confidence"] == memory["confidence"]
        from_notes = "quote" in memory["cites"][0]
        assert row["trust"] == ("user-file" if from_notes else "user-import")
        assert demo.item_day(memory["id"]) == memory["valid_from"][:10]


def test_the_review_inbox_holds_the_unsure_memories(demo: Reverie) -> None:
    unsure = {m["id"] for m in sample_memories() if m["confidence"] < 0.6}
    inbox = {str(entry["id"]) for entry in demo.review_inbox() if entry["type"] == "memory"}
    assert len(unsure) >= 3
    assert inbox == unsure


def test_superseded_memories_point_to_their_successor_and_undo(demo: Reverie) -> None:
    pairs = [(m["supersedes"], m["id"]) for m in sample_memories() if m["supersedes"]]
    assert len(pairs) >= 2
    for old, new in pairs:
        row = demo.store.ledger.query(
            "SELECT status, superseded_by, valid_to, retired FROM memories WHERE id = ?",
            (old,))[0]
        assert (row["status"], row["superseded_by"]) == ("superseded", new)
        assert row["valid_to"] is not None
        assert row["retired"] == row["valid_to"]
        actions = [entry.action for entry in demo.memories.history(old)]
        assert actions == ["superseded", "created"]
    # The imported history is a real one: the supersede can be undone.
    old, _new = pairs[0]
    batch = demo.memories.history(old)[0].batch
    demo.memories.undo(batch=batch)
    status = demo.store.ledger.query("SELECT status FROM memories WHERE id = ?", (old,))
    assert status[0]["status"] == "active"
    demo.memories.undo()  # the undo itself is undone, leaving the module's store as built


def test_people_are_linked_and_nothing_waits_for_extraction(demo: Reverie) -> None:
    people = {row["name"] for row in demo.store.ledger.query(
        "SELECT name FROM entities WHERE kind = 'person'")}
    about = {m["about"] for m in sample_memories()} - {"user"}
    assert about <= people
    assert {"Jordan", "Maya", "Sam", "Priya"} <= people
    assert demo.extraction_status().waiting == 0


def test_search_finds_the_sample_by_meaning(demo: Reverie) -> None:
    hits = demo.search("what is Jordan allergic to?", k=5)
    assert any("peanut" in hit.text for hit in hits)


def test_a_cancelled_build_leaves_nothing_behind(
    tmp_path: Path, bundled_embedder: Embedder, memory_keyring: MemoryKeyring
) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int, what: str) -> None:
        seen.append(done)
        if done == 2:
            cancel.set()

    data = tmp_path / "data"
    with pytest.raises(Cancelled):
        build_demo(data, progress, cancel, passphrase=PASSPHRASE, embedder=bundled_embedder)
    assert seen[-1] == 2
    assert not data.exists()
    assert memory_keyring.entries == {}


def test_a_build_refuses_a_folder_that_holds_something(
    tmp_path: Path, bundled_embedder: Embedder
) -> None:
    (tmp_path / "mine.txt").write_text("mine")
    with pytest.raises(BadInput, match="not empty"):
        build_demo(tmp_path, passphrase=PASSPHRASE, embedder=bundled_embedder)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_a_build_without_a_passphrase_writes_nothing(
    tmp_path: Path, bundled_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with pytest.raises(PassphraseRequired):
        build_demo(tmp_path / "data", embedder=bundled_embedder)
    assert not (tmp_path / "data").exists()


def test_the_demo_environment_is_private_and_removed(
    tmp_path: Path, model_choices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (model_choices / "models.json").write_text('{"mine": true}')
    before = (model_choices / "models.json").stat()
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "my-data"))
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with demo_environment() as place:
        assert os.environ[DATA_DIR_ENV] == str(place.data_dir)
        assert os.environ[CONFIG_DIR_ENV] == str(place.config_dir)
        assert len(os.environ[PASSPHRASE_ENV]) >= 32
        assert (place.config_dir / "models.json").read_text() == '{"mine": true}'
        (place.config_dir / "models.json").write_text("changed in the demo")
        root = place.root
    assert not root.exists()
    assert os.environ[DATA_DIR_ENV] == str(tmp_path / "my-data")
    assert os.environ[CONFIG_DIR_ENV] == str(model_choices)
    assert PASSPHRASE_ENV not in os.environ
    assert (model_choices / "models.json").read_text() == '{"mine": true}'
    assert (model_choices / "models.json").stat().st_mtime_ns == before.st_mtime_ns
