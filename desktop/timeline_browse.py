"""Filtering the timeline without blocking: the filter bar's wishes become `Lane.BROWSE`
jobs that read the matching days, and their answers become the model's rows.

One read runs at a time; what the user types meanwhile waits as the *next* filter and
is read as soon as the running read ends (older wishes are dropped), so typing fast
never queues a backlog and the last wish always wins. A filtered timeline that goes
stale after a change is read again the same way and merged, keeping expanded days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from reverie.core.service import Reverie
from reverie.core.store.timeline_filter import TimelineFilter
from reverie.core.types import Changes, DayCount
from reverie.desktop.jobs import JobContext, JobRunner, Lane
from reverie.desktop.timeline_model import TimelineModel


@dataclass(frozen=True)
class _Read:
    """A filtered read to make: fresh (reset the rows) or after changes (merge)."""

    flt: TimelineFilter
    merge: bool = False
    changes: Changes | None = None


@dataclass(frozen=True)
class Choices:
    """What the person and source filters offer."""

    people: list[str]
    sources: list[tuple[str, str]]


class TimelineBrowser(QObject):
    """Applies filters to `model` through jobs; says how many items match."""

    applied = Signal(object)  # the TimelineFilter now shown
    choices_read = Signal(object)  # Choices
    problem = Signal(str, str, bool)

    def __init__(self, runner: JobRunner, model: TimelineModel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._model = model
        self._next: _Read | None = None
        self._wants_choices = False
        model.filter_stale.connect(self._on_stale)
        # Another view's read may hold the lane: go on when it frees, not only after ours.
        runner.busy_changed.connect(self._on_lane)

    @property
    def reading(self) -> bool:
        """True while a filtered read runs or waits."""
        return self._runner.busy(Lane.BROWSE) or self._next is not None

    def show(self, flt: TimelineFilter) -> None:
        """Show what `flt` keeps (the default filter: everything, paged as before)."""
        self._next = None
        if flt.is_default:
            if not self._model.filter.is_default:
                self._model.apply_filter(flt)
            self.applied.emit(flt)
            return
        self._queue(_Read(flt))

    def read_choices(self) -> None:
        """Read the people and sources to offer (after opening, and after changes)."""
        self._wants_choices = True
        self._pump()

    def _on_lane(self, lane: object, busy: bool) -> None:
        if lane is Lane.BROWSE and not busy:
            self._pump()

    def _on_stale(self, changes: object) -> None:
        flt = self._model.filter
        if self._next is None or not self._next.merge:
            self._queue(_Read(flt, merge=True,
                              changes=changes if isinstance(changes, Changes) else None))

    def _queue(self, read: _Read) -> None:
        self._next = read
        self._pump()

    def _pump(self) -> None:
        if self._runner.facade is None or self._runner.busy(Lane.BROWSE):
            return
        if self._next is not None:
            read, self._next = self._next, None
            job = self._runner.run(Lane.BROWSE, "filter timeline", _days_of(read.flt),
                                   writes=False)
            job.succeeded.connect(lambda days: self._on_read(read, days))
        elif self._wants_choices:
            self._wants_choices = False
            job = self._runner.run(Lane.BROWSE, "filter choices", _choices, writes=False)
            job.succeeded.connect(self.choices_read.emit)
        else:
            return
        job.failed.connect(lambda text, bug: self.problem.emit(
            "Could not filter the timeline", text, bug))

    def _on_read(self, read: _Read, days: object) -> None:
        assert isinstance(days, list)
        if self._next is not None and not self._next.merge:
            return  # the user has asked for something else since: read that instead
        if read.merge:
            self._model.merge_filtered(read.flt, days, read.changes)
        else:
            self._model.apply_filter(read.flt, days)
            self.applied.emit(read.flt)


def _days_of(flt: TimelineFilter) -> Callable[[Reverie, JobContext], list[DayCount]]:
    def work(facade: Reverie, _ctx: JobContext) -> list[DayCount]:
        return facade.timeline_filtered_days(flt)

    return work


def _choices(facade: Reverie, _ctx: JobContext) -> Choices:
    return Choices(facade.people(), facade.source_names())
