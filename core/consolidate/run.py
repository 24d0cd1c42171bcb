"""One consolidation run: plan, journal, apply change by change within a budget, report.

A run that finds an unfinished one (killed, or paused by its budget or the user) first
finishes that one's planned changes, then plans afresh. A dry run plans and describes,
and writes nothing. Health figures are computed at the end of every run.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reverie.core.consolidate import journal, plan
from reverie.core.consolidate.apply import apply_change, undo_change
from reverie.core.consolidate.describe import describe
from reverie.core.consolidate.health import health_figures
from reverie.core.consolidate.journal import ChangeState, PlannedChange, RunState
from reverie.core.consolidate.summarise import write_summary
from reverie.core.errors import BadInput
from reverie.core.jobs import Progress, no_progress
from reverie.core.store.store import Store
from reverie.core.timeutil import to_ts
from reverie.core.types import Changes
from reverie.models.base import LLM, Embedder

log = logging.getLogger("reverie.consolidate")


@dataclass(frozen=True)
class Budget:
    """How much one run may spend before it pauses (the next run goes on from there)."""

    seconds: float = 600.0
    tokens: int = 20_000


@dataclass(frozen=True)
class RunReport:
    """What a run did (or, dry, would do)."""

    run_id: str | None
    state: str
    applied: int = 0
    skipped: int = 0
    proposed: int = 0
    planned: list[str] = field(default_factory=list)  # the diff, one line per change
    figures: dict[str, float] = field(default_factory=dict)
    changes: Changes = field(default_factory=Changes)


class Consolidator:
    """Runs sleep-time consolidation over one store."""

    def __init__(self, store: Store, llm: LLM | None, embedder: Embedder) -> None:
        self._store = store
        self._llm = llm
        self._embedder = embedder
        self._lock = threading.Lock()

    def use_model(self, llm: LLM | None) -> None:
        """Write summaries with `llm` from the next run on."""
        self._llm = llm

    def plan(self, now: datetime | None = None) -> list[PlannedChange]:
        """What a run would do now, journaled keys left out."""
        moment = now or datetime.now(UTC)
        memos = plan.active_memories(self._store)
        last = journal.last_finished(self._store.ledger)
        since = to_ts(last) if last is not None else None
        changes = (
            plan.plan_merges(self._store, memos, since) + plan.plan_supersedes(memos)
            + plan.plan_fades(memos, moment)
        )
        # Summaries condense what will stay active once the rest is applied, so that the
        # next run does not find them stale and write them again.
        leaving = {c.payload.get(k) for c in changes if not c.proposal
                   for k in ("fold", "old", "memory")}
        staying = [m for m in memos if m.id not in leaving]
        wanted = changes + plan.plan_summaries(self._store, staying)
        known = journal.known_keys(self._store.ledger)
        return [change for change in wanted if change.key not in known]

    def run(
        self, *, reason: str = "manual", dry_run: bool = False, budget: Budget = Budget(),
        now: datetime | None = None, progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> RunReport:
        """Consolidate once; see the module docstring."""
        if not self._lock.acquire(blocking=False):
            raise BadInput("a consolidation is already running")
        try:
            if dry_run:
                planned = self.plan(now)
                return RunReport(None, "dry-run", planned=[
                    describe(self._store.ledger, c.op, c.payload, c.proposal) for c in planned
                ])
            return self._run(reason, budget, now, progress, cancel)
        finally:
            self._lock.release()

    def _run(
        self, reason: str, budget: Budget, now: datetime | None, progress: Progress,
        cancel: threading.Event | None,
    ) -> RunReport:
        started = time.monotonic()
        run_id = journal.unfinished_run(self._store.ledger)
        if run_id is None:
            planned = self.plan(now)
            with self._store.ledger.transaction() as conn:
                run_id = journal.start_run(conn, reason, planned)
            log.info("consolidation %s (%s): %d changes planned", run_id, reason, len(planned))
        else:
            log.info("consolidation %s resumed", run_id)
        todo = journal.changes(self._store.ledger, run_id, ChangeState.PLANNED)
        counts = {ChangeState.APPLIED: 0, ChangeState.SKIPPED: 0}
        tokens = 0
        days: set[str] = set()
        state = RunState.DONE
        for done, change in enumerate(todo):
            progress(done, len(todo), "consolidating memories")
            if (cancel is not None and cancel.is_set()) or \
                    time.monotonic() - started > budget.seconds or tokens > budget.tokens:
                state = RunState.PAUSED
                break
            summary = None
            if change.op == "summary":
                p = change.payload
                summary = write_summary(self._store.ledger, self._llm, p["scope"], p["period"],
                                        p["memories"], cancel=cancel)
                tokens += summary.tokens
            with self._store.ledger.transaction() as conn:
                counts[apply_change(conn, change, self._embedder, summary)] += 1
                journal.add_tokens(conn, run_id, summary.tokens if summary else 0)
            days.update(self._days_of(change.payload))
        progress(len(todo), len(todo), "consolidating memories")
        self._store.sync_index()
        figures = health_figures(self._store)
        with self._store.ledger.transaction() as conn:
            journal.finish_run(conn, run_id, state, figures)
        proposed = len(journal.changes(self._store.ledger, run_id, ChangeState.PROPOSED))
        log.info("consolidation %s %s: %d applied, %d skipped, %d proposed", run_id, state,
                 counts[ChangeState.APPLIED], counts[ChangeState.SKIPPED], proposed)
        return RunReport(
            run_id, state, counts[ChangeState.APPLIED], counts[ChangeState.SKIPPED], proposed,
            figures=figures,
            changes=Changes(memories_changed=counts[ChangeState.APPLIED], days=frozenset(days)),
        )

    def _days_of(self, payload: dict[str, object]) -> set[str]:
        ids = [v for k, v in payload.items() if k in ("keep", "fold", "old", "new", "memory",
                                                       "summary") and isinstance(v, str)]
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = self._store.ledger.query(
            f"SELECT DISTINCT day FROM memories WHERE id IN ({marks})", ids)
        return {row["day"] for row in rows}

    def undo(self, run_id: str, seq: int | None = None) -> Changes:
        """Undo one applied change of a run, or (without `seq`) every one, newest first."""
        applied = journal.changes(self._store.ledger, run_id, ChangeState.APPLIED)
        chosen = [c for c in applied if seq is None or c.seq == seq]
        if not chosen:
            raise BadInput(f"run {run_id} has no applied change"
                           + (f" {seq}" if seq is not None else "") + " to undo")
        days: set[str] = set()
        with self._store.ledger.transaction() as conn:
            for change in reversed(chosen):
                days.update(self._days_of(change.payload))
                undo_change(conn, change, self._embedder)
        self._store.sync_index()
        return Changes(memories_changed=len(chosen), days=frozenset(days))

    def decide(self, run_id: str, seq: int, accept: bool) -> Changes:
        """Accept (apply) or reject a proposed change from the review inbox."""
        found = [c for c in journal.changes(self._store.ledger, run_id, ChangeState.PROPOSED)
                 if c.seq == seq]
        if not found:
            raise BadInput(f"run {run_id} has no proposal {seq}")
        change = found[0]
        with self._store.ledger.transaction() as conn:
            if not accept:
                journal.mark(conn, change, ChangeState.REJECTED)
                return Changes()
            state = apply_change(conn, change, self._embedder)
        self._store.sync_index()
        if state != ChangeState.APPLIED:
            raise BadInput("that proposal no longer applies: its memories changed since")
        return Changes(memories_changed=1, days=frozenset(self._days_of(change.payload)))
