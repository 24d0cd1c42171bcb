"""The Memory care screen's work, as functions of the facade: what runs inside its jobs.

They run on a worker thread and see only the facade and the job's context, never a
widget. Reads (`read_care`, `read_queue`) run in `Lane.STATUS`; extraction and
consolidation in `Lane.WORK` with progress and cancel; undo, verdicts, the preview and
an inbox memory's edit (its detail read first, then the edit that also keeps it) in
`Lane.CARE`. A writing job returns a `CareOutcome` whose `changes` the job runner
announces, and a sentence for the status bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reverie.core.consolidate import journal
from reverie.core.consolidate.describe import describe
from reverie.core.errors import BadInput
from reverie.core.extract.extractor import QueueStatus
from reverie.core.jobs import check_cancel
from reverie.core.service import Reverie
from reverie.core.store.memory_detail import MemoryDetail
from reverie.core.types import Changes
from reverie.desktop.care_model import ChangeRow, InboxItem
from reverie.desktop.jobs import JobContext
from reverie.desktop.labels import plural
from reverie.desktop.memory_work import MemoryEdit

Work = Callable[[Reverie, JobContext], "CareOutcome"]


@dataclass(frozen=True)
class CareSnapshot:
    """Everything the screen shows, read at one moment."""

    queue: QueueStatus
    run: journal.Run | None  # the newest consolidation run
    changes: tuple[ChangeRow, ...]  # its changes, in plan order
    inbox: tuple[InboxItem, ...]


@dataclass(frozen=True)
class CareOutcome:
    """What a writing job did: a sentence for the status bar, and the changes it made."""

    message: str
    changes: Changes = field(default_factory=Changes)  # announced by the job runner
    problems: tuple[str, ...] = ()  # items of a bulk verdict that could not be decided


def read_queue(facade: Reverie, _ctx: JobContext) -> QueueStatus:
    """The extraction queue: one COUNT over the episodes."""
    return facade.extraction_status()


def read_care(facade: Reverie, _ctx: JobContext) -> CareSnapshot:
    """The queue, the newest run with its changes described, and the review inbox."""
    ledger = facade.store.ledger
    newest = journal.runs(ledger, limit=1)
    run = newest[0] if newest else None
    rows: tuple[ChangeRow, ...] = ()
    if run is not None:
        rows = tuple(
            ChangeRow(c.run_id, c.seq, c.op, c.state, describe(ledger, c.op, c.payload))
            for c in journal.changes(ledger, run.id)
        )
    inbox = tuple(InboxItem.from_inbox(item) for item in facade.review_inbox())
    return CareSnapshot(facade.extraction_status(), run, rows, inbox)


def extract_now(facade: Reverie, ctx: JobContext) -> CareOutcome:
    """Extract memories from every turn waiting; each turn's memories announced as stored."""
    result = facade.extract_pending(
        progress=ctx.progress, cancel=ctx.cancel, on_changes=ctx.announce)
    message = (f"Read {plural(result.episodes_seen, 'turn')}:"
               f" {plural(result.changes.memories_added, 'new memory', 'new memories')}")
    if result.deferred:
        message += f", {result.deferred} put off for a later try"
    # Nothing left to announce: the memories were announced as they landed.
    return CareOutcome(message)


def consolidate_now(facade: Reverie, ctx: JobContext) -> CareOutcome:
    """Run consolidation once (reason "manual"); a cancel pauses it between changes."""
    report = facade.consolidation.run(reason="manual", progress=ctx.progress, cancel=ctx.cancel)
    return CareOutcome(report_text(report.state, report.applied, report.proposed), report.changes)


def report_text(state: str, applied: int, proposed: int) -> str:
    """A finished (or paused) run in a sentence."""
    done = "Consolidation paused" if state == journal.RunState.PAUSED else "Consolidated"
    text = f"{done}: {plural(applied, 'change')} made"
    if proposed:
        text += f", {proposed} waiting for your review"
    if state == journal.RunState.PAUSED:
        text += "; the next run goes on from there"
    return text


