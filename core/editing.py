"""What the user (and consolidation) may do to memories: add, edit, pin, archive,
supersede, undo and forget. Each call is one ledger transaction and one undoable batch,
returns the `Changes` the views refresh from, and then brings the search index in step.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reverie.core.embedding import pinned
from reverie.core.errors import BadInput
from reverie.core.extract.entities import Entity, EntityKind
from reverie.core.jobs import Progress, no_progress
from reverie.core.store import batch_effects, edits, records
from reverie.core.store.batch_effects import ADD, PERSON, REMOVE, Effect
from reverie.core.store.edits import State
from reverie.core.store.forget import ForgetPlan, ForgetTarget, apply_forget, plan_forget
from reverie.core.store.records import NewMemory, now_utc
from reverie.core.store.store import NEEDS_COMPACTION, Store
from reverie.core.timeutil import day_of
from reverie.core.types import Actor, Changes, HistoryEntry, MemoryKind, MemoryStatus
from reverie.models.base import Embedder

log = logging.getLogger("reverie.editing")

MAX_MEMORY_CHARS = 2000
MAX_PERSON_CHARS = 80
# Words that name the owner: the owner is never one of a memory's people (the memory's
# About says when it is about them), so these are refused rather than made a person.
OWNER_WORDS = frozenset({"me", "you", "i", "myself", "user"})


class MemoryEditor:
    """Changes memories on behalf of an actor, with history and undo."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder

    def add(
        self, text: str, *, kind: MemoryKind = MemoryKind.FACT, when: datetime | None = None,
        about: str = "me",
    ) -> tuple[str, Changes]:
        """Remember something the user wrote themselves; return its id."""
        clean = _checked_text(text)
        valid_from = when or now_utc()
        memory = NewMemory(
            id="mem_" + uuid.uuid4().hex[:20], kind=kind, text=clean, about=about.strip() or "me",
            valid_from=valid_from, confidence=1.0, trust="user", episode_ids=(),
            user_edited=True,
        )
        model = pinned(self._embedder)
        vector = model.embed([clean])[0]
        batch = records.new_batch_id()
        with self._store.ledger.transaction() as conn:
            records.ensure_batch(conn, batch, Actor.USER, "added by you")
            records.insert_memory(conn, memory, batch, Actor.USER)
            records.store_vector(conn, memory.id, model.name, vector)
        self._store.sync_index()
        return memory.id, Changes(memories_added=1, days=frozenset({day_of(valid_from)}))

    def edit(
        self, memory_id: str, *, text: str | None = None, kind: MemoryKind | None = None,
        when: datetime | None = None, about: str | None = None,
        people: Sequence[str] | None = None,
    ) -> Changes:
        """The user corrects a memory; consolidation never overrides it afterwards.

        `people` replaces the people the memory names (matched to known people whatever
        their case, new names become people); the same undo reverts it with the rest.
        """
        names = None if people is None else checked_people(people)
        changes: State = {"user_edited": 1}
        if text is not None:
            changes["text"] = _checked_text(text)
        if kind is not None:
            changes["kind"] = kind.value
        if when is not None:
            changes["valid_from"] = when.isoformat()
        if about is not None:
            changes["about"] = about.strip() or "me"
        return self._change(Actor.USER, "edited", memory_id, changes, "edited by you",
                            people=names)

    def pin(self, memory_id: str, pinned: bool = True) -> Changes:
        """Pin (or unpin) a memory: pinned memories never fade."""
        action = "pinned" if pinned else "unpinned"
        return self._change(Actor.USER, action, memory_id, {"pinned": int(pinned)}, action)

    def archive(self, memory_id: str, actor: Actor = Actor.USER) -> Changes:
        """Hide a memory from search and the timeline, keeping its text."""
        changes = {"status": MemoryStatus.ARCHIVED.value, "retired": now_utc().isoformat()}
        return self._change(actor, "archived", memory_id, changes, "archived")

    def review(self, memory_id: str, *, accept: bool) -> Changes:
        """The user's verdict on a memory in the review inbox: keep it, or archive it."""
        rows = self._store.ledger.query("SELECT review FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise BadInput(f"there is no memory {memory_id}")
        if not rows[0]["review"]:
            raise BadInput(f"memory {memory_id} is not waiting for review")
        if accept:
            return self._change(Actor.USER, "accepted", memory_id, {"review": 0}, "accepted")
        changes = {"review": 0, "status": MemoryStatus.ARCHIVED.value,
                   "retired": now_utc().isoformat()}
        return self._change(Actor.USER, "rejected", memory_id, changes, "rejected")

    def restore(self, memory_id: str) -> Changes:
        """Bring an archived or superseded memory back as active."""
        changes = {"status": MemoryStatus.ACTIVE.value, "retired": None, "valid_to": None,
                   "superseded_by": None}
        return self._change(Actor.USER, "restored", memory_id, changes, "restored")

    def supersede(
        self, memory_id: str, *, by: str | None, at: datetime, actor: Actor = Actor.USER
    ) -> Changes:
        """Mark a memory as no longer true from `at`, optionally replaced by `by`."""
        if by is not None and by == memory_id:
            raise BadInput("a memory cannot supersede itself")
        if by is not None and not self._store.ledger.query(
            "SELECT 1 FROM memories WHERE id = ?", (by,)
        ):
            raise BadInput(f"there is no memory {by}")
        changes = {"status": MemoryStatus.SUPERSEDED.value, "valid_to": at.isoformat(),
                   "retired": now_utc().isoformat(), "superseded_by": by}
        return self._change(actor, "superseded", memory_id, changes, "superseded")

    def undo(self, *, batch: str | None = None, change: int | None = None) -> Changes:
        """Undo one change, one batch, or (with neither) the latest batch not undone."""
        with self._store.ledger.transaction() as conn:
            if batch is None and change is None:
                batch = edits.last_undoable_batch(conn)
                if batch is None:
                    raise BadInput("there is nothing to undo")
            done = edits.undo(conn, batch=batch, change=change, embed=self._embedder)
        self._store.sync_index()
        return Changes(memories_changed=len(done.memory_ids), days=done.days)

    def history(self, memory_id: str | None = None, limit: int = 50) -> list[HistoryEntry]:
        """The newest recorded changes, of one memory or of all."""
        where, params = ("WHERE memory_id = ?", [memory_id]) if memory_id else ("", [])
        conn = self._store.ledger.reader()
        rows = conn.execute(
            f"SELECT * FROM history {where} ORDER BY seq DESC LIMIT ?", [*params, limit]
        ).fetchall()
        return [self._history_entry(conn, row) for row in rows]

    @staticmethod
    def _history_entry(conn: Any, row: Any) -> HistoryEntry:
        before = json.loads(row["before"]) if row["before"] else None
        after = json.loads(row["after"]) if row["after"] else None
        # A forgotten memory's history keeps no content: nor who it named.
        added, removed = (batch_effects.people_changed(conn, row["batch"], row["memory_id"])
                          if before is not None or after is not None else ([], []))
        return HistoryEntry(
            seq=row["seq"], batch=row["batch"], memory_id=row["memory_id"],
            actor=Actor(row["actor"]), action=row["action"], before=before, after=after,
            at=datetime.fromisoformat(row["at"]), undone_by=row["undone_by"],
            people_added=tuple(added), people_removed=tuple(removed),
        )

    def cited_episode_ids(self, memory_id: str) -> tuple[str, ...]:
        """The turns a memory was taken from (none for one the user wrote)."""
        rows = self._store.ledger.query(
            "SELECT episode_id FROM memory_sources WHERE memory_id = ?", (memory_id,))
        return tuple(str(row[0]) for row in rows)

    def plan_forget(self, target: ForgetTarget) -> ForgetPlan:
        """What forgetting `target` would remove: show it before `forget`."""
        return plan_forget(self._store.ledger, target)

    def forget(
        self, plan: ForgetPlan, *, progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> Changes:
        """Remove everything in `plan` from every file Reverie keeps; cannot be undone.

        The ledger commit is the point of no return; the index compaction after it may
        be cancelled and then finishes at the next start.
        """
        if plan.empty:
            raise BadInput("there is nothing to forget")
        batch = records.new_batch_id()
        with self._store.ledger.transaction() as conn:
            records.ensure_batch(conn, batch, Actor.USER, "forgotten")
            apply_forget(conn, plan, batch)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", (NEEDS_COMPACTION,)
            )
        self._store.sync_index()
        self._store.ledger.checkpoint()
        for backup in plan.backups:
            backup.unlink(missing_ok=True)
        self._store.rebuild_index(progress, cancel)
        log.info("forgot %d turns and %d memories", len(plan.episode_ids), len(plan.memory_ids))
        return Changes(
            episodes_removed=len(plan.episode_ids), memories_removed=len(plan.memory_ids),
            memories_changed=len(plan.memories_losing_citations), days=plan.days,
        )

    def _change(
        self, actor: Actor, action: str, memory_id: str, changes: State, label: str, *,
        people: tuple[str, ...] | None = None,
    ) -> Changes:
        batch = records.new_batch_id()
        with self._store.ledger.transaction() as conn:
            records.ensure_batch(conn, batch, actor, label)
            before, after = edits.change_memory(
                conn, batch, actor, action, memory_id, changes=changes, embed=self._embedder
            )
            if people is not None:
                # Links are not a memory's state: they are kept with the batch as its
                # effects (as a merge by hand keeps its own), so undo puts them back.
                effects = _people_effects(conn, memory_id, people)
                batch_effects.apply(conn, effects, self._embedder)
                batch_effects.record(conn, batch, effects)
        self._store.sync_index()
        days = {day_of(datetime.fromisoformat(s["valid_from"])) for s in (before, after)}
        return Changes(memories_changed=1, days=frozenset(days))


def checked_people(names: Sequence[str]) -> tuple[str, ...]:
    """The people `names` says, spacing tidied and repeats (in any case) dropped.

    Empty names are dropped; a name too long, or one that names the owner, is refused
    with `BadInput`.
    """
    found: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_PERSON_CHARS:
            raise BadInput(f"a person's name holds at most {MAX_PERSON_CHARS} characters"
                           f" (\"{name[:24]}…\" has {len(name)})")
        if name.lower() in OWNER_WORDS:
            raise BadInput(f"\"{name}\" is you, and you are never one of a memory's people;"
                           " set About to you instead")
        found.setdefault(Entity(EntityKind.PERSON, name).key, name)
    return tuple(found.values())


def _people_effects(conn: Any, memory_id: str, names: tuple[str, ...]) -> list[Effect]:
    """The links to remove and add so that the memory names exactly `names`; people
    not known yet are created (kept when an undo unlinks them: a redo links them again)."""
    linked = {str(row[0]) for row in conn.execute(
        "SELECT me.entity_id FROM memory_entities me JOIN entities e ON e.id = me.entity_id"
        " WHERE me.memory_id = ? AND e.kind = ?", (memory_id, EntityKind.PERSON))}
    wanted = [_person_id(conn, name) for name in names]
    effects: list[Effect] = [(REMOVE, PERSON, (memory_id, entity))
                             for entity in sorted(linked - set(wanted))]
    effects += [(ADD, PERSON, (memory_id, entity)) for entity in wanted if entity not in linked]
    return effects


def _person_id(conn: Any, name: str) -> str:
    """The id of the person called `name` (in any case), created when there is none."""
    person = Entity(EntityKind.PERSON, name)
    row = conn.execute("SELECT id FROM entities WHERE kind = ? AND key = ?",
                       (person.kind, person.key)).fetchone()
    if row is not None:
        return str(row[0])
    conn.execute("INSERT INTO entities (id, kind, name, key) VALUES (?, ?, ?, ?)",
                 (person.id, person.kind, person.name, person.key))
    return person.id


def _checked_text(text: str) -> str:
    clean = " ".join(text.split())
    if not clean:
        raise BadInput("a memory needs some text")
    if len(clean) > MAX_MEMORY_CHARS:
        raise BadInput(f"a memory holds at most {MAX_MEMORY_CHARS} characters")
    return clean
