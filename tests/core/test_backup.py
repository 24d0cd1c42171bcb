"""Backups made while the store is open, and restoring them, here or on another machine."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import keyring
import pytest

from reverie.core.compose import open_reverie
from reverie.core.errors import BadInput, StoreError, WrongKey
from reverie.core.service import Reverie, restore_backup
from reverie.core.store.keys import KEYRING_SERVICE, KeyRecipe, Unlocker, default_unlocker
from reverie.core.store.ledger import key_pragma, open_keyed
from reverie.models.base import LLM, Embedder
from tests.core.test_exchange import fill
from tests.keyring_double import MemoryKeyring
from tests.ledger_access import cli_env

PASSPHRASE = "correct horse battery"


@pytest.fixture
def filled(
    open_store: Callable[..., Reverie], sample_chat: Path, tmp_path: Path
) -> tuple[Reverie, Path]:
    """An open, curated store and its reverie-jsonl export taken before any backup."""
    reverie = open_store(data_dir=tmp_path / "data")
    fill(reverie, sample_chat, tmp_path)
    before = tmp_path / "before.jsonl"
    reverie.export_jsonl(before)
    return reverie, before


def export_of(reverie: Reverie, path: Path) -> bytes:
    """The store's reverie-jsonl export as bytes."""
    reverie.export_jsonl(path)
    return path.read_bytes()


def new_machine() -> MemoryKeyring:
    """Stand in for another machine: an OS keyring that holds none of our keys."""
    empty = MemoryKeyring()
    keyring.set_keyring(empty)  # the autouse memory_keyring fixture puts the old one back
    return empty


