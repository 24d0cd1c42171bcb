"""kill -9 in the middle of an import and its extraction loses and duplicates nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlite

from bench.locomo import DEV_DIR, chat_lines
from reverie.core.compose import open_reverie
from reverie.core.errors import WrongKey
from reverie.core.store.keys import Unlocker
from reverie.models.base import LLM, Embedder
from tests.ledger_access import CLI_PASSPHRASE, cli_env, ledger_connection

pytestmark = pytest.mark.slow

TURNS = 60


def passphrase(_request: object) -> str:
    """The passphrase the subprocess was given."""
    return CLI_PASSPHRASE


def count(data: Path, sql: str) -> int:
    """A count read from another process's ledger while it writes; 0 before it exists."""
    if not (data / "ledger.db").exists() or not (data / "key.json").exists():
        return 0
    try:
        conn = ledger_connection(data)
    except WrongKey:
        return 0  # the first page is not written yet
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite.OperationalError:
        return 0  # the schema is not there yet
    finally:
        conn.close()


def test_killed_import_resumes_without_loss_or_duplicates(
    tmp_path: Path, bundled_llm: LLM, bundled_embedder: Embedder
) -> None:
    # Its first 60 turns: enough for memories to be written when the kill comes, few
    # enough that resuming with the real model takes a minute, not ten.
    turns = chat_lines(DEV_DIR / "conv-30.json")[:TURNS]
    jsonl = tmp_path / "conv-30-head.jsonl"
    jsonl.write_text("".join(json.dumps(t) + "\n" for t in turns), encoding="utf-8")
    data = tmp_path / "data"
    script = Path(sys.executable).with_name("reverie")
    process = subprocess.Popen(
        [str(script), "--data-dir", str(data), "import", str(jsonl)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env(),
    )
    try:
        deadline = time.monotonic() + 300
        while count(data, "SELECT COUNT(*) FROM memories") < 2:
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "no memories after 5 minutes"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    reverie = open_reverie(
        data, llm=bundled_llm, embedder=bundled_embedder, unlocker=Unlocker(None, passphrase)
    )
    try:
        store = reverie.store
        assert store.ledger.query("PRAGMA integrity_check")[0][0] == "ok"
        # The turns were committed in one transaction before extraction began.
        assert reverie.counts()["episodes"] == TURNS
        extracted_before = {
            row["id"] for row in store.ledger.query("SELECT id FROM episodes WHERE extracted = 1")
        }
        memories_before = reverie.counts()["memories"]
        assert 0 < len(extracted_before) < TURNS
        # Reconciled at open: the index holds exactly the ledger's vectors.
        wanted = {row["item_id"] for row in store.ledger.query("SELECT item_id FROM vectors")}
        assert store.index.ids() == wanted
        # Every memory cites an extracted episode; nothing half-written.
        orphans = store.ledger.query(
            "SELECT COUNT(*) FROM memories m LEFT JOIN memory_sources ms ON ms.memory_id = m.id"
            " LEFT JOIN episodes e ON e.id = ms.episode_id WHERE e.extracted IS NOT 1"
        )
        assert orphans[0][0] == 0
        # Resuming only visits what was not extracted: nothing is extracted twice.
        result = reverie.extract_pending()
        assert result.episodes_seen == TURNS - len(extracted_before)
        assert reverie.counts()["memories"] == memories_before + result.changes.memories_added
        duplicates = store.ledger.query(
            "SELECT COUNT(*) FROM (SELECT about, text FROM memories"
            " GROUP BY about, lower(text) HAVING COUNT(*) > 1)"
        )
        assert duplicates[0][0] == 0
    finally:
        reverie.close()
