"""A Hypothesis state machine of add / edit / pin / archive / restore / supersede / undo /
forget / restart / reindex agrees with a plain-Python model after every step.

It runs on one real data directory per example: the encrypted ledger, Chroma and the
bundled embedder. The model knows each memory's text, status, pin and replacement, and
every history row with what it changed and whether it stands, so it also predicts which
undos are refused and why.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from reverie.core.compose import open_reverie
from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetTarget
from reverie.core.types import HistoryEntry, ItemKind
from reverie.models.base import Embedder
from tests.doubles import ScriptedLLM
from tests.stream_writer import WORDS

pytestmark = pytest.mark.slow

T = TypeVar("T")
# More examples for a deeper local hunt: REVERIE_STATE_MACHINE_EXAMPLES=200 pytest ...
EXAMPLES = int(os.environ.get("REVERIE_STATE_MACHINE_EXAMPLES", "25"))
DAYS = ("2026-03-02", "2026-03-03", "2026-03-05")
ACTIVE, ARCHIVED, SUPERSEDED = "active", "archived", "superseded"
# Why the model expects a call to be refused: a phrase of the BadInput message.
NO_MEMORY = "there is no memory"
NOTHING_TO_UNDO = "nothing to undo"
WAS_FORGOTTEN = "was forgotten"
CHANGED_LATER = "was changed again later"


@dataclass(frozen=True)
class Snap:
    """The part of a memory's state the model follows."""

    text: str
    status: str
    pinned: bool
    superseded_by: str | None

    @classmethod
    def of(cls, state: dict[str, Any] | None) -> Snap | None:
        """The snap of a state as the history API returns it (None stays None)."""
        if state is None:
            return None
        return cls(state["text"], state["status"], bool(state["pinned"]), state["superseded_by"])


@dataclass
class Row:
    """One history row as the model expects it."""

    seq: int
    batch: int
    memory_id: str
    action: str
    before: Snap | None
    after: Snap | None
    undone_by: int | str | None = None  # a model batch number, or "forgotten"


@dataclass
class Batch:
    """One undoable batch; `undo` batches are never picked by a plain undo."""

    number: int
    undo: bool
    undone_by: int | None = None


