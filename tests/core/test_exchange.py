"""The reverie-jsonl export and import: lossless, deterministic, all or nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from reverie.core.compose import open_reverie
from reverie.core.errors import BadInput, Cancelled, InputFileError, StoreError
from reverie.core.service import Reverie
from reverie.core.store.exchange_format import FIELDS, is_exchange_file
from reverie.core.store.forget import ForgetTarget
from reverie.core.store.keys import Unlocker
from reverie.core.types import MemoryKind
from reverie.models.base import LLM, Embedder
from tests.keyring_double import MemoryKeyring

# A turn with an offset, non-ASCII text and a U+2028 inside it (JSON leaves that
# character unescaped, so a reader splitting lines the way str.splitlines does breaks).
ODD_TURN = {
    "conversation": "Notes", "id": "n1", "time": "2026-03-09T10:00:00+01:00",
    "speaker": "Alex", "text": "Café naïve 🎉 first line\u2028second line",
}


def fill(reverie: Reverie, sample_chat: Path, tmp_path: Path) -> None:
    """Give a store turns, memories with provenance, history with an undo, a superseded
    and an archived memory, and tombstones, without running the LLM."""
    reverie.import_file(sample_chat, extract=False)
    odd = tmp_path / "odd.jsonl"
    # Escaped here: the chat JSONL reader splits lines with str.splitlines.
    odd.write_text(json.dumps(ODD_TURN) + "\n", encoding="utf-8")
    reverie.import_file(odd, extract=False)
    edit = reverie.memories
    pottery, _ = edit.add("Alex signed up for pottery at the Riverside studio",
                          kind=MemoryKind.EVENT, when=datetime(2026, 3, 2, 19, 5), about="Alex")
    milk, _ = edit.add("Alex drinks oat milk", kind=MemoryKind.PREFERENCE,
                       when=datetime(2026, 3, 5, 8, 15), about="Alex")
    dinner, _ = edit.add("Dinner with Sam is on Friday at the Thai place",
                         kind=MemoryKind.PLAN, when=datetime(2026, 3, 5, 8, 18))
    doomed, _ = edit.add("Alex has a secret to forget", when=datetime(2026, 3, 8, 21, 0))
    first_turn = _episode_id(reverie, "s1-1")
    with reverie.store.ledger.transaction() as conn:
        conn.execute("INSERT INTO memory_sources (memory_id, episode_id) VALUES (?, ?)",
                     (pottery, first_turn))
    edit.pin(pottery)
    edit.edit(milk, text="Alex drinks oat milk because of dairy")
    edit.undo()
    edit.supersede(dinner, by=pottery, at=datetime(2026, 3, 6, 9, 0))
    edit.archive(milk)
    plan = edit.plan_forget(
        ForgetTarget(memory_ids=(doomed,), episode_ids=(_episode_id(reverie, "s3-2"),))
    )
    edit.forget(plan)


def _episode_id(reverie: Reverie, locator: str) -> str:
    rows = reverie.store.ledger.query("SELECT id FROM episodes WHERE locator = ?", (locator,))
    return str(rows[0]["id"])


def lines_of(path: Path) -> list[dict[str, object]]:
    """The records of an export (the header left out)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[1:] if line]


@pytest.fixture
def small_export(
    open_store: Callable[..., Reverie], sample_chat: Path, tmp_path: Path
) -> tuple[Path, dict[str, int]]:
    """A curated store (no LLM) exported as reverie-jsonl, and its counts."""
    reverie = open_store(data_dir=tmp_path / "source")
    fill(reverie, sample_chat, tmp_path)
    path = tmp_path / "small.jsonl"
    reverie.export_jsonl(path)
    counts = reverie.counts()
    reverie.close()
    return path, counts