def preview(facade: Reverie, _ctx: JobContext) -> list[str]:
    """What a run would do now, one line per change; writes nothing."""
    return facade.consolidation.run(dry_run=True).planned


def undo_change(row: ChangeRow) -> Work:
    """A job that undoes one applied change."""

    def work(facade: Reverie, _ctx: JobContext) -> CareOutcome:
        changes = facade.consolidation.undo(row.run_id, row.seq)
        return CareOutcome(f"Undid: {row.text}", changes)

    return work


def undo_run(run_id: str) -> Work:
    """A job that undoes every applied change of a run, newest first."""

    def work(facade: Reverie, _ctx: JobContext) -> CareOutcome:
        changes = facade.consolidation.undo(run_id)
        return CareOutcome(
            f"Undid the whole run: {plural(changes.memories_changed, 'change')}", changes)

    return work


def decide(items: Sequence[InboxItem], *, accept: bool) -> Work:
    """A job that gives every item the same verdict: keep/accept, or reject.

    An item that can no longer be decided (its memories changed since, or someone
    decided it already) is reported, and the others are still decided.
    """
    chosen = tuple(items)

    def work(facade: Reverie, ctx: JobContext) -> CareOutcome:
        total, decided, problems = Changes(), 0, []
        for done, item in enumerate(chosen):
            check_cancel(ctx.cancel)
            ctx.progress(done, len(chosen), "deciding")
            try:
                total = total + _verdict(facade, item, accept)
                decided += 1
            except BadInput as problem:
                problems.append(f"{item.what}: {problem}")
        verb = verdict_word(chosen, accept=accept)
        message = f"{verb} {plural(decided, 'item')}"
        if problems:
            message += f"; {len(problems)} could not be decided"
        return CareOutcome(message, total, tuple(problems))

    return work


def read_detail(memory_id: str) -> Callable[[Reverie, JobContext], MemoryDetail | None]:
    """A read of one inbox memory in full, for the edit dialog (None: it is gone)."""

    def work(facade: Reverie, _ctx: JobContext) -> MemoryDetail | None:
        return facade.memory_detail(memory_id)

    return work


def edit_and_keep(memory_id: str, change: MemoryEdit) -> Work:
    """Apply the user's edit to an inbox memory and keep it: correcting a memory is a
    verdict on it, so it leaves the inbox. Two undoable steps (the edit, the keep)."""

    def work(facade: Reverie, _ctx: JobContext) -> CareOutcome:
        changes = Changes()
        if not change.empty:
            changes = facade.memories.edit(memory_id, text=change.text, kind=change.kind,
                                           when=change.when, about=change.about)
        try:
            changes = changes + facade.memories.review(memory_id, accept=True)
        except BadInput:  # decided meanwhile (on the timeline, say): the edit still stands
            done = "Memory changed" if not change.empty else "Nothing was changed"
            return CareOutcome(f"{done}; it had already left the review inbox", changes)
        done = "Memory changed and kept" if not change.empty else "Kept unchanged"
        return CareOutcome(f"{done}: it left the review inbox", changes)

    return work


def verdict_word(items: Sequence[InboxItem], *, accept: bool) -> str:
    """"Kept" (memories), "Accepted" (changes), "Kept or accepted" (both), "Rejected"."""
    if not accept:
        return "Rejected"
    types = {item.type for item in items}
    if types == {"change"}:
        return "Accepted"
    return "Kept" if types <= {"memory"} else "Kept or accepted"


def _verdict(facade: Reverie, item: InboxItem, accept: bool) -> Changes:
    if item.type == "memory":
        return facade.memories.review(item.id, accept=accept)
    run_id, sep, seq = item.id.rpartition(":")
    if not sep or not seq.isdigit():
        raise ValueError(f"not a proposed change: {item.id}")  # a bug: core made the ids
    return facade.consolidation.decide(run_id, int(seq), accept)
