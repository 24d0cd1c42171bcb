"""Logs never carry what the user said or what Reverie remembers, at any level."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetTarget
from tests.core.test_extract import facts_for


def test_import_extract_edit_undo_forget_log_no_text(
    open_store: Callable[..., Reverie], sample_chat: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm = facts_for({"oat milk": [
        {"kind": "preference", "text": "Alex switched to oat milk because of dairy"},
    ]})
    reverie = open_store(llm=llm)
    reverie.import_file(sample_chat)
    memory, _ = reverie.memories.add("My locker code is 5521")
    reverie.memories.edit(memory, text="My locker code is 5522")
    reverie.memories.undo()
    reverie.search("oat milk", k=3)
    reverie.memories.forget(reverie.memories.plan_forget(ForgetTarget(memory_ids=(memory,))))
    reverie.rebuild_index()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "index" in logged  # the capture works: the store did log
    said = [json.loads(line)["text"] for line in sample_chat.read_text().splitlines() if line]
    words = {"oat milk", "locker code", "5521", "5522", *[text[:25] for text in said]}
    assert [w for w in words if w.lower() in logged.lower()] == []


def test_watching_a_folder_logs_no_file_names_or_text(
    open_store: Callable[..., Reverie], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    folder = tmp_path / "divorce-lawyer-notes"
    folder.mkdir()
    (folder / "custody-plan.md").write_text("# Custody\n\nMediation on Tuesday.\n",
                                            encoding="utf-8")
    (folder / "unreadable-secret.txt").write_bytes(b"\0\1\2" * 100)
    reverie = open_store()
    reverie.capture.add(folder)
    reverie.capture.scan()
    (folder / "custody-plan.md").unlink()
    reverie.capture.scan()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "file" in logged  # capture did log
    for private in ("divorce", "custody", "Mediation", "unreadable-secret"):
        assert private.lower() not in logged.lower()