@pytest.fixture(scope="module")
def extracted_export(
    tmp_path_factory: pytest.TempPathFactory, bundled_embedder: Embedder, bundled_llm: LLM
) -> tuple[Path, Path]:
    """The sample chat imported and extracted by the real LLM, curated, then exported as
    reverie-jsonl and as Markdown (built once for the module)."""
    from tests.conftest import SAMPLE_CHAT

    root = tmp_path_factory.mktemp("extracted")
    # Module fixtures start before the per-test keyring double: bring a keyring along.
    reverie = open_reverie(root / "data", llm=bundled_llm, embedder=bundled_embedder,
                           unlocker=Unlocker(MemoryKeyring(), None))
    try:
        report = reverie.import_file(SAMPLE_CHAT)
        assert report.memories_added > 0, "the fixture needs extracted memories"
        first = str(reverie.store.ledger.query("SELECT id FROM memories ORDER BY seq")[0]["id"])
        reverie.memories.pin(first)
        reverie.memories.edit(first, text="Alex signed up for a pottery class")
        jsonl, markdown = root / "export.jsonl", root / "export.md"
        reverie.export_jsonl(jsonl)
        reverie.export_markdown(markdown)
    finally:
        reverie.close()
    return jsonl, markdown


@pytest.mark.slow
def test_export_import_export_gives_identical_files(
    extracted_export: tuple[Path, Path], open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    jsonl, markdown = extracted_export
    records = lines_of(jsonl)
    kinds = {record["type"] for record in records}
    assert {"source", "import", "episode", "memory", "batch", "history"} <= kinds
    extracted = [r for r in records if r["type"] == "memory" and r["episodes"]]
    assert extracted, "extracted memories carry their provenance"
    assert [r["action"] for r in records if r["type"] == "history"].count("created") == sum(
        r["type"] == "memory" for r in records
    )
    reverie = open_store(data_dir=tmp_path / "empty")
    report = reverie.import_reverie_jsonl(jsonl)
    assert report.skipped == 0
    assert sum(report.added.values()) == len(records)
    again_jsonl, again_markdown = tmp_path / "again.jsonl", tmp_path / "again.md"
    reverie.export_jsonl(again_jsonl)
    reverie.export_markdown(again_markdown)
    assert again_jsonl.read_bytes() == jsonl.read_bytes()
    assert again_markdown.read_bytes() == markdown.read_bytes()


@pytest.mark.slow
def test_imported_items_are_searchable_and_importing_again_adds_nothing(
    extracted_export: tuple[Path, Path], open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    jsonl, _ = extracted_export
    reverie = open_store(data_dir=tmp_path / "empty")
    reverie.import_reverie_jsonl(jsonl)
    counts = reverie.counts()
    items = counts["episodes"] + counts["memories"]
    # Vectors are not in the file: the embedder computed one per item, all indexed.
    assert reverie.store.index.count() == items
    assert len(reverie.store.ledger.query("SELECT item_id FROM vectors")) == items
    hits = reverie.search("pottery class", k=20)
    assert "Alex signed up for a pottery class" in {hit.text for hit in hits}
    again = reverie.import_reverie_jsonl(jsonl)
    assert sum(again.added.values()) == 0
    assert again.skipped == len(lines_of(jsonl))
    assert reverie.counts() == counts
    # The app's Import command takes the same file through `import_file`.
    through_app = reverie.import_file(jsonl)
    assert (through_app.episodes_added, through_app.memories_added) == (0, 0)
    assert through_app.episodes_skipped == len(lines_of(jsonl))


def test_curated_store_round_trips_exactly(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    tmp_path: Path,
) -> None:
    path, counts = small_export
    records = lines_of(path)
    memories = {r["status"] for r in records if r["type"] == "memory"}
    assert memories == {"active", "superseded", "archived"}
    assert any(r["type"] == "forgotten" for r in records)
    assert any(r["type"] == "history" and r["undone_by"] for r in records)
    assert any(r["type"] == "batch" and r["undone_by"] for r in records)
    assert ODD_TURN["text"] in {r.get("text") for r in records}
    for record in records:
        assert list(record)[1:] == list(FIELDS[str(record["type"])])
    reverie = open_store(data_dir=tmp_path / "empty")
    reverie.import_reverie_jsonl(path)
    assert reverie.counts() == counts
    again = tmp_path / "again.jsonl"
    reverie.export_jsonl(again)
    assert again.read_bytes() == path.read_bytes()
    # The history came from the file: no 'created' row was added by the import.
    pinned = next(r for r in records if r["type"] == "memory" and r["pinned"])
    actions = [h.action for h in reverie.memories.history(str(pinned["id"]))]
    assert actions == ["pinned", "created"]


def test_a_bad_line_refuses_the_file_and_changes_nothing(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    tmp_path: Path,
) -> None:
    path, _ = small_export
    lines = path.read_text(encoding="utf-8").split("\n")
    memory_at = next(i for i, line in enumerate(lines) if '"type": "memory"' in line)
    broken = json.loads(lines[memory_at])
    del broken["about"]
    lines[memory_at] = json.dumps(broken, ensure_ascii=False)
    lines.insert(3, '{"type": "episode", "id": ')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines), encoding="utf-8")
    reverie = open_store(data_dir=tmp_path / "empty")
    with pytest.raises(InputFileError) as refused:
        reverie.import_reverie_jsonl(bad)
    assert [number for number, _ in refused.value.problems] == [4, memory_at + 2]
    assert "missing field 'about'" in str(refused.value)
    assert reverie.counts() == {"sources": 0, "episodes": 0, "memories": 0, "history": 0}
    assert reverie.store.index.count() == 0


