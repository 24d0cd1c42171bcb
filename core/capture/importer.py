"""Turn a parsed chat file into episodes in the store, atomically and idempotently."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reverie.core.capture.chat_jsonl import ChatLine, read_chat_file
from reverie.core.embedding import embed_in_batches
from reverie.core.errors import InputFileError
from reverie.core.jobs import Progress, check_cancel
from reverie.core.store import records
from reverie.core.store.records import NewEpisode
from reverie.core.store.store import Store
from reverie.core.types import Changes
from reverie.models.base import Embedder

log = logging.getLogger("reverie.capture")

CHAT_SOURCE_KIND = "chat"
FORGOTTEN = "forgotten"  # in place of a text hash: the user forgot this turn
WHOLE_SOURCE = ""  # the tombstone locator that stands for a whole source


@dataclass(frozen=True)
class EpisodeImport:
    """Episodes a file added, and how many of its lines were already stored."""

    changes: Changes
    added_ids: tuple[str, ...]
    skipped: int
    sources: tuple[str, ...]


def source_id_for(kind: str, name: str) -> str:
    """The stable id of a source, from its kind and name."""
    return f"{kind}:" + hashlib.sha256(f"{kind}\0{name}".encode()).hexdigest()[:16]


def episode_id_for(source_id: str, locator: str) -> str:
    """The stable id of an episode, from its source and its locator there."""
    return "ep_" + hashlib.sha256(f"{source_id}\0{locator}".encode()).hexdigest()[:20]


def import_chat_jsonl(
    store: Store,
    embedder: Embedder,
    path: Path,
    *,
    trust: str = "user-import",
    progress: Progress,
    cancel: threading.Event | None = None,
) -> EpisodeImport:
    """Import a chat JSONL file; a line already stored with the same text is skipped.

    All checks happen before the one write transaction: a bad line, a conflict with
    stored text or a cancel leaves the store exactly as it was.
    """
    chat_file = read_chat_file(path)
    lines = chat_file.lines
    by_source = _group_by_source(lines)
    new: dict[str, list[NewEpisode]] = {}
    problems: list[tuple[int, str]] = []
    skipped = 0
    for source_id, source_lines in by_source.items():
        stored = _stored_hashes(store, source_id)
        if stored.get(WHOLE_SOURCE) == FORGOTTEN:
            skipped += len(source_lines)  # the user forgot this conversation: never again
            continue
        fresh, conflicts, already = _fresh_episodes(source_id, source_lines, stored)
        new[source_id] = fresh
        problems.extend(conflicts)
        skipped += already
    if problems:
        raise InputFileError(str(path), sorted(problems))
    episodes = [e for group in new.values() for e in group]
    vectors = embed_in_batches(
        embedder, [f"{e.speaker}: {e.text}" for e in episodes], progress, cancel, "embedding turns"
    )
    check_cancel(cancel)
    names = {source_id_for(CHAT_SOURCE_KIND, ln.conversation): ln.conversation for ln in lines}
    names = {source_id: name for source_id, name in names.items() if source_id in new}
    offset = 0
    with store.ledger.transaction() as conn:
        for source_id, group in new.items():
            records.ensure_source(conn, source_id, CHAT_SOURCE_KIND, names[source_id], trust)
            for episode in group:
                records.insert_episode(conn, source_id, episode)
                records.store_vector(conn, episode.id, embedder.name, vectors[offset])
                offset += 1
            records.record_import(
                conn, source_id, str(path.resolve()), chat_file.sha256, len(group)
            )
    store.sync_index()
    log.info("imported %d episodes (%d already stored)", len(episodes), skipped)
    days = frozenset(e.time.date().isoformat() for e in episodes)
    changes = Changes(episodes_added=len(episodes), days=days)
    return EpisodeImport(changes, tuple(e.id for e in episodes), skipped, tuple(names.values()))


def _group_by_source(lines: Sequence[ChatLine]) -> dict[str, list[ChatLine]]:
    groups: dict[str, list[ChatLine]] = {}
    for line in lines:
        groups.setdefault(source_id_for(CHAT_SOURCE_KIND, line.conversation), []).append(line)
    return groups


def _stored_hashes(store: Store, source_id: str) -> dict[str, str]:
    rows = store.ledger.query(
        "SELECT locator, text_sha256 FROM episodes WHERE source_id = ?", (source_id,)
    )
    hashes = {row["locator"]: row["text_sha256"] for row in rows}
    for row in store.ledger.query(
        "SELECT locator FROM forgotten WHERE source_id = ?", (source_id,)
    ):
        hashes[row["locator"]] = FORGOTTEN
    return hashes


def _fresh_episodes(
    source_id: str, lines: Sequence[ChatLine], stored: dict[str, str]
) -> tuple[list[NewEpisode], list[tuple[int, str]], int]:
    fresh: list[NewEpisode] = []
    conflicts: list[tuple[int, str]] = []
    already = 0
    for line in lines:
        digest = hashlib.sha256(f"{line.speaker}\0{line.text}".encode()).hexdigest()
        known = stored.get(line.locator)
        if known in (digest, FORGOTTEN):
            already += 1
            continue
        if known is not None:
            conflicts.append(
                (line.line_no, f"turn {line.locator!r} is already stored with other text")
            )
            continue
        fresh.append(
            NewEpisode(
                id=episode_id_for(source_id, line.locator), locator=line.locator,
                speaker=line.speaker, text=line.text, time=line.time, text_sha256=digest,
                session=line.session,
            )
        )
    return fresh, conflicts, already
