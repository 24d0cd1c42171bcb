"""The consolidation journal: every run and every change it plans, applies or proposes.

A run first writes its whole plan (one row per change, each with a key naming what it
does, e.g. `merge:mem_a<mem_b`), then applies the changes one transaction at a time;
each transaction also marks its row applied. A run killed at any point therefore
resumes with exactly the rows still planned: nothing is applied twice, nothing skipped.
Keys are unique across runs, so a change the user undid is never planned again.

Rows hold ids and figures only, never a memory's text: forgetting a memory must not
leave its words behind in the journal.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reverie.core.store.ledger import Ledger
from reverie.core.store.records import now_utc


class RunState:
    """Where a run is."""

    RUNNING = "running"  # planned; changes being applied (or killed meanwhile)
    DONE = "done"
    PAUSED = "paused"  # stopped by its budget or the user; the next run goes on with it


class ChangeState:
    """Where one change is."""

    PLANNED = "planned"
    APPLIED = "applied"
    SKIPPED = "skipped"  # no longer applicable when its turn came (the user got there first)
    PROPOSED = "proposed"  # touches what the user pinned or edited: waits in the review inbox
    REJECTED = "rejected"  # a proposal the user turned down
    UNDONE = "undone"


@dataclass(frozen=True)
class PlannedChange:
    """One change a run intends to make."""

    key: str
    op: str  # "merge", "supersede", "summary", "fade"
    payload: dict[str, Any] = field(default_factory=dict)
    proposal: bool = False


@dataclass(frozen=True)
class JournalChange:
    """A change as the journal holds it."""

    run_id: str
    seq: int
    key: str
    op: str
    payload: dict[str, Any]
    state: str
    batch: str | None


@dataclass(frozen=True)
class Run:
    """One consolidation run."""

    id: str
    reason: str
    started: datetime
    finished: datetime | None
    state: str
    tokens: int
    figures: dict[str, Any]


def start_run(conn: Any, reason: str, plan: list[PlannedChange]) -> str:
    """Journal a new run and its plan (in `conn`'s transaction); return the run's id.

    A planned change whose key an earlier run already journaled is left out.
    """
    run_id = "run_" + uuid.uuid4().hex[:16]
    conn.execute(
        "INSERT INTO consolidation_runs (id, reason, started, state) VALUES (?, ?, ?, ?)",
        (run_id, reason, now_utc().isoformat(), RunState.RUNNING),
    )
    seq = 0
    for change in plan:
        state = ChangeState.PROPOSED if change.proposal else ChangeState.PLANNED
        inserted = conn.execute(
            "INSERT OR IGNORE INTO consolidation_changes (run_id, seq, key, op, payload, state)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, seq, change.key, change.op, json.dumps(change.payload, sort_keys=True),
             state),
        ).rowcount
        seq += inserted
    return run_id


def known_keys(ledger: Ledger) -> set[str]:
    """Keys of every change ever journaled."""
    return {row["key"] for row in ledger.query("SELECT key FROM consolidation_changes")}


def mark(conn: Any, change: JournalChange, state: str, batch: str | None = None,
         payload: dict[str, Any] | None = None) -> None:
    """Set a change's state (and the batch that applied it, and its payload if given)."""
    conn.execute(
        "UPDATE consolidation_changes SET state = ?, batch = COALESCE(?, batch),"
        " payload = COALESCE(?, payload) WHERE run_id = ? AND seq = ?",
        (state, batch, None if payload is None else json.dumps(payload, sort_keys=True),
         change.run_id, change.seq),
    )


def finish_run(conn: Any, run_id: str, state: str, figures: dict[str, Any]) -> None:
    """Close a run (or pause it) with its figures."""
    conn.execute(
        "UPDATE consolidation_runs SET state = ?, finished = ?, figures = ? WHERE id = ?",
        (state, now_utc().isoformat() if state == RunState.DONE else None,
         json.dumps(figures, sort_keys=True), run_id),
    )


def add_tokens(conn: Any, run_id: str, tokens: int) -> None:
    """Count model tokens a run spent."""
    conn.execute(
        "UPDATE consolidation_runs SET tokens = tokens + ? WHERE id = ?", (tokens, run_id)
    )


def unfinished_run(ledger: Ledger) -> str | None:
    """The run that was killed or paused before it finished, if any."""
    rows = ledger.query(
        "SELECT id FROM consolidation_runs WHERE state != ? ORDER BY started DESC LIMIT 1",
        (RunState.DONE,),
    )
    return str(rows[0]["id"]) if rows else None


def changes(ledger: Ledger, run_id: str, state: str | None = None) -> list[JournalChange]:
    """A run's changes in plan order, optionally only those in `state`."""
    sql = "SELECT * FROM consolidation_changes WHERE run_id = ?"
    params: list[Any] = [run_id]
    if state is not None:
        sql += " AND state = ?"
        params.append(state)
    return [_change(row) for row in ledger.query(sql + " ORDER BY seq", params)]


def proposals(ledger: Ledger) -> list[JournalChange]:
    """Every change waiting for the user's decision, oldest first."""
    rows = ledger.query(
        "SELECT c.* FROM consolidation_changes c JOIN consolidation_runs r ON r.id = c.run_id"
        " WHERE c.state = ? ORDER BY r.started, c.seq", (ChangeState.PROPOSED,)
    )
    return [_change(row) for row in rows]


def runs(ledger: Ledger, limit: int = 20) -> list[Run]:
    """The newest runs first."""
    rows = ledger.query(
        "SELECT * FROM consolidation_runs ORDER BY started DESC LIMIT ?", (limit,)
    )
    return [
        Run(
            id=row["id"], reason=row["reason"], started=datetime.fromisoformat(row["started"]),
            finished=datetime.fromisoformat(row["finished"]) if row["finished"] else None,
            state=row["state"], tokens=int(row["tokens"]),
            figures=json.loads(row["figures"]) if row["figures"] else {},
        )
        for row in rows
    ]


def last_finished(ledger: Ledger) -> datetime | None:
    """When a run last finished, for the scheduler."""
    rows = ledger.query("SELECT MAX(finished) FROM consolidation_runs")
    value = rows[0][0]
    return datetime.fromisoformat(value) if value else None


def _change(row: Any) -> JournalChange:
    return JournalChange(
        run_id=row["run_id"], seq=int(row["seq"]), key=row["key"], op=row["op"],
        payload=json.loads(row["payload"]), state=row["state"], batch=row["batch"],
    )
