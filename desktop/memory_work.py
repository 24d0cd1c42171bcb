"""The user's changes to one memory, as jobs for `Lane.EDIT`.

Each returns a `MemoryOutcome` whose `changes` the runner announces, so the timeline
and counts refresh as after any other job, and whose `message` the status bar shows.
Forgetting is planned first (`plan_forget`, a read) so the user sees everything that
will go before anything does. A merge by hand first finds candidates (`merge_candidates`,
a read) for the user to choose from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reverie.core.retrieve.options import SearchFilters
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetPlan, ForgetTarget
from reverie.core.types import Changes, ItemKind, MemoryKind
from reverie.desktop.jobs import JobContext

Work = Callable[[Reverie, JobContext], "MemoryOutcome"]


@dataclass(frozen=True)
class MemoryOutcome:
    """What a change did, for the views (`changes`) and the status bar (`message`)."""

    changes: Changes
    message: str
    memory_id: str  # the memory to show afterwards ("" when it is gone)


@dataclass(frozen=True)
class MemoryEdit:
    """The fields the edit dialog changed (None: left as it was)."""

    text: str | None = None
    kind: MemoryKind | None = None
    when: datetime | None = None
    about: str | None = None
    people: tuple[str, ...] | None = None  # replaces the people the memory names

    @property
    def empty(self) -> bool:
        """True when nothing was changed."""
        return self.text is None and self.kind is None and self.when is None and (
            self.about is None and self.people is None)


def edit(memory_id: str, change: MemoryEdit) -> Work:
    """Apply the user's edit: re-embeds a new text and marks the memory user-edited."""

    def work(facade: Reverie, _ctx: JobContext) -> MemoryOutcome:
        changes = facade.memories.edit(memory_id, text=change.text, kind=change.kind,
                                       when=change.when, about=change.about,
                                       people=change.people)
        return MemoryOutcome(changes, "Memory changed; Ctrl+Z undoes it", memory_id)

    return work


def pin(memory_id: str, pinned: bool) -> Work:
    """Pin (pinned memories never fade) or unpin."""

    def work(facade: Reverie, _ctx: JobContext) -> MemoryOutcome:
        changes = facade.memories.pin(memory_id, pinned)
        return MemoryOutcome(changes, "Pinned: it will never fade" if pinned else "Unpinned",
                             memory_id)

    return work


def undo(memory_id: str, change: int | None) -> Work:
    """Undo one recorded change of the memory (`change`), or its newest one not undone."""

    def work(facade: Reverie, _ctx: JobContext) -> MemoryOutcome:
        seq = change
        if seq is None:
            open_changes = [e for e in facade.memories.history(memory_id) if not e.undone_by]
            if not open_changes:
                return MemoryOutcome(Changes(), "Nothing to undo for this memory", memory_id)
            seq = open_changes[0].seq
        changes = facade.memories.undo(change=seq)
        return MemoryOutcome(changes, "Undone", memory_id)

    return work


def plan_forget(
    memory_ids: tuple[str, ...], episode_ids: tuple[str, ...] = ()
) -> Callable[[Reverie, JobContext], ForgetPlan]:
    """What forgetting these memories (and turns) would remove (changes nothing)."""

    def work(facade: Reverie, _ctx: JobContext) -> ForgetPlan:
        target = ForgetTarget(memory_ids=memory_ids, episode_ids=episode_ids)
        return facade.memories.plan_forget(target)

    return work


def forget(plan: ForgetPlan) -> Work:
    """Forget what `plan` lists, for good (the index is compacted with progress)."""

    def work(facade: Reverie, ctx: JobContext) -> MemoryOutcome:
        changes = facade.memories.forget(plan, progress=ctx.progress, cancel=ctx.cancel)
        return MemoryOutcome(changes, "Forgotten for good", "")

    return work


MAX_CANDIDATES = 12
_MEMORIES = SearchFilters(kinds=frozenset({ItemKind.MEMORY}))


@dataclass(frozen=True)
class MergeCandidate:
    """A memory the shown one could be merged with, as the merge dialog lists it."""

    id: str
    text: str
    kind: MemoryKind
    when: datetime


@dataclass(frozen=True)
class Candidates:
    """The answer to one search for merge candidates (`query` as typed, "" for the
    memories most like the shown one), best first."""

    query: str
    found: tuple[MergeCandidate, ...]


def merge_candidates(
    memory_id: str, memory_text: str, query: str
) -> Callable[[Reverie, JobContext], Candidates]:
    """Current memories to merge `memory_id` with: those matching `query`, or with no
    query those most similar to its own text, best first (a read)."""

    def work(facade: Reverie, ctx: JobContext) -> Candidates:
        hits = facade.search(query.strip() or memory_text, k=MAX_CANDIDATES + 1,
                             filters=_MEMORIES)
        found = []
        for hit in hits:
            if ctx.cancel.is_set():
                break
            detail = facade.memory_detail(hit.id) if hit.id != memory_id else None
            if detail is None or detail.status != "active" or detail.kind == "summary":
                continue  # itself, or a memory that cannot be merged
            found.append(MergeCandidate(detail.id, detail.text, MemoryKind(detail.kind),
                                        detail.valid_from))
        return Candidates(query, tuple(found[:MAX_CANDIDATES]))

    return work


@dataclass(frozen=True)
class MergeChoice:
    """What the merge dialog decided: merge `other` into the shown memory (or both into
    a new memory) holding `text`, `kind` and `when`."""

    other: str
    text: str
    kind: MemoryKind
    when: datetime
    into_new: bool = False


def merge(memory_id: str, choice: MergeChoice) -> Work:
    """Merge the user's choice; the detail then shows the memory that holds the result."""

    def work(facade: Reverie, _ctx: JobContext) -> MemoryOutcome:
        merged = facade.merge_memories(memory_id, choice.other, text=choice.text,
                                       kind=choice.kind, when=choice.when,
                                       into_new=choice.into_new)
        return MemoryOutcome(merged.changes, "Merged; Ctrl+Z undoes it", merged.survivor)

    return work