def test_backup_then_restore_gives_the_same_export(
    filled: tuple[Reverie, Path], open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie, before = filled
    report = reverie.backup(tmp_path / "backup")
    assert report.key_method == "keyring"
    assert sorted(p.name for p in report.path.iterdir()) == ["backup.json", "key.json",
                                                              "ledger.db"]
    # The store stays usable, and what it learns after the backup is not in it.
    reverie.memories.add("Learned after the backup")
    reverie.close()
    restored = restore_backup(report.path, tmp_path / "restored", default_unlocker())
    assert restored.set_aside is None
    again = open_store(data_dir=tmp_path / "restored")
    assert export_of(again, tmp_path / "after.jsonl") == before.read_bytes()
    # The vector index was not in the backup: it was rebuilt from the ledger on open.
    vectors = again.store.ledger.query("SELECT COUNT(*) FROM vectors")[0][0]
    assert again.store.index.count() == vectors > 0


def test_passphrase_backup_restores_on_a_machine_with_an_empty_keyring(
    filled: tuple[Reverie, Path], tmp_path: Path, bundled_embedder: Embedder,
    bundled_llm: LLM,
) -> None:
    reverie, before = filled
    report = reverie.backup(tmp_path / "backup", passphrase=PASSPHRASE)
    assert report.key_method == "passphrase"
    reverie.close()
    elsewhere = new_machine()
    target = tmp_path / "elsewhere"
    with pytest.raises(WrongKey, match="wrong passphrase"):
        restore_backup(report.path, target, Unlocker(elsewhere, lambda _: "not the passphrase"))
    assert [p.name for p in target.iterdir()] == ["reverie.lock"]
    unlocker = Unlocker(elsewhere, lambda _: PASSPHRASE)
    restore_backup(report.path, target, unlocker)
    again = open_reverie(target, llm=bundled_llm, embedder=bundled_embedder, unlocker=unlocker)
    try:
        assert export_of(again, tmp_path / "after.jsonl") == before.read_bytes()
    finally:
        again.close()
    assert not elsewhere.entries, "the restored store keeps the backup's passphrase"


def test_a_keyring_backup_is_refused_where_the_keyring_lacks_its_key(
    filled: tuple[Reverie, Path], tmp_path: Path
) -> None:
    reverie, _ = filled
    report = reverie.backup(tmp_path / "backup")
    reverie.close()
    elsewhere = new_machine()
    with pytest.raises(StoreError, match="keyring does not have it"):
        restore_backup(report.path, tmp_path / "elsewhere", Unlocker(elsewhere, None))
    assert not (tmp_path / "elsewhere" / "ledger.db").exists()


def test_restore_refuses_a_data_directory_with_data_unless_replacing(
    filled: tuple[Reverie, Path], open_store: Callable[..., Reverie], sample_chat: Path,
    tmp_path: Path, memory_keyring: MemoryKeyring,
) -> None:
    reverie, before = filled
    report = reverie.backup(tmp_path / "backup")
    reverie.close()
    other = open_store(data_dir=tmp_path / "other")
    other.import_file(sample_chat, extract=False)
    other_counts = other.counts()
    other_key = json.loads((tmp_path / "other" / "key.json").read_text())["recipes"][0]
    other.close()
    with pytest.raises(BadInput, match="already holds data"):
        restore_backup(report.path, tmp_path / "other", default_unlocker())
    restored = restore_backup(report.path, tmp_path / "other", default_unlocker(), replace=True)
    assert restored.set_aside is not None
    assert restored.set_aside.parent == tmp_path / "other" / "backups"
    again = open_store(data_dir=tmp_path / "other")
    assert export_of(again, tmp_path / "after.jsonl") == before.read_bytes()
    # What was replaced is kept aside, and still opens with its own key.
    recipe = KeyRecipe(**other_key)
    assert recipe.keyring_user is not None
    key = bytes.fromhex(memory_keyring.entries[(KEYRING_SERVICE, recipe.keyring_user)])
    conn = open_keyed(restored.set_aside, key_pragma(key))
    try:
        assert conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == other_counts[
            "episodes"]
    finally:
        conn.close()


def test_replacing_a_data_directory_left_by_a_crash_is_refused(
    filled: tuple[Reverie, Path], tmp_path: Path
) -> None:
    reverie, _ = filled
    report = reverie.backup(tmp_path / "backup")
    reverie.close()
    data = tmp_path / "data"
    # What a killed process leaves: committed pages still in the write-ahead log.
    (data / "ledger.db-wal").write_bytes(b"unsaved pages")
    ledger_before = (data / "ledger.db").read_bytes()
    with pytest.raises(StoreError, match="not closed cleanly"):
        restore_backup(report.path, data, default_unlocker(), replace=True)
    assert (data / "ledger.db").read_bytes() == ledger_before
    assert not (data / "backups").exists() or not any((data / "backups").iterdir())


def test_backup_needs_a_new_or_empty_folder_and_restore_a_backup(
    filled: tuple[Reverie, Path], tmp_path: Path
) -> None:
    reverie, _ = filled
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(BadInput, match="not empty"):
        reverie.backup(busy)
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    with pytest.raises(BadInput, match="at least 8 characters"):
        reverie.backup(tmp_path / "short", passphrase="short")
    assert not (tmp_path / "short").exists()
    with pytest.raises(BadInput, match="not a finished Reverie backup"):
        restore_backup(busy, tmp_path / "target", default_unlocker())


@pytest.mark.slow
def test_cli_backup_restore_export_and_import(sample_chat: Path, tmp_path: Path) -> None:
    def reverie(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        script = Path(sys.executable).with_name("reverie")
        return subprocess.run(
            [str(script), "--data-dir", str(data_dir), *args],
            capture_output=True, text=True, timeout=600, env=cli_env(), check=False,
        )

    def ok(data_dir: Path, *args: str) -> str:
        done = reverie(data_dir, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    ok(first, "import", "--no-extract", str(sample_chat))
    ok(first, "export", "--jsonl", str(tmp_path / "first.jsonl"))
    assert "imported 9 turns, 0 memories and 0 history entries" in ok(
        second, "import", str(tmp_path / "first.jsonl"))
    ok(second, "export", "--jsonl", str(tmp_path / "second.jsonl"))
    assert (tmp_path / "second.jsonl").read_bytes() == (tmp_path / "first.jsonl").read_bytes()
    assert "3 days" in ok(second, "export", "--markdown", str(tmp_path / "second.md"))
    ok(second, "export", "--json", str(tmp_path / "second.json"))
    assert json.loads((tmp_path / "second.json").read_text())["format"] == "reverie-export"

    assert "a passphrase of its own" in ok(first, "backup", "--passphrase",
                                           str(tmp_path / "backup"))
    ok(third, "restore", str(tmp_path / "backup"))
    ok(third, "export", "--jsonl", str(tmp_path / "third.jsonl"))
    assert (tmp_path / "third.jsonl").read_bytes() == (tmp_path / "first.jsonl").read_bytes()
    refused = reverie(second, "restore", str(tmp_path / "backup"))
    assert refused.returncode == 1
    assert "already holds data" in refused.stderr
    assert "kept at" in ok(second, "restore", "--replace", str(tmp_path / "backup"))
