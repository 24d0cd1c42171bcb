"""A watched folder kept in step by scans: edits, atomic saves, moves, deletes, restarts."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from reverie.core.capture import catalog
from reverie.core.capture.folders import FolderIndexer
from reverie.core.capture.isolation import IsolatedParser
from reverie.core.errors import Cancelled
from reverie.core.service import Reverie
from reverie.core.store import records
from reverie.core.store.records import NewMemory
from reverie.core.types import Actor, MemoryKind, MemoryStatus
from tests.core.capture.folder_state import on_disk, stored

TRIP = (
    "# Lisbon trip\n\nWe took the night train and arrived at dawn.\n\n## Food\n\n"
    "Pastéis de nata every single morning at the bakery near Rossio.\n"
)
NEW_FIRST = "A new first paragraph about the weather, which was grey and cold all week."
JOURNAL = "Met Ana for coffee; she is moving to Porto in May.\n\nFinished the bookshelf.\n"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "trip.md").write_text(TRIP, encoding="utf-8")
    (folder / "journal.txt").write_text(JOURNAL, encoding="utf-8")
    (folder / "sub" / "ideas.md").write_text("Build a tiny greenhouse.\n", encoding="utf-8")
    (folder / ".hidden.md").write_text("never read\n", encoding="utf-8")
    (folder / "node_modules").mkdir()
    (folder / "node_modules" / "x.md").write_text("never read\n", encoding="utf-8")
    return folder


def _scan(reverie: Reverie) -> dict[str, int]:
    (report,) = reverie.capture.scan()
    return report.actions


def test_store_matches_the_folder_after_each_change(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    reverie = open_store()
    reverie.capture.add(folder)
    assert _scan(reverie) == {"stored": 3}
    assert stored(reverie) == on_disk(folder)
    assert len(on_disk(folder)) == 3  # hidden files and node_modules were never read

    with (folder / "trip.md").open("a", encoding="utf-8") as handle:
        handle.write("\n## Next time\n\nStay longer in Sintra.\n")
    (report,) = reverie.capture.scan()
    assert report.actions == {"stored": 1, "unchanged": 2}
    assert report.changes.episodes_added == 1  # only the new section was embedded
    assert report.changes.episodes_removed == 0
    assert stored(reverie) == on_disk(folder)

    temp = folder / ".journal.txt.swp"
    temp.write_text("Met Ana for tea instead.\n\n" + JOURNAL.split("\n\n")[1], encoding="utf-8")
    os.replace(temp, folder / "journal.txt")  # how editors save: write aside, rename over
    _scan(reverie)
    assert stored(reverie) == on_disk(folder)

    (folder / "sub" / "ideas.md").rename(folder / "ideas.md")
    _scan(reverie)
    assert stored(reverie) == on_disk(folder)

    (folder / "trip.md").unlink()
    _scan(reverie)
    assert stored(reverie) == on_disk(folder)
    assert reverie.counts()["episodes"] == sum(len(v) for v in on_disk(folder).values())


def test_an_edit_above_a_paragraph_moves_it_without_rederiving(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    # Paragraphs long enough to be chunks of their own (short ones are merged).
    long_journal = "\n\n".join(
        f"Day {day}: " + " ".join(f"walked to the market and bought pears number {n}."
                                  for n in range(20)) for day in range(1, 4))
    (folder / "journal.txt").write_text(long_journal, encoding="utf-8")
    reverie = open_store()
    reverie.capture.add(folder)
    _scan(reverie)
    ids_before = {row["text"]: row["id"] for row in reverie.store.ledger.query(
        "SELECT id, text FROM episodes")}
    (folder / "journal.txt").write_text(f"{NEW_FIRST}\n\n{long_journal}",
                                        encoding="utf-8")
    (report,) = reverie.capture.scan()
    assert report.changes.episodes_added == 1
    ids_after = {row["text"]: row["id"] for row in reverie.store.ledger.query(
        "SELECT id, text FROM episodes")}
    for text, episode_id in ids_before.items():
        assert ids_after[text] == episode_id  # kept, with its memories and citations
    assert stored(reverie) == on_disk(folder)


def test_deleting_a_file_archives_what_only_it_supported(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    reverie = open_store()
    reverie.capture.add(folder)
    _scan(reverie)
    ledger = reverie.store.ledger
    (journal_piece,) = [r["id"] for r in ledger.query(
        "SELECT id FROM episodes WHERE text LIKE 'Met Ana%'")]
    (trip_piece,) = [r["id"] for r in ledger.query(
        "SELECT id FROM episodes WHERE text LIKE '%night train%'")]
    memories = {
        "only": (journal_piece,), "both": (journal_piece, trip_piece), "pinned": (journal_piece,)
    }
    with ledger.transaction() as conn:
        records.ensure_batch(conn, "b_test", Actor.EXTRACTOR, "extraction")
        for name, cites in memories.items():
            records.insert_memory(conn, NewMemory(
                id=f"mem_{name}", kind=MemoryKind.FACT, text=f"Ana is moving to Porto ({name}).",
                about="Ana", valid_from=records.now_utc(), confidence=0.5, trust="user-file",
                episode_ids=cites), "b_test", Actor.EXTRACTOR)
    reverie.memories.pin("mem_pinned")
    (folder / "journal.txt").unlink()
    (report,) = reverie.capture.scan()
    assert report.actions["removed"] == 1
    status = {r["id"]: r["status"] for r in ledger.query("SELECT id, status FROM memories")}
    assert status == {"mem_only": MemoryStatus.ARCHIVED, "mem_both": MemoryStatus.ACTIVE,
                      "mem_pinned": MemoryStatus.ACTIVE}
    (entry,) = [h for h in reverie.memories.history("mem_only") if h.action == "archived"]
    assert entry.actor is Actor.IMPORT
    reverie.memories.undo(batch=entry.batch)  # the user can take it back
    assert ledger.query("SELECT status FROM memories WHERE id = 'mem_only'")[0][0] == "active"


def test_changes_while_closed_are_caught_up_on_the_next_start(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    data = tmp_path / "data"
    reverie = open_store(data_dir=data)
    reverie.capture.add(folder)
    _scan(reverie)
    reverie.close()
    (folder / "journal.txt").write_text("Rewritten while Reverie was closed.\n", encoding="utf-8")
    (folder / "new.md").write_text("# Added while closed\n\nHello.\n", encoding="utf-8")
    (folder / "trip.md").unlink()
    again = open_store(data_dir=data)
    assert _scan(again) == {"stored": 2, "unchanged": 1, "removed": 1}
    assert stored(again) == on_disk(folder)
    assert _scan(again) == {"unchanged": 3}


def test_an_unplugged_folder_keeps_everything(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    reverie = open_store()
    watch = reverie.capture.add(folder)
    _scan(reverie)
    before = stored(reverie)
    folder.rename(tmp_path / "elsewhere")
    (report,) = reverie.capture.scan()
    assert report.problems
    assert "not found" in report.problems[0][1]
    assert stored(reverie) == before
    assert catalog.get_watch(reverie.store.ledger, watch.id).error


def test_a_file_that_crashed_reverie_twice_is_skipped(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    reverie = open_store()
    watch = reverie.capture.add(folder)
    victim = folder / "journal.txt"
    info = victim.stat()
    for _ in range(catalog.MAX_ATTEMPTS):  # as if Reverie died while reading it, twice
        catalog.mark_reading(reverie.store.ledger, victim, watch.id, info.st_size,
                             info.st_mtime_ns)
    (report,) = reverie.capture.scan()
    assert report.actions == {"stored": 2, "skipped": 1}
    assert reverie.capture.problems(watch.id) == [
        (str(victim), "Reverie stopped while reading this file; skipped until it changes")
    ]
    victim.write_text("Edited since.\n", encoding="utf-8")
    assert _scan(reverie) == {"stored": 1, "unchanged": 2}


@pytest.mark.parametrize("include", [("*.md",)])
def test_include_patterns_and_never_remember(
    open_store: Callable[..., Reverie], tmp_path: Path, include: tuple[str, ...]
) -> None:
    folder = _folder(tmp_path)
    reverie = open_store()
    reverie.capture.add(folder, include=include)
    _scan(reverie)
    assert sorted(Path(p).name for p in stored(reverie)) == ["ideas.md", "trip.md"]
    reverie.capture.set_never_remember(("trip*",))
    _scan(reverie)
    assert sorted(Path(p).name for p in stored(reverie)) == ["ideas.md"]


def test_a_cancelled_scan_is_not_taken_for_a_crash(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    reverie = open_store()
    watch = reverie.capture.add(folder)
    cancel = threading.Event()

    class CancellingEmbedder:
        """The real embedder, but the user presses Stop while it works."""

        name = reverie.embedder.name
        dim = reverie.embedder.dim

        def embed(self, texts: list[str]) -> np.ndarray:
            cancel.set()
            return reverie.embedder.embed(texts)

    indexer = FolderIndexer(reverie.store, CancellingEmbedder(), IsolatedParser(), 1 << 20)
    for _ in range(catalog.MAX_ATTEMPTS + 1):
        cancel.clear()
        with pytest.raises(Cancelled):
            indexer.scan(watch, cancel=cancel)
    assert _scan(reverie) == {"stored": 3}
    assert reverie.capture.problems(watch.id) == []


def test_a_touched_file_with_the_same_bytes_keeps_its_record(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    reverie = open_store()
    reverie.capture.add(folder)
    _scan(reverie)
    query = "SELECT format, pieces, sha256, status FROM files WHERE path = ?"
    target = folder / "trip.md"
    before = tuple(reverie.store.ledger.query(query, (str(target),))[0])
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
    assert _scan(reverie) == {"unchanged": 3}
    assert tuple(reverie.store.ledger.query(query, (str(target),))[0]) == before
    assert catalog.file_record(reverie.store.ledger, target).mtime_ns == target.stat().st_mtime_ns