def test_a_record_stored_with_other_content_refuses_the_file(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    tmp_path: Path,
) -> None:
    path, counts = small_export
    reverie = open_store(data_dir=tmp_path / "empty")
    reverie.import_reverie_jsonl(path)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(
        path.read_text(encoding="utf-8").replace("Alex drinks oat milk", "Alex drinks tea", 1),
        encoding="utf-8",
    )
    with pytest.raises(InputFileError, match="already stored with other content"):
        reverie.import_reverie_jsonl(changed)
    assert reverie.counts() == counts


def test_turns_a_store_imported_itself_are_recognised_not_refused(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    sample_chat: Path, tmp_path: Path,
) -> None:
    # The same chat imported here at another time: same turns, other bookkeeping.
    path, _ = small_export
    reverie = open_store(data_dir=tmp_path / "empty")
    reverie.import_file(sample_chat, extract=False)
    report = reverie.import_reverie_jsonl(path)
    assert (report.added["episode"], report.added["memory"]) == (1, 3)
    assert report.added["forgotten"] == 1  # a later chat import will not bring it back
    assert reverie.counts()["episodes"] == 10  # importing never deletes what is here


def test_a_turn_forgotten_here_is_not_brought_back(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    tmp_path: Path,
) -> None:
    path, _ = small_export
    reverie = open_store(data_dir=tmp_path / "empty")
    reverie.import_reverie_jsonl(path)
    plan = reverie.memories.plan_forget(ForgetTarget(episode_ids=(_episode_id(reverie, "s2-2"),)))
    reverie.memories.forget(plan)
    before = reverie.counts()
    with pytest.raises(InputFileError, match="was forgotten in this store"):
        reverie.import_reverie_jsonl(path)
    assert reverie.counts() == before


def test_cancel_before_writing_leaves_nothing(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    tmp_path: Path,
) -> None:
    path, _ = small_export
    reverie = open_store(data_dir=tmp_path / "empty")
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def cancel_on_first_progress(done: int, total: int, what: str) -> None:
        seen.append((done, total))
        cancel.set()

    with pytest.raises(Cancelled):
        reverie.import_reverie_jsonl(path, progress=cancel_on_first_progress, cancel=cancel)
    assert seen
    assert reverie.counts()["episodes"] == 0


