"""kill -9 in the middle of indexing a folder: the next scan goes on where it stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reverie.core.compose import open_reverie
from reverie.core.store.keys import Unlocker
from reverie.models.base import LLM, Embedder
from tests.core.capture.folder_state import on_disk, stored
from tests.core.test_crash import count, passphrase
from tests.ledger_access import cli_env

pytestmark = pytest.mark.slow

FILES = 240


def _notes(folder: Path) -> None:
    for n in range(FILES):
        sub = folder / f"month-{n % 6:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note-{n:03d}.md").write_text(
            f"# Note {n}\n\nOn day {n} I walked {n % 9 + 1} km along the river and saw "
            f"{n % 5 + 2} herons.\n\nShopping list {n}: bread, pears, {n} grams of tea.\n",
            encoding="utf-8",
        )


def test_a_killed_scan_resumes_without_rereading_or_duplicating(
    tmp_path: Path, bundled_llm: LLM, bundled_embedder: Embedder,
    request: pytest.FixtureRequest,
) -> None:
    folder = tmp_path / "notes"
    _notes(folder)
    data = tmp_path / "data"
    script = Path(sys.executable).with_name("reverie")
    process = subprocess.Popen(
        [str(script), "--data-dir", str(data), "sources", "add", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env(),
    )
    try:
        deadline = time.monotonic() + 300
        while count(data, "SELECT COUNT(*) FROM files WHERE status = 'stored'") < 40:
            assert process.poll() is None, "the scan ended before it could be killed"
            assert time.monotonic() < deadline, "nothing stored after 5 minutes"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    done_before = count(data, "SELECT COUNT(*) FROM files WHERE status = 'stored'")
    assert 40 <= done_before < FILES

    again = open_reverie(data, llm=bundled_llm, embedder=bundled_embedder,
                         unlocker=Unlocker(None, passphrase))
    request.addfinalizer(again.close)
    assert again.store.ledger.query("PRAGMA integrity_check")[0][0] == "ok"
    (report,) = again.capture.scan()
    assert report.actions == {"unchanged": done_before, "stored": FILES - done_before}
    assert stored(again) == on_disk(folder)
    pieces = sum(len(v) for v in on_disk(folder).values())
    assert again.counts()["episodes"] == pieces
    assert again.store.index.count() == pieces
