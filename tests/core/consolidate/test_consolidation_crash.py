"""kill -9 at random points of `reverie consolidate`, then a rerun: the same end state as
a run that was never interrupted (the two stores' exports compared)."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from reverie.core.compose import open_reverie
from reverie.core.store.keys import Unlocker
from reverie.core.types import MemoryKind
from reverie.models.base import LLM, Embedder
from tests.core.consolidate.seeding import Seed, seed
from tests.core.test_crash import count, passphrase
from tests.ledger_access import cli_env

pytestmark = pytest.mark.slow

KILLS = 3
# Fields that say when something was written, not what the store holds.
VOLATILE = ("recorded", "retired")


def seeds() -> list[Seed]:
    """Memories that give a run merges, supersedes, summaries and fades to do."""
    items = [
        Seed("Ana moved to Lisbon for work.", datetime(2023, 3, 1), "Ana", MemoryKind.EVENT),
        Seed("Ana moved back to Porto.", datetime(2023, 9, 1), "Ana", MemoryKind.EVENT),
        Seed("Ben works at Northwind as an engineer.", datetime(2022, 1, 5), "Ben"),
        Seed("Ben works at Contoso now.", datetime(2023, 2, 5), "Ben"),
        Seed("Ben tried a new brand of toothpaste.", datetime(2016, 4, 2), "Ben",
             MemoryKind.EVENT, 0.5),
    ]
    for day in range(1, 6):
        when = datetime(2023, 6, day, 9)
        items += [
            Seed(f"Ana swam {day} kilometres in the lake before work.", when, "Ana"),
            Seed(f"Ana swam {day} kilometres in the lake before breakfast.", when.replace(hour=10),
                 "Ana"),
            Seed(f"Ben baked {day} loaves of sourdough bread.", when.replace(hour=18), "Ben"),
        ]
    return items


def cli(data: Path) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).with_name("reverie")
    return subprocess.Popen(
        [str(script), "--data-dir", str(data), "consolidate"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env(),
    )


def exported(data: Path, llm: LLM, embedder: Embedder, target: Path) -> dict[str, object]:
    """The store's memories and journal as an export, without write times."""
    reverie = open_reverie(data, llm=llm, embedder=embedder, unlocker=Unlocker(None, passphrase))
    try:
        reverie.export_jsonl(target)
        journal = {
            row["key"]: row["state"]
            for row in reverie.store.ledger.query("SELECT key, state FROM consolidation_changes")
        }
    finally:
        reverie.close()
    memories = {}
    for line in target.read_text(encoding="utf-8").splitlines()[1:]:
        record = json.loads(line)
        if record.pop("type") == "memory":
            memories[record["id"]] = {k: v for k, v in record.items() if k not in VOLATILE}
    return {"memories": memories, "journal": journal}


def test_killed_consolidation_ends_as_an_uninterrupted_one(
    tmp_path: Path, bundled_llm: LLM, bundled_embedder: Embedder
) -> None:
    template = tmp_path / "template"
    reverie = open_reverie(template, llm=bundled_llm, embedder=bundled_embedder,
                           unlocker=Unlocker(None, passphrase))
    try:
        seed(reverie, seeds())
        with reverie.store.ledger.transaction() as conn:  # learned long ago: it may fade
            conn.execute("UPDATE memories SET recorded_ts = valid_from_ts"
                         " WHERE text LIKE '%toothpaste%'")
        planned = reverie.consolidation.plan()
        assert "fade" in {change.op for change in planned}
    finally:
        reverie.close()
    assert len(planned) >= 10
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    shutil.copytree(template, whole)
    shutil.copytree(template, killed)

    assert cli(whole).wait(timeout=600) == 0

    rng = random.Random(2026)
    kills = 0
    for _ in range(KILLS):
        process = cli(killed)
        deadline = time.monotonic() + 300
        applied = "SELECT COUNT(*) FROM consolidation_changes WHERE state != 'planned'"
        start = count(killed, applied)
        # Kill once this attempt has applied something, after a random extra moment.
        while count(killed, applied) <= start and process.poll() is None:
            assert time.monotonic() < deadline, "the run applied nothing in 5 minutes"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    assert kills >= 1, "every run finished before it could be killed"
    assert cli(killed).wait(timeout=600) == 0

    expected = exported(whole, bundled_llm, bundled_embedder, tmp_path / "whole.jsonl")
    actual = exported(killed, bundled_llm, bundled_embedder, tmp_path / "killed.jsonl")
    assert actual["journal"] == expected["journal"]
    assert actual["memories"] == expected["memories"]
