"""What the Memory care screen shows: the last consolidation's changes and the review inbox.

The rows are plain frozen values read by a worker (`care_work.read_care`); the two models
only hold the newest list. `set_rows` merges a new list into the old one by key (a
change's run and number, an inbox item's id): rows that left are removed, new ones
inserted and changed ones repainted, so a selection survives a refresh and an undo.
The texts for the queue, the run and its health figures are pure functions, tested
without a window.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from reverie.core.consolidate.journal import ChangeState, Run, RunState
from reverie.core.extract.extractor import QueueStatus
from reverie.desktop.labels import plural, short_date
from reverie.desktop.theme import color

ModelIndex = QModelIndex | QPersistentModelIndex

RowRole = Qt.ItemDataRole.UserRole + 1  # the ChangeRow or InboxItem of the row

_NO_PARENT = QModelIndex()


@dataclass(frozen=True)
class ChangeRow:
    """One change of a consolidation run, as the list shows it."""

    run_id: str
    seq: int
    op: str  # merge, supersede, summary, fade
    state: str  # a `ChangeState`
    text: str  # `describe`'s line

    @property
    def key(self) -> tuple[str, int]:
        """What identifies the change across refreshes."""
        return (self.run_id, self.seq)


@dataclass(frozen=True)
class InboxItem:
    """One item waiting for the user's verdict: a memory to check or a proposed change."""

    id: str  # a memory id, or "RUN:SEQ" for a change
    type: str  # "memory" or "change"
    what: str
    confidence: float | None = None
    trust: str | None = None

    @property
    def key(self) -> str:
        """What identifies the item across refreshes."""
        return self.id

    @classmethod
    def from_inbox(cls, item: dict[str, object]) -> InboxItem:
        """An item of `Reverie.review_inbox()`."""
        confidence = item.get("confidence")
        trust = item.get("trust")
        return cls(
            id=str(item["id"]), type=str(item["type"]), what=str(item["what"]),
            confidence=float(confidence) if isinstance(confidence, int | float) else None,
            trust=str(trust) if trust is not None else None,
        )


# --- texts ------------------------------------------------------------------------------

STATE_WORDS = {
    ChangeState.PLANNED: "planned", ChangeState.APPLIED: "applied",
    ChangeState.SKIPPED: "skipped", ChangeState.PROPOSED: "waiting for review",
    ChangeState.REJECTED: "rejected", ChangeState.UNDONE: "undone",
}
STATE_HELP = {
    ChangeState.PLANNED: "Planned: the run stopped before it; the next run makes it.",
    ChangeState.APPLIED: "Applied: Undo change puts the memories back as they were.",
    ChangeState.SKIPPED: "Skipped: its memories had changed by the time the run got to it.",
    ChangeState.PROPOSED: "It touches a memory you pinned or edited, so Reverie asks first:"
    " see the review inbox.",
    ChangeState.REJECTED: "Rejected: you turned this proposal down; it is not proposed again.",
    ChangeState.UNDONE: "Undone: the memories are back as they were; it is not made again.",
}
_STATE_TONES = {  # theme tones, read when a row is drawn so a scheme change shows
    ChangeState.PROPOSED: "warning", ChangeState.SKIPPED: "muted",
    ChangeState.REJECTED: "muted", ChangeState.UNDONE: "muted", ChangeState.PLANNED: "muted",
}
REASONS = {"nightly": "Nightly run", "idle": "Run while the computer was idle",
           "missed": "Catch-up run", "manual": "Run you started"}
RUN_STATES = {RunState.DONE: "done", RunState.PAUSED: "paused; the next run goes on with it",
              RunState.RUNNING: "interrupted; the next run goes on with it"}


def queue_text(status: QueueStatus) -> str:
    """"12 turns waiting · 2 put off · 41.3 tokens/s", or "idle" when nothing waits."""
    parts = [plural(status.waiting, "turn") + " waiting"] if status.waiting else ["idle"]
    if status.deferred:
        parts.append(f"{status.deferred} put off")
    if status.tokens_per_second is not None:
        parts.append(f"{status.tokens_per_second:.1f} tokens/s")
    return " · ".join(parts)


def run_heading(run: Run) -> str:
    """"Nightly run · Sun 8 Mar 2026 03:00 · done"."""
    started = run.started if run.started.tzinfo else run.started.replace(tzinfo=UTC)
    reason = REASONS.get(run.reason, f"{run.reason.capitalize()} run")
    state = RUN_STATES.get(run.state, run.state)
    return f"{reason} · {when_text(started)} · {state}"


def health_text(figures: dict[str, Any]) -> str:
    """The run's health figures: duplicates, contradictions, archived share, review."""
    parts = []
    if "duplicate_rate" in figures:
        parts.append(f"duplicates {_percent(figures['duplicate_rate'])}")
    if "contradictions_open" in figures:
        parts.append(plural(int(figures["contradictions_open"]), "contradiction") + " open")
    if "share_archived" in figures:
        parts.append(f"{_percent(figures['share_archived'])} archived")
    if "review_waiting" in figures:
        parts.append(f"{int(figures['review_waiting'])} waiting for review")
    return " · ".join(parts)


