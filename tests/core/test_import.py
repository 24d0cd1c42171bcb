"""Importing chat JSONL into the store: atomic, idempotent, honest about bad input."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core.errors import BadInput, Cancelled, InputFileError
from reverie.core.privacy import PrivacyRules, Rule, RuleKind
from reverie.core.service import Reverie


def test_import_adds_every_turn_once(open_store: Callable[..., Reverie], sample_chat: Path) -> None:
    reverie = open_store()
    report = reverie.import_file(sample_chat, extract=False)
    assert report.episodes_added == 9
    assert report.sources == ("Sam and me",)
    assert report.changes.days == {"2026-03-02", "2026-03-05", "2026-03-08"}
    before = reverie.counts()
    again = reverie.import_file(sample_chat, extract=False)
    assert (again.episodes_added, again.episodes_skipped) == (0, 9)
    assert reverie.counts() == before
    assert reverie.store.index.count() == 9


def test_bad_file_changes_nothing(open_store: Callable[..., Reverie], tmp_path: Path) -> None:
    reverie = open_store()
    good = {"conversation": "c", "time": "2024-01-01T00:00:00", "speaker": "a", "text": "fine"}
    path = tmp_path / "half-bad.jsonl"
    path.write_text(json.dumps(good) + "\n" + '{"conversation": "c"}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="line 2"):
        reverie.import_file(path, extract=False)
    assert reverie.counts()["episodes"] == 0
    assert reverie.store.index.count() == 0


def test_a_turn_whose_text_changed_is_refused_not_overwritten(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store()
    line = {"conversation": "c", "time": "2024-01-01T00:00:00", "speaker": "a", "id": "1"}
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    first.write_text(json.dumps({**line, "text": "original"}) + "\n", encoding="utf-8")
    second.write_text(json.dumps({**line, "text": "rewritten"}) + "\n", encoding="utf-8")
    reverie.import_file(first, extract=False)
    with pytest.raises(BadInput, match="already stored with other text"):
        reverie.import_file(second, extract=False)
    assert [h.text for h in reverie.search("original rewritten", k=5)] == ["original"]


def test_cancel_before_writing_leaves_nothing(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    cancel = threading.Event()

    def cancel_on_first_progress(done: int, total: int, what: str) -> None:
        cancel.set()

    with pytest.raises(Cancelled):
        reverie.import_file(
            sample_chat, extract=False, progress=cancel_on_first_progress, cancel=cancel
        )
    assert reverie.counts()["episodes"] == 0


def test_index_is_reconciled_with_the_ledger_on_open(
    open_store: Callable[..., Reverie], sample_chat: Path, tmp_path: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    store = reverie.store
    dropped = sorted(store.index.ids())[:3]
    store.index.delete(dropped)
    from reverie.core.store.index import IndexEntry

    orphan_vector = store.ledger.query("SELECT vector FROM vectors LIMIT 1")[0]["vector"]
    import numpy as np

    store.index.upsert(
        [IndexEntry("ep_orphan", "episode", 0.0)],
        np.frombuffer(orphan_vector, dtype=np.float32).reshape(1, -1),
    )
    reverie.close()
    reopened = open_store(data_dir=tmp_path / "data")
    assert reopened.store.index.ids() == {
        row["id"] for row in reopened.store.ledger.query("SELECT id FROM episodes")
    }


def test_the_report_counts_the_turns_never_remember_rules_kept_out(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.set_privacy_rules(PrivacyRules((Rule(RuleKind.TEXT, "Pottery"),)))
    lines = [json.loads(line) for line in sample_chat.read_text(encoding="utf-8").splitlines()]
    barred = {line["id"] for line in lines if "pottery" in line["text"].lower()}
    assert len(barred) == 2  # the sample's two turns about the pottery class
    report = reverie.import_file(sample_chat, extract=False)
    assert report.episodes_withheld == 2
    assert report.episodes_added == len(lines) - 2
    assert reverie.counts()["episodes"] == len(lines) - 2
    # Kept out, not stored: a second import meets them as new and keeps them out again.
    again = reverie.import_file(sample_chat, extract=False)
    assert (again.episodes_added, again.episodes_skipped, again.episodes_withheld) == (
        0, len(lines) - 2, 2)
    reverie.set_privacy_rules(PrivacyRules())
    assert reverie.import_file(sample_chat, extract=False).episodes_withheld == 0
