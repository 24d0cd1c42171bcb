"""The demo: a throwaway store filled from a bundled sample life (`reverie --demo`).

The sample (`resources/samples/demo/`) is four months of one person's chats (chat
JSONL, the owner speaking as `user`) and notes (Markdown and text), plus the memories
Reverie would have formed from them (`memories.jsonl`), each citing the exact turns or
passages it came from. Building the demo runs the real pipeline without the LLM:

1. the chats and notes go through the ordinary importers (`Reverie.import_file`), so
   turns get their real ids, vectors and sources;
2. each memory's citations are looked up in the store (a chat turn by its locator, a
   note's passage by a quote, since a note's ids hang on the path it was imported
   from) and the memories are written out as a reverie-jsonl file with their history,
   which `import_reverie_jsonl` then checks and imports, provenance included;
3. people are linked as extraction links them, and every turn is marked extracted:
   the sample's memories stand for what extraction finds, so the app does not start
   the LLM over the sample.

The store's key never touches the keyring: it is derived from a passphrase that only
this process knows (`demo_environment` puts a random one in `$REVERIE_PASSPHRASE`,
which is what the app's opener reads). `demo_environment` also points the data and
config directories into a temporary folder and removes it on the way out, so the
user's own data directory, keyring and `models.json` are never touched.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reverie.core.compose import open_reverie
from reverie.core.config import CONFIG_DIR_ENV, DATA_DIR_ENV, resolve_config_dir
from reverie.core.errors import BadInput, PassphraseRequired
from reverie.core.extract.entities import find_entities, link_entities
from reverie.core.jobs import Progress, check_cancel, no_progress
from reverie.core.service import Reverie
from reverie.core.store import exchange_format as fmt
from reverie.core.store.edits import STATE_FIELDS
from reverie.core.store.keys import PASSPHRASE_ENV, Unlocker, fixed_passphrase
from reverie.core.store.ledger import Ledger
from reverie.core.store.schema import SCHEMA_VERSION
from reverie.core.types import OWNER_SPEAKER, Actor, MemoryStatus
from reverie.models.base import Embedder

log = logging.getLogger("reverie.demo")

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "samples" / "demo"
"""The bundled sample life: `chats/*.jsonl`, `notes/*`, `memories.jsonl`."""
NOTES_FOLDER = "sample-notes"  # where the notes are copied inside the demo data dir
REVIEW_BELOW = 0.6  # as extraction: a memory this unsure waits in the review inbox
_MODELS_FILE = "models.json"


@dataclass(frozen=True)
class DemoReport:
    """What a demo store holds once built, and how long building it took."""

    data_dir: Path
    episodes: int
    memories: int
    people: int
    to_review: int
    seconds: float


@dataclass(frozen=True)
class DemoPlace:
    """The temporary folder of one demo run and what lives in it."""

    root: Path
    data_dir: Path
    config_dir: Path


@contextmanager
def demo_environment() -> Iterator[DemoPlace]:
    """A temporary home for one demo run, removed with everything in it on exit.

    For the time of the block this process's `$REVERIE_DATA_DIR` and
    `$REVERIE_CONFIG_DIR` point inside it and `$REVERIE_PASSPHRASE` holds a random
    passphrase; the previous values come back afterwards. The user's model choices
    are copied in, so the demo runs the models they chose while nothing the demo does
    (a model added, a choice changed) reaches their own `models.json`.
    """
    user_config = resolve_config_dir()
    root = Path(tempfile.mkdtemp(prefix="reverie-demo-"))
    place = DemoPlace(root, root / "data", root / "config")
    saved = {name: os.environ.get(name) for name in (PASSPHRASE_ENV, DATA_DIR_ENV,
                                                       CONFIG_DIR_ENV)}
    try:
        place.config_dir.mkdir()
        if (user_config / _MODELS_FILE).is_file():
            shutil.copyfile(user_config / _MODELS_FILE, place.config_dir / _MODELS_FILE)
        os.environ[PASSPHRASE_ENV] = secrets.token_urlsafe(32)
        os.environ[DATA_DIR_ENV] = str(place.data_dir)
        os.environ[CONFIG_DIR_ENV] = str(place.config_dir)
        log.info("demo folder: %s", root)
        yield place
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)
        log.info("demo folder removed")


def build_demo(
    data_dir: str | os.PathLike[str],
    progress: Progress = no_progress,
    cancel: threading.Event | None = None,
    *,
    passphrase: str | None = None,
    embedder: Embedder | None = None,
    sample: Path = SAMPLE_DIR,
) -> DemoReport:
    """Fill a fresh data directory from the sample life; all of it or, on cancel or
    failure, nothing (the directory is left as empty as it was found).

    The key is derived from `passphrase` (default: `$REVERIE_PASSPHRASE`), never kept
    in the keyring. `embedder` defaults to the one the model registry chose.
    """
    target = Path(data_dir)
    if target.exists() and any(target.iterdir()):
        raise BadInput(f"{target} is not empty; the demo is built only in a fresh folder")
    chosen = passphrase or os.environ.get(PASSPHRASE_ENV)
    if not chosen:
        raise PassphraseRequired(f"the demo store needs a passphrase (${PASSPHRASE_ENV})")
    existed = target.exists()
    started = time.perf_counter()
    try:
        report = _build(target, sample, unlocker=Unlocker(None, fixed_passphrase(chosen)),
                        embedder=embedder, progress=progress, cancel=cancel)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        if existed:
            target.mkdir()
        raise
    seconds = time.perf_counter() - started
    log.info("demo built in %.1f s: %d turns, %d memories", seconds, report.episodes,
             report.memories)
    return DemoReport(target, report.episodes, report.memories, report.people,
                      report.to_review, seconds)


def sample_files(sample: Path = SAMPLE_DIR) -> list[Path]:
    """The sample's chat exports and notes, in import order."""
    chats = sorted((sample / "chats").glob("*.jsonl"))
    notes = sorted(p for p in (sample / "notes").iterdir() if p.is_file())
    if not chats or not (sample / "memories.jsonl").is_file():
        raise BadInput(f"the demo sample is missing or incomplete at {sample}")
    return chats + notes