def tally_text(rows: Sequence[ChangeRow]) -> str:
    """"4 applied · 1 waiting for review · 1 undone", in the order of `STATE_WORDS`."""
    counts = {state: sum(row.state == state for row in rows) for state in STATE_WORDS}
    parts = [f"{count} {STATE_WORDS[state]}" for state, count in counts.items() if count]
    return " · ".join(parts) if parts else "no changes: nothing needed doing"


def _percent(value: object) -> str:
    share = float(value) if isinstance(value, int | float) else 0.0
    return f"{share * 100:.0f}%" if share == 0 or share >= 0.01 else f"{share * 100:.1f}%"


def when_text(moment: datetime) -> str:
    """A time as the screen shows it: "Sun 8 Mar 2026 03:00" (local)."""
    local = moment.astimezone()
    return f"{short_date(local)} {local:%H:%M}"


# --- the models -------------------------------------------------------------------------


class _KeyedRows(QAbstractTableModel):
    """A flat table of frozen rows with a `key`, merged by key on every refresh."""

    COLUMNS: tuple[str, ...] = ("",)

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Show `rows`: gone keys are removed, new ones inserted, changed rows repainted."""
        old: list[Hashable] = [row.key for row in self._rows]
        new: list[Hashable] = [row.key for row in rows]
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        # From the end backwards: a step never moves the rows an earlier step refers to.
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag == "equal":
                for offset in range(i2 - i1):
                    self._update(i1 + offset, rows[j1 + offset])
                continue
            if i2 > i1:
                self.beginRemoveRows(_NO_PARENT, i1, i2 - 1)
                del self._rows[i1:i2]
                self.endRemoveRows()
            if j2 > j1:
                self.beginInsertRows(_NO_PARENT, i1, i1 + j2 - j1 - 1)
                self._rows[i1:i1] = rows[j1:j2]
                self.endInsertRows()

    def _update(self, row: int, value: Any) -> None:
        if self._rows[row] != value:
            self._rows[row] = value
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def clear(self) -> None:
        """Show nothing (the store was closed)."""
        self.set_rows([])

    def row_value(self, row: int) -> Any:
        """The value shown in `row`, or None."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """One row per value; a flat list has no children."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """The columns of `COLUMNS`."""
        return 0 if parent.isValid() else len(self.COLUMNS)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Rows are selectable and never have children."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.COLUMNS)):
            return self.COLUMNS[section]
        return None

    def _value(self, index: ModelIndex) -> Any:
        if not index.isValid() or not 0 <= index.column() < len(self.COLUMNS):
            return None
        return self.row_value(index.row())


class ChangeColumn(enum.IntEnum):
    """The columns of the changes list."""

    STATE = 0
    CHANGE = 1


class ChangesModel(_KeyedRows):
    """The changes of the newest consolidation run, in plan order: state and what it did."""

    COLUMNS = ("State", "Change")

    @property
    def rows(self) -> list[ChangeRow]:
        """Every row, in order."""
        return list(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The state word or the change's line, with help, colour and `RowRole`."""
        change = self._value(index)
        if not isinstance(change, ChangeRow):
            return None
        state = index.column() == ChangeColumn.STATE
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return STATE_WORDS.get(change.state, change.state) if state else change.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return STATE_HELP.get(change.state, change.state) if state else change.text
        if role == Qt.ItemDataRole.ForegroundRole:
            named = _STATE_TONES.get(change.state)
            return None if named is None else color(named)
        return change if role == RowRole else None


class InboxModel(_KeyedRows):
    """What waits in the review inbox: memories to check, then proposed changes."""

    COLUMNS = ("Waiting for your verdict",)

    @property
    def items(self) -> list[InboxItem]:
        """Every item, in order."""
        return list(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The item's line, a tooltip saying what a verdict does, and `RowRole`."""
        item = self._value(index)
        if not isinstance(item, InboxItem):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return inbox_text(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            return inbox_tooltip(item)
        if role == Qt.ItemDataRole.ForegroundRole and item.type == "change":
            return color("warning")
        if role == RowRole:
            return item
        return None


def inbox_text(item: InboxItem) -> str:
    """"Memory · [fact] Sam …" or "Change · supersede "…" by "…"."""
    if item.type == "change":
        return "Change · " + item.what.removeprefix("propose: ")
    return f"Memory · {item.what}"


def inbox_tooltip(item: InboxItem) -> str:
    """What the item is and what Keep and Reject do to it."""
    if item.type == "change":
        return (f"{item.what.removeprefix('propose: ')}\n\nConsolidation proposes this change"
                " because it touches a memory you pinned or edited. Accept makes it;"
                " Reject leaves your memory as it is, and it is not proposed again.")
    sure = f"confidence {item.confidence:.2f}" if item.confidence is not None else ""
    source = f"from a {item.trust} source" if item.trust else ""
    why = ", ".join(part for part in (sure, source) if part)
    return (f"{item.what}\n\nReverie is not sure of this memory" + (f" ({why})" if why else "")
            + ". Keep confirms it; Reject archives it (it stays in the history).")