class Model:
    """What the store should hold, kept in plain Python."""

    def __init__(self) -> None:
        self.memories: dict[str, Snap] = {}  # the ones not forgotten
        self.day: dict[str, str] = {}
        self.order: list[str] = []  # every memory ever added, oldest first
        self.texts: dict[str, list[str]] = {}  # every text a memory ever had
        self.forgotten: set[str] = set()
        self.rows: list[Row] = []
        self.batches: list[Batch] = []

    def new_batch(self, *, undo: bool = False) -> int:
        """Open a batch; return its number."""
        self.batches.append(Batch(len(self.batches), undo))
        return len(self.batches) - 1

    def record(
        self, batch: int, memory_id: str, action: str, before: Snap | None, after: Snap | None
    ) -> Row:
        """Append a history row (the ledger numbers them 1, 2, ...)."""
        row = Row(len(self.rows) + 1, batch, memory_id, action, before, after)
        self.rows.append(row)
        return row

    def add(self, memory_id: str, text: str, day: str) -> None:
        """A new active memory."""
        snap = Snap(text, ACTIVE, False, None)
        self.memories[memory_id] = snap
        self.day[memory_id] = day
        self.order.append(memory_id)
        self.texts[memory_id] = [text]
        self.record(self.new_batch(), memory_id, "created", None, snap)

    def change(self, memory_id: str, action: str, **fields: Any) -> None:
        """One user change to a live memory."""
        before = self.memories[memory_id]
        after = replace(before, **fields)
        self.memories[memory_id] = after
        if after.text != before.text:
            self.texts[memory_id].append(after.text)
        self.record(self.new_batch(), memory_id, action, before, after)

    def last_undoable_batch(self) -> int | None:
        """The batch a plain undo picks: newest by its last row, not undone, not an undo,
        with a row that still stands."""
        best: tuple[int, int] | None = None
        for batch in self.batches:
            rows = [row for row in self.rows if row.batch == batch.number]
            if batch.undo or batch.undone_by is not None or not rows:
                continue
            if all(row.undone_by is not None or row.action == "forgotten" for row in rows):
                continue  # nothing left to undo; a forget can never be undone
            newest = max(row.seq for row in rows)
            if best is None or newest > best[0]:
                best = (newest, batch.number)
        return None if best is None else best[1]

    def stands_after(self, later: Row, row: Row) -> bool:
        """Whether `later` is a change to `row`'s memory that still stands after it.

        An undo that reverted only rows newer than `row` does not stand: the memory is
        as `row` left it.
        """
        if later.memory_id != row.memory_id or later.seq <= row.seq:
            return False
        if later.undone_by is not None or later.batch == row.batch:
            return False
        return not (later.action == "undo" and any(
            undone.memory_id == row.memory_id and undone.undone_by == later.batch
            and undone.seq > row.seq
            for undone in self.rows
        ))

    def undo_refusal(self, rows: list[Row]) -> str | None:
        """Why undoing `rows` is refused, or None when it goes ahead."""
        if not rows:
            return NOTHING_TO_UNDO
        for row in sorted(rows, key=lambda r: -r.seq):
            if row.action == "forgotten" or row.memory_id not in self.memories:
                return WAS_FORGOTTEN
            if any(self.stands_after(later, row) for later in self.rows):
                return CHANGED_LATER
        return None

    def undo(self, rows: list[Row], batch: int | None) -> None:
        """Revert `rows` (newest first) as one new undo batch."""
        undo_batch = self.new_batch(undo=True)
        for row in sorted(rows, key=lambda r: -r.seq):
            current = self.memories[row.memory_id]
            target = row.before or replace(current, status=ARCHIVED)  # undo of a creation
            self.memories[row.memory_id] = target
            self.record(undo_batch, row.memory_id, "undo", current, target)
            row.undone_by = undo_batch
        if batch is not None:
            self.batches[batch].undone_by = undo_batch

    def forget(self, memory_ids: list[str]) -> None:
        """Remove memories for good; their history keeps only that they were forgotten."""
        batch = self.new_batch()
        for memory_id in sorted(memory_ids):
            for row in self.rows:
                if row.memory_id == memory_id:
                    row.before = row.after = None
                    row.undone_by = row.undone_by if row.undone_by is not None else "forgotten"
            self.record(batch, memory_id, "forgotten", None, None)
            del self.memories[memory_id]
            self.forgotten.add(memory_id)


def noon(day: str) -> datetime:
    """Noon UTC of an ISO day: every memory of a day has the same time."""
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def normalised(text: str) -> str:
    """The text as Reverie stores it: runs of whitespace become one space."""
    return " ".join(text.split())


FRAGMENTS = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    ),
    min_size=1, max_size=6,
)
SEPARATORS = st.sampled_from([" ", "  ", "\n", "\t "])


