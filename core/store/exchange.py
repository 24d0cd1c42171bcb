"""Export the whole store to an open format, and import it back without loss.

`export_jsonl` writes the reverie-jsonl format (docs/formats.md; its shape lives in
`exchange_format`): deterministic, with no export time in it, so export → import into an
empty store → export gives the same bytes. `import_jsonl` checks the whole file, then
writes it in one transaction with its ids, times and history exactly as they were.
`export_markdown` writes a document for people to read; it is not read back.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from reverie.core.embedding import embed_in_batches, pinned
from reverie.core.errors import BadInput, InputFileError, StoreError
from reverie.core.jobs import Progress, check_cancel
from reverie.core.store import exchange_format as fmt
from reverie.core.store import records
from reverie.core.store.exchange_format import ExchangeFile, Line, Record
from reverie.core.store.ledger import Ledger
from reverie.core.store.store import Store
from reverie.core.timeutil import day_of, parse_time
from reverie.core.types import Changes, ItemKind
from reverie.models.base import Embedder

log = logging.getLogger("reverie.exchange")



@dataclass(frozen=True)
class JsonlImport:
    """What importing a reverie-jsonl file added, and how many records were already stored."""

    path: str
    added: Mapping[str, int]  # per line type (read-only)
    skipped: int
    changes: Changes


# ---- export --------------------------------------------------------------------------


def export_jsonl(ledger: Ledger, path: Path) -> int:
    """Write the whole ledger to `path` as reverie-jsonl; return how many records."""
    with _snapshot(ledger) as conn:
        written = _write_atomically(path, _jsonl_lines(conn))
    log.info("exported %d records as %s", written - 1, fmt.FORMAT)
    return written - 1


def _jsonl_lines(conn: Any) -> Iterator[str]:
    schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
    yield fmt.dump(fmt.header(schema))
    for kind in fmt.TYPES:
        for record in fmt.ledger_records(conn, kind):
            yield fmt.dump({"type": kind, **record})


def export_markdown(ledger: Ledger, path: Path) -> int:
    """Write a readable document of every day's memories and turns; return how many days."""
    with _snapshot(ledger) as conn:
        written = _write_atomically(path, _markdown_parts(conn))
    return written - 1


def _markdown_parts(conn: Any) -> Iterator[str]:
    yield ("# Reverie\n\nEverything Reverie holds, day by day: what it remembers, then the "
           "conversations it learned it from.\n")
    days = conn.execute("SELECT day FROM episodes UNION SELECT day FROM memories ORDER BY day")
    for row in days.fetchall():
        yield _markdown_day(conn, row["day"])


@contextmanager
def _snapshot(ledger: Ledger) -> Iterator[Any]:
    # One read transaction: in WAL mode every query in it sees the same committed state,
    # so an export taken while the app writes is still consistent.
    conn = ledger.reader()
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")


def _markdown_day(conn: Any, day: str) -> str:
    out = [f"\n## {day}\n"]
    memories = conn.execute(
        "SELECT id, kind, text, valid_from, status, pinned FROM memories WHERE day = ?"
        " ORDER BY valid_from_ts, seq",
        (day,),
    ).fetchall()
    if memories:
        cited = _cited(conn, [row["id"] for row in memories])
        out.append("\n### Memories\n\n")
        out.extend(_markdown_memory(row, cited.get(row["id"], [])) for row in memories)
    turns = conn.execute(
        "SELECT e.locator, e.session, e.speaker, e.text, e.time, s.name FROM episodes e"
        " JOIN sources s ON s.id = e.source_id WHERE e.day = ? ORDER BY s.name, e.ts, e.seq",
        (day,),
    ).fetchall()
    if turns:
        out.append("\n### Conversations\n")
    heading: tuple[str, str | None] | None = None
    for row in turns:
        if heading != (row["name"], row["session"]):
            heading = (row["name"], row["session"])
            session = f" (session {row['session']})" if row["session"] else ""
            out.append(f"\n#### {row['name']}{session}\n\n")
        said = f"**{row['speaker']}**: {_flowed(row['text'])}"
        out.append(f"- {_clock(row['time'])} {said} `#{row['locator']}`\n")
    return "".join(out)


