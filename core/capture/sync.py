"""Bring the store in line with what a parsed file holds now.

Two ways, chosen by the kind of source:
- **merge** (conversations): turns are added, never taken away; a turn already stored
  with the same text is skipped, and one stored with other text is a conflict that
  refuses the whole file. A conversation only grows, and an export of its last month
  must not erase the months before.
- **mirror** (documents): the file is the truth. Stored chunks are matched to the new
  ones by place and content, then by content alone, so an edit above a paragraph moves
  it (its locator changes) without re-deriving it; chunks that are gone are removed,
  new ones added. Only what changed is embedded and extracted again.

A memory left with no source by a removal is archived, with history, unless the user
pinned or edited it: their word outlives the file.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reverie.core.capture.parsed import ParsedSource, Piece, SourceKind, Trust
from reverie.core.store import records
from reverie.core.store.edits import change_memory
from reverie.core.store.forget import CONTENT_TOMBSTONE
from reverie.core.store.ledger import Ledger
from reverie.core.store.records import NewEpisode
from reverie.core.types import Actor, Changes, MemoryStatus
from reverie.models.base import Embedder

WHOLE_SOURCE = ""  # the tombstone locator that stands for a whole source
_MOVING = "\0moving:"  # a locator no parser writes, held while chunks change places


class Mode(enum.Enum):
    """How a parsed source meets what is stored of it."""

    MERGE = "merge"
    MIRROR = "mirror"


def mode_for(kind: SourceKind) -> Mode:
    """Conversations merge; documents mirror their file."""
    return Mode.MERGE if kind is SourceKind.CHAT else Mode.MIRROR


def source_id_for(kind: str, name: str) -> str:
    """The stable id of a source, from its kind and key."""
    return f"{kind}:" + hashlib.sha256(f"{kind}\0{name}".encode()).hexdigest()[:16]


def episode_id_for(source_id: str, locator: str) -> str:
    """The stable id of a conversation turn, from its source and its place there."""
    return "ep_" + hashlib.sha256(f"{source_id}\0{locator}".encode()).hexdigest()[:20]


def chunk_id_for(source_id: str, locator: str, digest: str) -> str:
    """The id of a document chunk: its content counts, since its place may be reused."""
    return "ep_" + hashlib.sha256(f"{source_id}\0{locator}\0{digest}".encode()).hexdigest()[:20]


def piece_digest(piece: Piece) -> str:
    """What identifies a piece's content (speaker and text)."""
    return hashlib.sha256(f"{piece.speaker}\0{piece.text}".encode()).hexdigest()


@dataclass(frozen=True)
class SourcePlan:
    """What applying one parsed source will change."""

    source_id: str
    kind: SourceKind
    title: str
    trust: Trust
    add: tuple[NewEpisode, ...]
    relocate: tuple[tuple[str, str], ...]  # (episode id, its new locator)
    remove: tuple[str, ...]
    unchanged: int
    forgotten: int  # pieces the user forgot, never brought back
    conflicts: tuple[str, ...]  # merge only: turns stored with other text


def plan_source(ledger: Ledger, parsed: ParsedSource, trust: Trust) -> SourcePlan:
    """Compare a parsed source with what is stored of it; changes nothing."""
    source_id = source_id_for(parsed.kind.value, parsed.key)
    stored = ledger.query(
        "SELECT id, locator, text_sha256 FROM episodes WHERE source_id = ?", (source_id,)
    )
    tombs = {
        row["locator"]
        for row in ledger.query("SELECT locator FROM forgotten WHERE source_id = ?", (source_id,))
    }
    base: dict[str, Any] = {
        "source_id": source_id, "kind": parsed.kind, "title": parsed.title, "trust": trust
    }
    if WHOLE_SOURCE in tombs:
        return SourcePlan(**base, add=(), relocate=(), remove=(), unchanged=0,
                          forgotten=len(parsed.pieces), conflicts=())
    if mode_for(parsed.kind) is Mode.MERGE:
        return _plan_merge(base, parsed.pieces, stored, tombs)
    return _plan_mirror(base, parsed.pieces, stored, tombs)


def _plan_merge(
    base: dict[str, Any], pieces: Sequence[Piece], stored: Sequence[Any], tombs: set[str]
) -> SourcePlan:
    by_locator = {row["locator"]: row["text_sha256"] for row in stored}
    add: list[NewEpisode] = []
    conflicts: list[str] = []
    unchanged = forgotten = 0
    for piece in pieces:
        digest = piece_digest(piece)
        known = by_locator.get(piece.locator)
        if piece.locator in tombs:
            forgotten += 1
        elif known == digest:
            unchanged += 1
        elif known is not None:
            conflicts.append(f"turn {piece.locator!r} is already stored with other text")
        else:
            add.append(_new_episode(episode_id_for(base["source_id"], piece.locator), piece,
                                    digest))
    return SourcePlan(**base, add=tuple(add), relocate=(), remove=(), unchanged=unchanged,
                      forgotten=forgotten, conflicts=tuple(conflicts))