def _build(
    target: Path, sample: Path, *, unlocker: Unlocker, embedder: Embedder | None,
    progress: Progress, cancel: threading.Event | None,
) -> DemoReport:
    files = sample_files(sample)
    total = len(files) + 2
    progress(0, total, "building the demo")
    reverie = open_reverie(target, embedder=embedder, unlocker=unlocker)
    try:
        notes = target / NOTES_FOLDER
        notes.mkdir()
        for done, path in enumerate(files):
            check_cancel(cancel)
            # Notes are imported from a copy, so "open source" finds them while the demo
            # runs and nothing ever points into the installed sample.
            source = Path(shutil.copy2(path, notes / path.name)) if path.parent.name == \
                "notes" else path
            reverie.import_file(source, extract=False, cancel=cancel)
            progress(done + 1, total, "building the demo")
        check_cancel(cancel)
        _import_memories(reverie, sample / "memories.jsonl", target, cancel)
        progress(total - 1, total, "building the demo")
        _finish(reverie.store.ledger, _read_sample(sample / "memories.jsonl"))
        progress(total, total, "building the demo")
        return _report(reverie, target)
    finally:
        reverie.close()


def _read_sample(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _import_memories(
    reverie: Reverie, sample: Path, target: Path, cancel: threading.Event | None
) -> None:
    """Resolve the sample memories' citations and import them as reverie-jsonl."""
    memories = _read_sample(sample)
    cited = {m["id"]: _resolve(reverie.store.ledger, m) for m in memories}
    lines = [fmt.header(SCHEMA_VERSION), *_exchange_records(memories, cited)]
    exchange = target / "sample-memories.jsonl"
    exchange.write_text("".join(fmt.dump(line) for line in lines), encoding="utf-8")
    try:
        reverie.import_reverie_jsonl(exchange, cancel=cancel)
    finally:
        exchange.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Cited:
    episode_ids: list[str]
    said: datetime  # when the latest cited turn was said: when Reverie learned it
    trust: str


def _resolve(ledger: Ledger, memory: dict[str, Any]) -> _Cited:
    """The episodes a sample memory cites: a turn by its locator, a passage by a quote."""
    found: list[Any] = []
    for cite in memory["cites"]:
        if "ref" in cite:
            sql, value = "e.locator = ?", cite["ref"]
        else:
            sql, value = "instr(e.text, ?) > 0", cite["quote"]
        rows = ledger.query(
            "SELECT e.id, e.time, s.trust FROM episodes e JOIN sources s ON s.id = e.source_id"
            f" WHERE s.name = ? AND {sql}", (cite["source"], value),
        )
        if len(rows) != 1:
            raise BadInput(f"demo sample: memory {memory['id']} cites {cite}, which matches "
                           f"{len(rows)} stored passages instead of one")
        found.extend(rows)
    said = max(datetime.fromisoformat(row["time"]) for row in found)
    return _Cited(sorted({row["id"] for row in found}), said, found[0]["trust"])


def _exchange_records(
    memories: list[dict[str, Any]], cited: dict[str, _Cited]
) -> list[dict[str, Any]]:
    """Memory, batch and history records in reverie-jsonl order (docs/formats.md)."""
    successor = {m["supersedes"]: m["id"] for m in memories if m["supersedes"]}
    learned = {mid: c.said + timedelta(minutes=1) for mid, c in cited.items()}
    records: dict[str, list[dict[str, Any]]] = {"memory": [], "batch": [], "history": []}
    for memory in memories:
        mid = memory["id"]
        created = _state(memory, cited[mid])
        final = dict(created)
        later = successor.get(mid)
        if later is not None:
            retired = learned[later].isoformat()
            final.update(status=MemoryStatus.SUPERSEDED.value, superseded_by=later,
                         retired=retired, valid_to=retired)
        records["memory"].append({
            "type": "memory", "id": mid, **{k: final[k] for k in ("kind", "text", "about")},
            "valid_from": final["valid_from"], "valid_to": final["valid_to"],
            "recorded": learned[mid].isoformat(), "retired": final["retired"],
            "status": final["status"], "pinned": False, "user_edited": False,
            "confidence": final["confidence"], "trust": cited[mid].trust,
            "superseded_by": final["superseded_by"], "episodes": cited[mid].episode_ids,
            "review": bool(final["review"]), "time_note": final["time_note"],
        })
        records["batch"].append(_batch("b_" + mid, Actor.EXTRACTOR, "extraction",
                                       learned[mid]))
        records["history"].append(_history("b_" + mid, mid, Actor.EXTRACTOR, "created",
                                           before=None, after=created, at=learned[mid]))
        if later is not None:
            records["batch"].append(_batch("b_sup_" + mid, Actor.CONSOLIDATOR, "superseded",
                                           learned[later]))
            records["history"].append(_history("b_sup_" + mid, mid, Actor.CONSOLIDATOR,
                                               "superseded", before=created, after=final,
                                               at=learned[later]))
    # History in the order it happened, so undo's "latest change" is the latest.
    records["history"].sort(key=lambda r: r["at"])
    return records["memory"] + records["batch"] + records["history"]


def _state(memory: dict[str, Any], cited: _Cited) -> dict[str, Any]:
    """The memory's state as the history records it (store/edits.py STATE_FIELDS)."""
    state = {
        "kind": memory["kind"], "text": memory["text"], "about": memory["about"],
        "valid_from": memory["valid_from"], "valid_to": None,
        "status": MemoryStatus.ACTIVE.value, "pinned": 0, "user_edited": 0,
        "confidence": memory["confidence"], "retired": None, "superseded_by": None,
        "review": int(memory["confidence"] < REVIEW_BELOW), "time_note": memory["time_note"],
    }
    assert set(state) == set(STATE_FIELDS), "the history's state fields changed"
    return state


def _batch(batch_id: str, actor: Actor, label: str, at: datetime) -> dict[str, Any]:
    return {"type": "batch", "id": batch_id, "actor": actor.value, "label": label,
            "at": at.isoformat(), "undone_by": None}


def _history(
    batch: str, memory: str, actor: Actor, action: str, *, before: dict[str, Any] | None,
    after: dict[str, Any], at: datetime,
) -> dict[str, Any]:
    return {"type": "history", "batch": batch, "memory": memory, "actor": actor.value,
            "action": action, "before": before, "after": after, "at": at.isoformat(),
            "undone_by": None}


def _finish(ledger: Ledger, memories: list[dict[str, Any]]) -> None:
    """Link people as extraction does, and mark every turn as seen by extraction."""
    with ledger.transaction() as conn:
        for memory in memories:
            rows = conn.execute(
                "SELECT e.text, e.source_id FROM memory_sources ms JOIN episodes e"
                " ON e.id = ms.episode_id WHERE ms.memory_id = ?", (memory["id"],),
            ).fetchall()
            sources = sorted({row["source_id"] for row in rows})
            marks = ",".join("?" * len(sources))
            speakers = conn.execute(
                f"SELECT DISTINCT speaker FROM episodes WHERE source_id IN ({marks})", sources
            ).fetchall()
            participants = frozenset(row["speaker"] for row in speakers)
            text = "\n".join(row["text"] for row in rows)
            link_entities(conn, memory["id"], find_entities(
                memory["text"], text, memory["about"], participants, OWNER_SPEAKER))
        conn.execute("UPDATE episodes SET extracted = 1 WHERE extracted = 0")


def _report(reverie: Reverie, target: Path) -> DemoReport:
    ledger = reverie.store.ledger
    people = ledger.query("SELECT COUNT(*) AS n FROM entities WHERE kind = 'person'")
    review = ledger.query("SELECT COUNT(*) AS n FROM memories WHERE review = 1")
    counts = reverie.counts()
    return DemoReport(target, counts["episodes"], counts["memories"], int(people[0]["n"]),
                      int(review[0]["n"]), 0.0)
