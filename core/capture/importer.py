"""Write what a file holds into the store: planned, embedded, then one transaction.

All checks happen before the one write transaction: a bad file, a conflict with stored
text or a cancel leaves the store exactly as it was. The same path serves a one-off
import (`import_file`) and the folder watcher, which adds its own bookkeeping rows to
the same transaction through `extra_writes`. Being the one way in, it is also where the
user's never-remember rules are enforced (`core.privacy.withhold`): a covered turn or
passage is never embedded, stored or extracted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reverie.core import privacy
from reverie.core.capture.isolation import IsolatedParser
from reverie.core.capture.parsed import ParsedFile, Trust
from reverie.core.capture.reading import format_of, parse_bytes, read_file
from reverie.core.capture.sync import SourcePlan, apply_plan, plan_source
from reverie.core.embedding import embed_in_batches, pinned
from reverie.core.errors import BadInput
from reverie.core.jobs import Progress, check_cancel, no_progress
from reverie.core.store import records
from reverie.core.store.store import Store
from reverie.core.types import Changes
from reverie.models.base import Embedder

log = logging.getLogger("reverie.capture")

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class FileImport:
    """What one file changed in the store."""

    path: str
    format: str
    changes: Changes
    added_ids: tuple[str, ...]
    skipped: int  # pieces already stored as they are, or forgotten by the user
    sources: tuple[str, ...]  # titles of the sources it touched
    withheld: int = 0  # new pieces a never-remember rule kept out


def import_file(
    store: Store,
    embedder: Embedder,
    path: Path,
    *,
    trust: Trust | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    isolated: IsolatedParser | None = None,
    progress: Progress = no_progress,
    cancel: threading.Event | None = None,
) -> FileImport:
    """Read, parse and store one file of any format Reverie reads."""
    if path.is_dir():
        raise BadInput(f"{path} is a folder: to read every file in it and follow its "
                       "changes, add it as a source (`reverie sources add`, or Sources in "
                       "the app)")
    content = read_file(path, max_bytes)
    fmt = format_of(path, content.raw)
    parsed = parse_bytes(content, fmt, isolated)
    return write_parsed(
        store, embedder, parsed, trust or fmt.trust, progress=progress, cancel=cancel,
        extra_writes=lambda conn, plans: _record_import(conn, parsed, plans),
    )


def write_parsed(
    store: Store,
    embedder: Embedder,
    parsed: ParsedFile,
    trust: Trust,
    *,
    progress: Progress = no_progress,
    cancel: threading.Event | None = None,
    extra_writes: Callable[[Any, list[SourcePlan]], None] | None = None,
    sync_index: bool = True,
) -> FileImport:
    """Bring the store in line with `parsed`; embed only what is new.

    Without `sync_index` the vector index is left to the caller's next
    `Store.sync_index` (the outbox keeps the promise): a scan of thousands of small
    files updates Chroma once in a while, not once per file.
    """
    plans = [plan_source(store.ledger, source, trust) for source in parsed.sources]
    _refuse_conflicts(parsed.path, plans)
    plans, withheld = privacy.withhold(plans, privacy.load_rules(store.ledger), parsed.path)
    adds = [episode for plan in plans for episode in plan.add]
    embedder = pinned(embedder)
    vectors = embed_in_batches(embedder, [f"{e.speaker}: {e.text}" for e in adds], progress,
                               cancel, "embedding")
    check_cancel(cancel)
    changes = Changes()
    batch = records.new_batch_id()
    offset = 0
    with store.ledger.transaction() as conn:
        for plan in plans:
            part = vectors[offset : offset + len(plan.add)]
            offset += len(plan.add)
            changes = changes + apply_plan(conn, plan, part, embedder=embedder, batch=batch)
        if extra_writes is not None:
            extra_writes(conn, plans)
        privacy.count_withheld(conn, withheld)
    if sync_index:
        store.sync_index()
    skipped = sum(plan.unchanged + plan.forgotten for plan in plans)
    log.info("file stored: %d pieces added, %d removed, %d as they were, %d withheld",
             changes.episodes_added, changes.episodes_removed, skipped, withheld)
    return FileImport(
        path=str(parsed.path), format=parsed.format, changes=changes,
        added_ids=tuple(e.id for e in adds), skipped=skipped,
        sources=tuple(plan.title for plan in plans if plan.add or plan.unchanged),
        withheld=withheld,
    )


def _refuse_conflicts(path: Path, plans: list[SourcePlan]) -> None:
    conflicts = [c for plan in plans for c in plan.conflicts]
    if conflicts:
        shown = "; ".join(conflicts[:5])
        more = f" (and {len(conflicts) - 5} more)" if len(conflicts) > 5 else ""
        raise BadInput(f"{path}: nothing imported: {shown}{more}")


def _record_import(conn: Any, parsed: ParsedFile, plans: list[SourcePlan]) -> None:
    for plan in plans:
        if plan.add:
            records.record_import(conn, plan.source_id, str(parsed.path.resolve()),
                                  parsed.sha256, len(plan.add))