def _plan_mirror(
    base: dict[str, Any], pieces: Sequence[Piece], stored: Sequence[Any], tombs: set[str]
) -> SourcePlan:
    wanted = [(piece, piece_digest(piece)) for piece in pieces]
    forgotten = sum(1 for _, digest in wanted if CONTENT_TOMBSTONE + digest in tombs)
    wanted = [(p, d) for p, d in wanted if CONTENT_TOMBSTONE + d not in tombs]
    exact = {(row["locator"], row["text_sha256"]): row["id"] for row in stored}
    kept: dict[str, str] = {}  # stored id -> its new locator
    unmatched: list[tuple[Piece, str]] = []
    for piece, digest in wanted:
        found = exact.pop((piece.locator, digest), None)
        if found is None:
            unmatched.append((piece, digest))
        else:
            kept[found] = piece.locator
    by_content: dict[str, list[str]] = defaultdict(list)
    for (_, digest), episode_id in exact.items():
        by_content[digest].append(episode_id)
    add: list[NewEpisode] = []
    relocate: list[tuple[str, str]] = []
    for piece, digest in unmatched:
        if by_content[digest]:
            relocate.append((by_content[digest].pop(0), piece.locator))
        else:
            add.append(_new_episode(chunk_id_for(base["source_id"], piece.locator, digest),
                                    piece, digest))
    remove = sorted(i for ids in by_content.values() for i in ids)
    return SourcePlan(**base, add=tuple(add), relocate=tuple(relocate), remove=tuple(remove),
                      unchanged=len(kept), forgotten=forgotten, conflicts=())


def _new_episode(episode_id: str, piece: Piece, digest: str) -> NewEpisode:
    return NewEpisode(
        id=episode_id, locator=piece.locator, speaker=piece.speaker, text=piece.text,
        time=piece.time, text_sha256=digest, session=piece.session,
    )


def apply_plan(
    conn: Any, plan: SourcePlan, vectors: np.ndarray, *, embedder: Embedder, batch: str
) -> Changes:
    """Write one plan inside the caller's transaction; `vectors` match `plan.add`."""
    if plan.add:  # a source the user forgot as a whole is never created again
        records.ensure_source(conn, plan.source_id, plan.kind.value, plan.title,
                              plan.trust.value)
    removed = remove_episodes(conn, plan.remove, embedder, batch)
    _relocate(conn, plan.relocate)
    for episode, vector in zip(plan.add, vectors, strict=True):
        records.insert_episode(conn, plan.source_id, episode)
        records.store_vector(conn, episode.id, embedder.name, vector)
    days = frozenset(e.time.date().isoformat() for e in plan.add)
    return removed + Changes(episodes_added=len(plan.add), days=days)


def remove_episodes(conn: Any, episode_ids: Sequence[str], embedder: Embedder,
                    batch: str) -> Changes:
    """Remove episodes whose source no longer holds them; archive what only they supported."""
    days: list[str] = []
    citing: set[str] = set()
    for episode_id in episode_ids:
        citing.update(row[0] for row in conn.execute(
            "SELECT memory_id FROM memory_sources WHERE episode_id = ?", (episode_id,)))
        row = records.remove_episode(conn, episode_id)
        if row is not None:
            days.append(row["day"])
    archived = _archive_orphans(conn, sorted(citing), embedder, batch)
    return Changes(episodes_removed=len(days), memories_changed=len(archived),
                   days=frozenset(days))


def _archive_orphans(conn: Any, memory_ids: Sequence[str], embedder: Embedder,
                     batch: str) -> list[str]:
    archived: list[str] = []
    for memory_id in memory_ids:
        row = conn.execute(
            "SELECT status, pinned, user_edited,"
            " EXISTS (SELECT 1 FROM memory_sources WHERE memory_id = m.id) AS cited"
            " FROM memories m WHERE id = ?", (memory_id,),
        ).fetchone()
        if row is None or row["cited"] or row["pinned"] or row["user_edited"]:
            continue
        if row["status"] not in (MemoryStatus.ACTIVE.value, MemoryStatus.SUPERSEDED.value):
            continue
        records.ensure_batch(conn, batch, Actor.IMPORT, "source changed")
        change_memory(conn, batch, Actor.IMPORT, "archived", memory_id,
                      changes={"status": MemoryStatus.ARCHIVED.value}, embed=embedder)
        archived.append(memory_id)
    return archived


def _relocate(conn: Any, moves: Sequence[tuple[str, str]]) -> None:
    # Two steps, because chunks may trade places and (source, locator) is unique.
    for episode_id, _ in moves:
        conn.execute("UPDATE episodes SET locator = ? WHERE id = ?",
                     (_MOVING + episode_id, episode_id))
    for episode_id, locator in moves:
        conn.execute("UPDATE episodes SET locator = ? WHERE id = ?", (locator, episode_id))