def test_only_files_with_the_header_are_taken_for_exports(
    small_export: tuple[Path, dict[str, int]], sample_chat: Path,
    open_store: Callable[..., Reverie], tmp_path: Path,
) -> None:
    path, _ = small_export
    assert is_exchange_file(path)
    assert not is_exchange_file(sample_chat)
    assert not is_exchange_file(tmp_path / "missing.jsonl")
    reverie = open_store(data_dir=tmp_path / "empty")
    with pytest.raises(InputFileError, match="line 1: not a reverie-jsonl file"):
        reverie.import_reverie_jsonl(sample_chat)
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"format": "reverie-jsonl", "version": 1, "schema": 999}\n',
                     encoding="utf-8")
    with pytest.raises(InputFileError, match="newer Reverie"):
        reverie.import_reverie_jsonl(newer)


def test_references_must_resolve_in_the_file_or_the_store(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    header = '{"format": "reverie-jsonl", "version": 1, "schema": 2}'
    memory = {
        "type": "memory", "id": "mem_x", "kind": "fact", "text": "t", "about": "me",
        "valid_from": "2026-01-01T00:00:00", "valid_to": None,
        "recorded": "2026-01-01T00:00:00", "retired": None, "status": "active",
        "pinned": False, "user_edited": False, "confidence": 1.0, "trust": "user",
        "superseded_by": None, "episodes": ["ep_nowhere"],
    }
    path = tmp_path / "dangling.jsonl"
    path.write_text(f"{header}\n{json.dumps(memory)}\n", encoding="utf-8")
    reverie = open_store(data_dir=tmp_path / "empty")
    with pytest.raises(InputFileError, match="line 2: cites unknown episode"):
        reverie.import_reverie_jsonl(path)
    assert reverie.counts()["memories"] == 0


def test_export_refuses_a_folder_and_leaves_no_partial_file(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store(data_dir=tmp_path / "again")
    with pytest.raises(BadInput, match="is a folder"):
        reverie.export_jsonl(tmp_path)
    with pytest.raises(BadInput, match="cannot write"):
        reverie.export_markdown(tmp_path / "no" / "such" / "dir.md")
    assert not list(tmp_path.glob("*.partial"))


def test_markdown_is_grouped_by_day_with_citations(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    tmp_path: Path,
) -> None:
    path, _ = small_export
    reverie = open_store(data_dir=tmp_path / "empty")
    reverie.import_reverie_jsonl(path)
    markdown = tmp_path / "memories.md"
    assert reverie.export_markdown(markdown) == 4
    text = markdown.read_text(encoding="utf-8")
    days = [line for line in text.splitlines() if line.startswith("## ")]
    assert days == ["## 2026-03-02", "## 2026-03-05", "## 2026-03-08", "## 2026-03-09"]
    assert ("- 19:05 *event* (active, pinned): Alex signed up for pottery at the Riverside"
            " studio — from Sam and me#s1-1") in text
    assert "*plan* (superseded)" in text
    assert "- 19:05 **Alex**: Hi Sam!" in text
    assert "secret to forget" not in text


def test_import_refuses_while_a_conflicting_turn_lands(
    small_export: tuple[Path, dict[str, int]], open_store: Callable[..., Reverie],
    tmp_path: Path, sample_chat: Path,
) -> None:
    # A chat turn written between the check and the transaction must not slip through.
    path, _ = small_export
    reverie = open_store(data_dir=tmp_path / "empty")

    def import_the_same_turns_meanwhile(done: int, total: int, what: str) -> None:
        if done == total and not reverie.counts()["episodes"]:
            reverie.import_file(sample_chat, extract=False)

    with pytest.raises(StoreError, match="changed while importing"):
        reverie.import_reverie_jsonl(path, progress=import_the_same_turns_meanwhile)
    assert reverie.counts()["memories"] == 0