def _markdown_memory(row: Any, cited: list[str]) -> str:
    status = row["status"] + (", pinned" if row["pinned"] else "")
    sources = f" — from {', '.join(cited)}" if cited else ""
    return f"- {_clock(row['valid_from'])} *{row['kind']}* ({status}): {_flowed(row['text'])}" \
           f"{sources}\n"


def _cited(conn: Any, memory_ids: list[str]) -> dict[str, list[str]]:
    marks = ",".join("?" * len(memory_ids))
    rows = conn.execute(
        "SELECT ms.memory_id, s.name, e.locator FROM memory_sources ms"
        " JOIN episodes e ON e.id = ms.episode_id JOIN sources s ON s.id = e.source_id"
        f" WHERE ms.memory_id IN ({marks}) ORDER BY e.ts, e.seq",
        memory_ids,
    ).fetchall()
    cited: dict[str, list[str]] = {}
    for row in rows:
        cited.setdefault(row["memory_id"], []).append(f"{row['name']}#{row['locator']}")
    return cited


def _clock(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M")


def _flowed(text: str) -> str:
    # Indent continuation lines so a multi-line text stays inside its list item.
    return "\n  ".join(text.splitlines()) if text else "(no text)"


def _write_atomically(path: Path, chunks: Iterable[str]) -> int:
    """Write the chunks to `path` through a flushed `.partial` file; return how many."""
    if path.is_dir():
        raise BadInput(f"{path} is a folder; give a file name")
    partial = path.with_name(path.name + ".partial")
    try:
        written = 0
        with open(partial, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += 1
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written


# ---- import --------------------------------------------------------------------------


def import_jsonl(
    store: Store,
    embedder: Embedder,
    path: Path,
    progress: Progress,
    cancel: threading.Event | None = None,
) -> JsonlImport:
    """Import a reverie-jsonl file: everything or, on any bad line or conflict, nothing.

    Records already stored with the same content are skipped; one stored with other
    content refuses the whole file. The file's history is taken as it is (no 'created'
    entries are added) and vectors are computed again with `embedder`.
    """
    document = fmt.read_exchange_file(path)
    plan = _plan(store.ledger.reader(), document)
    if plan.problems:
        raise InputFileError(str(path), sorted(plan.problems))
    searchable = _searchable(plan)
    embedder = pinned(embedder)
    vectors = embed_in_batches(
        embedder, [text for _, text in searchable.values()], progress, cancel,
        "embedding turns and memories",
    )
    check_cancel(cancel)
    with store.ledger.transaction() as conn:
        # Another writer (a chat turn) may have landed since the plan: plan again.
        if _plan(conn, document).signature() != plan.signature():
            raise StoreError(f"{path}: the store changed while importing; nothing was "
                             "imported, please try again")
        vector_of = dict(zip(searchable, vectors, strict=True))
        _write(conn, plan, searchable, vector_of, embedder.name)
    store.sync_index()
    return _report(path, plan)


@dataclass
class _Plan:
    """What an import would write, given what the store holds now."""

    new: dict[str, list[Line]] = field(default_factory=lambda: {t: [] for t in fmt.TYPES})
    skipped: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def signature(self) -> tuple[object, ...]:
        """Identifies the plan's decisions, to tell whether the store changed since."""
        lines = tuple((k, tuple(ln.number for ln in v)) for k, v in self.new.items())
        return (lines, self.skipped, tuple(self.problems))


def _plan(conn: Any, document: ExchangeFile) -> _Plan:
    plan = _Plan()
    for kind in ("source", "episode", "memory", "batch"):
        _plan_by_id(conn, document.lines[kind], kind, plan)
    _plan_turn_places(conn, plan)
    _plan_references(conn, document, plan)
    _plan_history(conn, document.lines["history"], plan)
    _plan_imports(conn, document.lines["import"], plan)
    _plan_forgotten(conn, document.lines["forgotten"], plan)
    return plan


def _plan_by_id(conn: Any, lines: list[Line], kind: str, plan: _Plan) -> None:
    ids = [line.record["id"] for line in lines]
    stored = {record["id"]: record for record in fmt.records_where(conn, kind, "id", ids)}
    for line in lines:
        known = stored.get(line.record["id"])
        if known is None:
            plan.new[kind].append(line)
        elif _content(kind, known) == _content(kind, line.record):
            plan.skipped += 1
        else:
            plan.problems.append(
                (line.number, f"{kind} {line.record['id']} is already stored with other content")
            )


def _plan_turn_places(conn: Any, plan: _Plan) -> None:
    for line in plan.new["episode"]:
        source, locator = line.record["source"], line.record["locator"]
        taken = conn.execute(
            "SELECT id FROM episodes WHERE source_id = ? AND locator = ?", (source, locator)
        ).fetchone()
        if taken is not None:
            plan.problems.append(
                (line.number, f"turn {locator!r} of {source} is already stored as {taken['id']}")
            )
        forgotten = conn.execute(
            "SELECT 1 FROM forgotten WHERE source_id = ? AND locator IN (?, '')", (source, locator)
        ).fetchone()
        if forgotten is not None:
            plan.problems.append(
                (line.number, f"turn {locator!r} of {source} was forgotten in this store; "
                              "it is not imported again")
            )


def _plan_references(conn: Any, document: ExchangeFile, plan: _Plan) -> None:
    sources = {line.record["id"] for line in document.lines["source"]}
    wanted = {r["source"] for k in ("episode", "import") for r in _records(plan.new[k])}
    sources |= _existing(conn, "sources", wanted - sources)
    for kind in ("episode", "import"):
        for line in plan.new[kind]:
            if line.record["source"] not in sources:
                plan.problems.append((line.number, f"unknown source {line.record['source']}"))
    episodes = {line.record["id"] for line in document.lines["episode"]}
    cited = {e for r in _records(plan.new["memory"]) for e in r["episodes"]}
    episodes |= _existing(conn, "episodes", cited - episodes)
    _plan_shared_ids(conn, document, plan)
    for line in plan.new["memory"]:
        unknown = [e for e in line.record["episodes"] if e not in episodes]
        if unknown:
            plan.problems.append((line.number, f"cites unknown episode(s) {', '.join(unknown)}"))


def _plan_shared_ids(conn: Any, document: ExchangeFile, plan: _Plan) -> None:
    # Episodes and memories share one id space (the vector index, search hits).
    episode_ids = {r["id"] for r in _records(document.lines["episode"])}
    episode_ids |= _existing(conn, "episodes", {r["id"] for r in _records(plan.new["memory"])})
    memory_ids = _existing(conn, "memories", {r["id"] for r in _records(plan.new["episode"])})
    for line in plan.new["memory"]:
        if line.record["id"] in episode_ids:
            plan.problems.append((line.number, f"id {line.record['id']} is also an episode's"))
    for line in plan.new["episode"]:
        if line.record["id"] in memory_ids:
            plan.problems.append((line.number, f"id {line.record['id']} is also a memory's"))


def _plan_history(conn: Any, lines: list[Line], plan: _Plan) -> None:
    # History entries have no id of their own: a memory's history is compared whole.
    groups: dict[str, list[Line]] = {}
    for line in lines:
        groups.setdefault(line.record["memory"], []).append(line)
    stored: dict[str, list[Record]] = {}
    for record in fmt.records_where(conn, "history", "memory_id", list(groups)):
        stored.setdefault(record["memory"], []).append(record)
    for memory_id, group in groups.items():
        known = stored.get(memory_id)
        if known is None:
            plan.new["history"].extend(group)
        elif known == _records(group):
            plan.skipped += len(group)
        else:
            plan.problems.append(
                (group[0].number, f"the history of memory {memory_id} differs from the stored one")
            )
    plan.new["history"].sort(key=lambda line: line.number)  # the file's order is the history's


def _plan_imports(conn: Any, lines: list[Line], plan: _Plan) -> None:
    # Import records have no id either; identical ones already stored are skipped.
    sources = sorted({line.record["source"] for line in lines})
    stored = Counter(_frozen(r) for r in fmt.records_where(conn, "import", "source_id", sources))
    for line in lines:
        key = _frozen(line.record)
        if stored[key] > 0:
            stored[key] -= 1
            plan.skipped += 1
        else:
            plan.new["import"].append(line)


def _plan_forgotten(conn: Any, lines: list[Line], plan: _Plan) -> None:
    sources = sorted({line.record["source"] for line in lines})
    stored = {
        (r["source"], r["locator"])
        for r in fmt.records_where(conn, "forgotten", "source_id", sources)
    }
    for line in lines:
        if (line.record["source"], line.record["locator"]) in stored:
            plan.skipped += 1  # forgotten here too; when does not matter
        else:
            plan.new["forgotten"].append(line)


# Fields that say when or how far a store handled a record rather than what it is: two
# stores that imported the same turn at different times still hold the same turn.
_BOOKKEEPING = {"source": ("added",), "episode": ("recorded", "extracted")}


def _content(kind: str, record: Record) -> Record:
    skip = _BOOKKEEPING.get(kind, ())
    return {name: value for name, value in record.items() if name not in skip}


def _records(lines: list[Line]) -> list[Record]:
    return [line.record for line in lines]


def _frozen(record: Record) -> tuple[object, ...]:
    return tuple(record.values())


def _existing(conn: Any, table: str, ids: set[str]) -> set[str]:
    found: set[str] = set()
    chunk_ids = sorted(ids)
    for start in range(0, len(chunk_ids), fmt.PAGE):
        chunk = chunk_ids[start : start + fmt.PAGE]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk).fetchall()
        found.update(row["id"] for row in rows)
    return found


def _searchable(plan: _Plan) -> dict[str, tuple[ItemKind, str]]:
    """The new episodes and memories by id, with the text each is embedded and indexed by
    (the same texts the chat importer and the extractor use)."""
    items = {
        r["id"]: (ItemKind.EPISODE, f"{r['speaker']}: {r['text']}")
        for r in _records(plan.new["episode"])
    }
    items.update((r["id"], (ItemKind.MEMORY, r["text"])) for r in _records(plan.new["memory"]))
    return items


def _write(
    conn: Any,
    plan: _Plan,
    searchable: dict[str, tuple[ItemKind, str]],
    vector_of: dict[str, np.ndarray],
    model: str,
) -> None:
    for kind in fmt.TYPES:  # sources before episodes before memories: foreign keys hold
        for record in _records(plan.new[kind]):
            seq = fmt.insert_record(conn, kind, record)
            if kind not in ("episode", "memory"):
                continue
            item_id = record["id"]
            item_kind, text = searchable[item_id]
            records.store_vector(conn, item_id, model, vector_of[item_id])
            # The one writer that pairs an FTS row (at its fixed rowid) with the outbox row
            # that brings the vector into the index.
            records.index_text(conn, records.fts_rowid(item_kind, seq), item_id, item_kind, text)


def _report(path: Path, plan: _Plan) -> JsonlImport:
    added = {kind: len(lines) for kind, lines in plan.new.items()}
    days = {day_of(parse_time(r["time"])) for r in _records(plan.new["episode"])}
    days |= {day_of(parse_time(r["valid_from"])) for r in _records(plan.new["memory"])}
    changes = Changes(
        episodes_added=added["episode"], memories_added=added["memory"], days=frozenset(days)
    )
    log.info("imported %s (%d already stored)", added, plan.skipped)
    return JsonlImport(str(path), MappingProxyType(added), plan.skipped, changes)