class StoreMachine(RuleBasedStateMachine):
    """Drives one data directory and checks it against `Model` after every step."""

    def __init__(self, data_dir: Path, embedder: Embedder, outcomes: Counter[str]) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.outcomes = outcomes  # how often each call went ahead or was refused, and why
        self.embedder = embedder
        self.model = Model()
        self.tags = itertools.count()
        self.vectors: dict[str, np.ndarray] = {}
        self.batch_ids: dict[int, str] = {}
        self.reverie = self.open()

    def open(self) -> Reverie:
        """Open the data directory (keyed through the tests' in-memory keyring)."""
        return open_reverie(
            self.data_dir, llm=ScriptedLLM(lambda _messages: ""), embedder=self.embedder
        )

    def teardown(self) -> None:
        """Close the store after each example."""
        self.reverie.close()

    # -- helpers ----------------------------------------------------------------------

    def new_text(self, fragments: list[str], separator: str) -> str:
        """A text with a tag no other text has, so its own text finds it and nothing else."""
        return separator.join([*fragments, f"tag{next(self.tags):04d}z"]) + separator

    def pick(self, data: st.DataObject) -> str:
        """A memory id: any ever added (forgotten ones too), drawn in creation order."""
        return data.draw(st.sampled_from(self.model.order))

    def expect(self, what: str, refusal: str | None, call: Callable[[], T]) -> T | None:
        """Run `call`; it must raise BadInput naming `refusal` exactly when one is given."""
        self.outcomes[f"{what}: {refusal or 'done'}"] += 1
        if refusal is None:
            return call()
        with pytest.raises(BadInput, match=refusal):
            call()
        return None

    def missing(self, *memory_ids: str) -> str | None:
        """NO_MEMORY if one of the ids is forgotten."""
        return NO_MEMORY if any(i not in self.model.memories for i in memory_ids) else None

    # -- rules ------------------------------------------------------------------------

    @initialize(
        first=st.lists(st.tuples(FRAGMENTS, SEPARATORS, st.sampled_from(DAYS)), max_size=3)
    )
    def start(self, first: list[tuple[list[str], str, str]]) -> None:
        """Begin with a few memories, so that most steps have something to act on."""
        for fragments, separator, day in first:
            self.add(fragments, separator, day)

    @rule(fragments=FRAGMENTS, separator=SEPARATORS, day=st.sampled_from(DAYS))
    def add(self, fragments: list[str], separator: str, day: str) -> None:
        text = self.new_text(fragments, separator)
        memory_id, changes = self.reverie.memories.add(text, when=noon(day))
        assert changes.memories_added == 1
        assert changes.days == frozenset({day})
        self.model.add(memory_id, normalised(text), day)
        self.outcomes["add: done"] += 1

    @precondition(lambda self: bool(self.model.order))
    @rule(data=st.data(), fragments=FRAGMENTS, separator=SEPARATORS)
    def edit(self, data: st.DataObject, fragments: list[str], separator: str) -> None:
        memory_id = self.pick(data)
        text = self.new_text(fragments, separator)
        refusal = self.missing(memory_id)
        self.expect("edit", refusal, lambda: self.reverie.memories.edit(memory_id, text=text))
        if refusal is None:
            self.model.change(memory_id, "edited", text=normalised(text))

    @precondition(lambda self: bool(self.model.order))
    @rule(data=st.data(), pinned=st.booleans())
    def pin(self, data: st.DataObject, pinned: bool) -> None:
        memory_id = self.pick(data)
        refusal = self.missing(memory_id)
        self.expect("pin", refusal, lambda: self.reverie.memories.pin(memory_id, pinned))
        if refusal is None:
            self.model.change(memory_id, "pinned" if pinned else "unpinned", pinned=pinned)

    @precondition(lambda self: bool(self.model.order))
    @rule(data=st.data())
    def archive(self, data: st.DataObject) -> None:
        memory_id = self.pick(data)
        refusal = self.missing(memory_id)
        self.expect("archive", refusal, lambda: self.reverie.memories.archive(memory_id))
        if refusal is None:
            self.model.change(memory_id, "archived", status=ARCHIVED)

    @precondition(lambda self: bool(self.model.order))
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        memory_id = self.pick(data)
        refusal = self.missing(memory_id)
        self.expect("restore", refusal, lambda: self.reverie.memories.restore(memory_id))
        if refusal is None:
            self.model.change(memory_id, "restored", status=ACTIVE, superseded_by=None)

    @precondition(lambda self: bool(self.model.order))
    @rule(data=st.data(), replaced=st.booleans())
    def supersede(self, data: st.DataObject, replaced: bool) -> None:
        memory_id = self.pick(data)
        by = self.pick(data) if replaced else None
        if by == memory_id:
            refusal: str | None = "cannot supersede itself"
        else:
            refusal = self.missing(*([by] if by else []), memory_id)
        at = noon(DAYS[-1])
        self.expect(
            "supersede", refusal,
            lambda: self.reverie.memories.supersede(memory_id, by=by, at=at),
        )
        if refusal is None:
            self.model.change(memory_id, "superseded", status=SUPERSEDED, superseded_by=by)

    @rule()
    def undo_last(self) -> None:
        batch = self.model.last_undoable_batch()
        rows = [] if batch is None else [
            row for row in self.model.rows if row.batch == batch and row.undone_by is None
        ]
        refusal = self.model.undo_refusal(rows)
        self.expect("undo_last", refusal, self.reverie.memories.undo)
        if refusal is None:
            self.model.undo(rows, batch)

    @rule(data=st.data(), standing=st.booleans())
    def undo_change(self, data: st.DataObject, standing: bool) -> None:
        # A row that stands, or any row: undone, scrubbed, or one that does not exist yet.
        seqs = [row.seq for row in self.model.rows if row.undone_by is None]
        if not (standing and seqs):
            seqs = list(range(1, len(self.model.rows) + 2))
        seq = data.draw(st.sampled_from(seqs), label="seq")
        rows = [row for row in self.model.rows if row.seq == seq and row.undone_by is None]
        refusal = self.model.undo_refusal(rows)
        self.expect("undo_change", refusal, lambda: self.reverie.memories.undo(change=seq))
        if refusal is None:
            self.model.undo(rows, None)

    @precondition(lambda self: bool(self.model.order))
    @rule(data=st.data(), two=st.booleans())
    def forget(self, data: st.DataObject, two: bool) -> None:
        chosen = sorted({self.pick(data), *([self.pick(data)] if two else [])})
        target = ForgetTarget(memory_ids=tuple(chosen))
        refusal = "nothing to forget: no memory" if self.missing(*chosen) else None
        plan = self.expect("forget", refusal, lambda: self.reverie.memories.plan_forget(target))
        if plan is None:
            return
        assert plan.memory_ids == tuple(chosen)
        assert plan.episode_ids == plan.derived_memory_ids == ()
        changes = self.reverie.memories.forget(plan)
        assert changes.memories_removed == len(chosen)
        self.model.forget(chosen)

    @precondition(lambda self: bool(self.model.order))
    @rule()
    def restart(self) -> None:
        self.reverie.close()
        self.reverie = self.open()
        self.outcomes["restart: done"] += 1

    @precondition(lambda self: bool(self.model.order))
    @rule()
    def reindex(self) -> None:
        assert self.reverie.rebuild_index() == len(self.model.memories)
        self.outcomes["reindex: done"] += 1

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def ledger_matches_the_model(self) -> None:
        """Memories (text, status, pin, replacement, day), full-text rows, empty outbox."""
        store = self.reverie.store
        rows = store.ledger.query(
            "SELECT id, text, status, pinned, superseded_by, day FROM memories"
        )
        found = {
            row["id"]: Snap(row["text"], row["status"], bool(row["pinned"]), row["superseded_by"])
            for row in rows
        }
        assert found == self.model.memories
        assert {row["id"]: row["day"] for row in rows} == {
            i: self.model.day[i] for i in self.model.memories
        }
        # The full-text index holds each memory's current text, and nothing else.
        fts = {row["item_id"]: row["text"] for row in store.ledger.query("SELECT * FROM fts")}
        assert fts == {i: snap.text for i, snap in self.model.memories.items()}
        assert store.ledger.query("SELECT COUNT(*) FROM index_outbox")[0][0] == 0

    @invariant()
    def vectors_match_the_current_text(self) -> None:
        """The ledger's vectors and the index's are those of each memory's current text."""
        store = self.reverie.store
        stored = {
            row["item_id"]: np.frombuffer(row["vector"], dtype=np.float32)
            for row in store.ledger.query("SELECT item_id, vector FROM vectors")
        }
        assert set(stored) == set(self.model.memories)
        assert store.index.ids() == set(self.model.memories)
        for memory_id, snap in self.model.memories.items():
            wanted = self.vector_of(snap.text)
            assert np.allclose(stored[memory_id], wanted, atol=1e-5), snap.text
            nearest_id, distance = store.index.nearest(wanted, 1)[0]
            assert (nearest_id, distance < 1e-4) == (memory_id, True), snap.text

    def vector_of(self, text: str) -> np.ndarray:
        """The embedding of `text`, computed once per text."""
        if text not in self.vectors:
            self.vectors[text] = self.embedder.embed([text])[0]
        return self.vectors[text]

    @invariant()
    def timeline_shows_the_visible_memories(self) -> None:
        """Day counts and each day's items: active and superseded memories, newest first."""
        visible = {
            i: snap for i, snap in self.model.memories.items() if snap.status != ARCHIVED
        }
        counts = {day: sum(self.model.day[i] == day for i in visible) for day in DAYS}
        days = {d.day: d.count for d in self.reverie.timeline_days(0, 100)}
        assert days == {day: n for day, n in counts.items() if n}
        for day in DAYS:
            shown = [
                (item.id, item.text, item.status, item.pinned)
                for item in self.reverie.timeline_items(day)
                if item.kind is ItemKind.MEMORY
            ]
            newest_first = [i for i in reversed(self.model.order) if i in visible]
            assert shown == [
                (i, visible[i].text, visible[i].status, visible[i].pinned)
                for i in newest_first
                if self.model.day[i] == day
            ]

    @invariant()
    def history_matches_the_model(self) -> None:
        """Every row: its batch, action, what it changed, and whether and by what undone."""
        editor = self.reverie.memories
        everything = editor.history(limit=100_000)
        assert [e.seq for e in everything] == [r.seq for r in reversed(self.model.rows)]
        by_seq = {row.seq: row for row in self.model.rows}
        for entry in everything:  # the batches group the same rows as the model's
            row = by_seq[entry.seq]
            assert self.batch_ids.setdefault(row.batch, entry.batch) == entry.batch
        assert len(set(self.batch_ids.values())) == len(self.batch_ids)
        for memory_id in self.model.order:
            entries = editor.history(memory_id, limit=100_000)
            assert [self.described(e) for e in entries] == [
                self.expected(r) for r in reversed(self.model.rows) if r.memory_id == memory_id
            ]

    def described(self, entry: HistoryEntry) -> tuple[object, ...]:
        """A history entry in the model's terms."""
        return (entry.seq, entry.memory_id, entry.action, entry.undone_by,
                Snap.of(entry.before), Snap.of(entry.after))

    def expected(self, row: Row) -> tuple[object, ...]:
        """What the history API should say of a model row."""
        undone_by = self.batch_ids[row.undone_by] if isinstance(row.undone_by, int) else (
            row.undone_by
        )
        return (row.seq, row.memory_id, row.action, undone_by, row.before, row.after)

    @invariant()
    def search_finds_what_it_should(self) -> None:
        """Each memory not archived is in the top 5 for its own text; archived and
        forgotten ones are never returned (unless archived ones are asked for)."""
        hidden = self.model.forgotten | {
            i for i, snap in self.model.memories.items() if snap.status == ARCHIVED
        }
        for memory_id in self.model.order:
            live = memory_id in self.model.memories
            # A live memory by its current text; a forgotten one by every text it had.
            texts = self.model.texts[memory_id][-1:] if live else self.model.texts[memory_id]
            for text in texts:
                hits = self.reverie.search(text, k=5)
                ids = [hit.id for hit in hits]
                assert not hidden & set(ids), (text, ids)
                if memory_id not in hidden:
                    assert memory_id in ids, (text, ids)

    @invariant()
    def forgotten_text_is_gone(self) -> None:
        """No text a forgotten memory ever had is left in its row, FTS or history."""
        ledger = self.reverie.store.ledger
        for memory_id in self.model.forgotten:
            for text in self.model.texts[memory_id]:
                tag = text.rsplit(" ", 1)[-1]
                like = f"%{tag}%"
                assert ledger.query("SELECT COUNT(*) FROM fts WHERE fts MATCH ?",
                                    (f'"{tag}"',))[0][0] == 0
                assert ledger.query(
                    "SELECT COUNT(*) FROM history WHERE before LIKE ? OR after LIKE ?",
                    (like, like),
                )[0][0] == 0
                assert ledger.query("SELECT COUNT(*) FROM memories WHERE text LIKE ?",
                                    (like,))[0][0] == 0


def test_the_store_agrees_with_a_simple_model(
    tmp_path: Path, bundled_embedder: Embedder
) -> None:
    examples = itertools.count()
    outcomes: Counter[str] = Counter()

    class Machine(StoreMachine):
        """A fresh data directory for each example."""

        def __init__(self) -> None:
            data_dir = tmp_path / f"example-{next(examples)}"
            super().__init__(data_dir, bundled_embedder, outcomes)

    # No example database, and Hypothesis' caches (constants, unicode tables) go to
    # tmp_path: nothing lands in the repository tree.
    set_hypothesis_home_dir(tmp_path / "hypothesis-home")
    try:
        run_state_machine_as_test(
            Machine,
            settings=settings(
                max_examples=EXAMPLES, stateful_step_count=15, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            ),
        )
    finally:
        set_hypothesis_home_dir(None)
    print("\n" + "\n".join(f"{n:5d}  {what}" for what, n in sorted(outcomes.items())))
