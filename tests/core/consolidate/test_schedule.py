"""When consolidation runs, on a real APScheduler 3 `BackgroundScheduler` and a fake wall clock.

How the clock is faked. APScheduler 3 reads the wall clock in two modules, both through the
name `datetime` they import: `apscheduler.schedulers.base` (`_process_jobs` and `_real_add_job`
call `datetime.now(self.timezone)` to find due jobs) and `apscheduler.executors.base`
(`run_job` calls `datetime.now(timezone.utc)` to drop misfired runs). The `fake_clock` fixture
replaces that name in both with a `datetime` subclass whose `now()` reads a `FakeClock`, and
the scheduler under test gets the same clock (`clock=`); its triggers get explicit start times,
so they never read the clock themselves. The scheduler thread sleeps real seconds until the
next *fake* fire time, so nothing fires by itself: a test moves the clock and calls `wakeup()`,
which is what a laptop resuming from suspend amounts to (the loop wakes and finds the wall
clock far ahead). With the misfire check on the fake clock too, a finite grace time would
really drop the late nightly run here, as it would on the laptop.

"The check ran" is observed through APScheduler's own job events: a check whose scheduled time
is later than the clock before the move can only come from a pass after the move.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED
from apscheduler.schedulers.background import BackgroundScheduler

from reverie.core.consolidate.schedule import (
    CHECK_JOB,
    NIGHTLY_JOB,
    ConsolidationScheduler,
    ScheduleSettings,
    SystemConditions,
)

TZ = ZoneInfo("Europe/Berlin")
TIMEOUT = 10.0  # generous: only a failing test waits this long


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A local time in January 2026 (no daylight-saving change nearby)."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=TZ)


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class FakeClock:
    """The wall clock, as far as APScheduler and the scheduler under test know."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        with self._lock:
            self._now = now


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(at(1, 12))

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            return clock().astimezone(tz)

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", FakeDatetime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", FakeDatetime)
    return clock


@dataclass
class FakeConditions:
    idle: float | None = 0.0
    ac: bool | None = True
    busy: bool = False

    def idle_seconds(self) -> float | None:
        return self.idle

    def on_ac_power(self) -> bool | None:
        return self.ac

    def user_busy(self) -> bool:
        return self.busy


@dataclass
class Runs:
    """The run callable: records reasons; can fail, or hold until released or cancelled."""

    hold: str | None = None  # "release" or "cancel"
    failures: int = 0
    reasons: list[str] = field(default_factory=list)
    saw_cancel: list[bool] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __call__(self, reason: str, cancel: threading.Event) -> None:
        self.reasons.append(reason)
        self.started.set()
        if self.hold == "release":
            self.release.wait(TIMEOUT)
        elif self.hold == "cancel":
            self.saw_cancel.append(cancel.wait(TIMEOUT))
        if self.failures:
            self.failures -= 1
            raise RuntimeError("consolidation blew up")

    def wait_count(self, count: int) -> bool:
        return wait_until(lambda: len(self.reasons) >= count)


class JobEvents:
    """APScheduler's job events: what was submitted and what finished executing."""

    def __init__(self, scheduler: BackgroundScheduler) -> None:
        self._cond = threading.Condition()
        self.submitted: list[tuple[str, list[datetime]]] = []
        self.executed: list[tuple[str, datetime]] = []
        scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _on_event(self, event: Any) -> None:
        with self._cond:
            if event.code == EVENT_JOB_SUBMITTED:
                self.submitted.append((event.job_id, list(event.scheduled_run_times)))
            else:
                self.executed.append((event.job_id, event.scheduled_run_time))
            self._cond.notify_all()

    def wait_executed(self, job_id: str, after: datetime) -> bool:
        """Wait for a run of `job_id` scheduled later than `after` to finish."""
        with self._cond:
            return self._cond.wait_for(
                lambda: any(j == job_id and t > after for j, t in self.executed), TIMEOUT)

    def submitted_times(self, job_id: str) -> list[list[datetime]]:
        with self._cond:
            return [times for j, times in self.submitted if j == job_id]


class Harness:
    """A ConsolidationScheduler on its own BackgroundScheduler and the fake clock."""

    def __init__(self, clock: FakeClock, settings: ScheduleSettings, runs: Runs,
                 last_run: datetime | None) -> None:
        self.clock, self.settings, self.runs = clock, settings, runs
        self.conditions = FakeConditions()
        self.apscheduler = BackgroundScheduler(timezone=TZ)
        self.events = JobEvents(self.apscheduler)
        self.sched = ConsolidationScheduler(
            runs, self.conditions, settings, last_run=lambda: last_run, timezone=TZ,
            scheduler=self.apscheduler, clock=clock)

    def set_time(self, now: datetime) -> None:
        """Move the wall clock (a suspend and resume) and wake the scheduler loop."""
        self.clock.set(now)
        self.apscheduler.wakeup()

    def check_pass(self) -> None:
        """Move on one check interval and wait until that idle check has run."""
        before = self.clock()
        self.set_time(before + timedelta(seconds=self.settings.check_seconds))
        assert self.events.wait_executed(CHECK_JOB, after=before)

    def wait_quiet(self) -> None:
        assert wait_until(lambda: self.sched.active is None)


@pytest.fixture
def make(fake_clock: FakeClock) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(start: datetime, last_run: datetime | None, *, runs: Runs | None = None,
             **settings: Any) -> Harness:
        fake_clock.set(start)
        harness = Harness(fake_clock, ScheduleSettings(**settings), runs or Runs(), last_run)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.runs.release.set()
        harness.sched.shutdown(wait=True)


def test_a_laptop_asleep_across_two_nightly_slots_runs_once_on_wake(
    make: Callable[..., Harness],
) -> None:
    h = make(at(1, 22), last_run=at(1, 10))
    h.sched.start()
    assert h.sched.next_nightly() == at(2, 3)
    h.set_time(at(3, 9))  # asleep ~35 h: the slots of day 2 and day 3 passed
    assert h.runs.wait_count(1)
    h.wait_quiet()
    assert h.runs.reasons == ["nightly"]
    # APScheduler saw both slots and coalesced them into the latest one.
    assert h.events.submitted_times(NIGHTLY_JOB) == [[at(3, 3)]]
    h.check_pass()
    h.check_pass()
    assert h.runs.reasons == ["nightly"]
    assert h.sched.active is None
    assert h.sched.next_nightly() == at(4, 3)
    h.set_time(at(4, 3, 0, 30))
    assert h.runs.wait_count(2)
    h.wait_quiet()
    h.check_pass()
    assert h.runs.reasons == ["nightly", "nightly"]
    assert h.sched.next_nightly() == at(5, 3)


def test_a_busy_user_postpones_the_nightly_run_until_free(make: Callable[..., Harness]) -> None:
    h = make(at(1, 2, 59), last_run=at(1, 1))
    h.conditions.busy = True
    h.sched.start()
    h.set_time(at(1, 3, 0, 5))
    assert h.events.wait_executed(NIGHTLY_JOB, after=at(1, 2, 59))
    h.check_pass()
    assert h.runs.reasons == []
    assert h.sched.active is None
    h.conditions.busy = False
    h.check_pass()
    assert h.runs.wait_count(1)
    h.wait_quiet()
    h.check_pass()
    assert h.runs.reasons == ["nightly"]


@pytest.mark.parametrize(
    ("idle_minutes", "ac", "require_ac", "busy", "last_hours_ago", "expected"),
    [
        (30, True, True, False, 7, ["idle"]),
        (30, None, True, False, 7, ["idle"]),  # a desktop: power unknown counts as AC
        (30, False, True, False, 7, []),  # on battery
        (30, False, False, False, 7, ["idle"]),  # battery allowed
        (30, True, True, False, 1, []),  # within the gap since the last run
        (30, True, True, True, 7, []),  # the user is chatting
        (10, True, True, False, 7, []),  # not idle long enough
        (None, True, True, False, 7, []),  # idle time unknown
    ],
)
def test_an_idle_run_needs_idle_time_power_and_a_gap(
    make: Callable[..., Harness], *, idle_minutes: int | None, ac: bool | None,
    require_ac: bool, busy: bool, last_hours_ago: int, expected: list[str],
) -> None:
    start = at(5, 14)
    h = make(start, last_run=start - timedelta(hours=last_hours_ago),
             require_ac_power=require_ac)
    h.conditions.idle = None if idle_minutes is None else idle_minutes * 60.0
    h.conditions.ac, h.conditions.busy = ac, busy
    h.sched.start()
    h.check_pass()
    if expected:
        assert h.runs.wait_count(1)
        h.wait_quiet()
        h.check_pass()  # the run just finished opens a new gap
    assert h.sched.active is None
    assert h.runs.reasons == expected


def test_run_now_is_refused_while_a_run_is_in_progress(make: Callable[..., Harness]) -> None:
    h = make(at(5, 14), last_run=at(5, 13), runs=Runs(hold="release"))
    h.sched.start()
    assert h.sched.run_now()
    assert h.runs.started.wait(TIMEOUT)
    assert h.sched.running
    assert not h.sched.run_now()
    h.runs.release.set()
    assert wait_until(lambda: not h.sched.running)
    h.wait_quiet()
    assert h.sched.run_now()
    assert h.runs.wait_count(2)
    assert h.runs.reasons == ["manual", "manual"]


def test_a_failing_run_is_logged_and_the_next_one_still_runs(
    make: Callable[..., Harness],
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    log = logging.getLogger("reverie.consolidate")
    log.addHandler(handler)
    try:
        h = make(at(5, 14), last_run=at(5, 13), runs=Runs(failures=1))
        h.sched.start()
        assert h.sched.run_now()
        assert h.runs.wait_count(1)
        h.wait_quiet()
        assert h.sched.run_now()
        assert h.runs.wait_count(2)
        h.wait_quiet()
    finally:
        log.removeHandler(handler)
    assert [r.exc_info[0] for r in records if r.exc_info] == [RuntimeError]
    assert h.apscheduler.running


def test_shutdown_cancels_the_running_consolidation(make: Callable[..., Harness]) -> None:
    h = make(at(5, 14), last_run=at(5, 13), runs=Runs(hold="cancel"))
    h.sched.start()
    assert h.sched.run_now()
    assert h.runs.started.wait(TIMEOUT)
    h.sched.shutdown(wait=True)
    assert h.runs.saw_cancel == [True]
    assert not h.sched.running
    assert not h.apscheduler.running


def test_an_injected_running_scheduler_keeps_running_after_shutdown(
    make: Callable[..., Harness],
) -> None:
    h = make(at(5, 14), last_run=at(5, 13))
    h.apscheduler.start()
    h.sched.start()
    assert h.sched.next_nightly() == at(6, 3)
    h.sched.shutdown()
    assert h.apscheduler.running
    assert h.sched.next_nightly() is None
    h.apscheduler.shutdown()


def test_the_user_pausing_a_run_resumes_it_when_free(make: Callable[..., Harness]) -> None:
    h = make(at(5, 14), last_run=at(5, 13), runs=Runs(hold="cancel"))
    h.sched.start()
    assert h.sched.run_now()
    assert h.runs.started.wait(TIMEOUT)
    h.conditions.busy = True
    h.sched.pause_for_user()
    h.wait_quiet()
    assert h.runs.saw_cancel == [True]
    h.check_pass()
    assert h.runs.reasons == ["manual"]
    h.conditions.busy = False
    h.runs.hold = None
    h.check_pass()
    assert h.runs.wait_count(2)
    assert h.runs.reasons == ["manual", "manual"]


@pytest.mark.parametrize(
    ("last_run", "busy", "expected"),
    [
        (at(5, 2, 30), False, ["missed"]),  # the 03:00 slot of day 5 passed without a run
        (None, False, ["missed"]),  # never ran
        (at(5, 2, 30), True, []),  # owed, but the user is chatting
        (at(5, 3, 30), False, []),  # ran after the last slot
    ],
)
def test_catch_up_at_start_runs_once_only_after_a_missed_slot(
    make: Callable[..., Harness], last_run: datetime | None, busy: bool, expected: list[str],
) -> None:
    h = make(at(5, 10), last_run=last_run, catch_up_seconds=5)
    h.conditions.busy = busy
    h.sched.start()
    h.set_time(at(5, 10, 0, 5))
    if expected:
        assert h.runs.wait_count(1)
        h.wait_quiet()
    h.check_pass()
    h.check_pass()
    assert h.runs.reasons == expected
    assert h.sched.active is None
    if busy:  # still owed: runs once the user is free
        h.conditions.busy = False
        h.check_pass()
        assert h.runs.wait_count(1)
        h.wait_quiet()
        h.check_pass()
        assert h.runs.reasons == ["missed"]


def supplies(root: Path, **entries: dict[str, str]) -> Path:
    """A fake /sys/class/power_supply: one folder per supply, one file per attribute."""
    for name, attributes in entries.items():
        (root / name).mkdir(parents=True)
        for attribute, value in attributes.items():
            (root / name / attribute).write_text(value + "\n")
    return root


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"AC": {"type": "Mains", "online": "1"},
          "BAT0": {"type": "Battery", "status": "Charging"}}, True),
        ({"AC": {"type": "Mains", "online": "0"},
          "BAT0": {"type": "Battery", "status": "Discharging"}}, False),
        ({"ucsi-source-psy-1": {"type": "USB", "online": "1"},
          "BAT0": {"type": "Battery", "status": "Not charging"}}, True),
        ({"ucsi-source-psy-1": {"type": "USB", "online": "0"},
          "BAT0": {"type": "Battery", "status": "Unknown"}}, False),
        ({"BAT0": {"type": "Battery", "status": "Full"}}, True),
        ({"BAT0": {"type": "Battery", "status": "Unknown"}}, None),
        ({"AC": {"type": "Mains", "online": "1"}}, None),  # a desktop: no system battery
        ({"hidpp_battery_0": {"type": "Battery", "scope": "Device",
                              "status": "Discharging"}}, None),  # a mouse, not the machine
        ({}, None),
    ],
)
def test_system_conditions_read_power_from_sysfs(
    tmp_path: Path, entries: dict[str, dict[str, str]], expected: bool | None,
) -> None:
    root = supplies(tmp_path / "power_supply", **entries)
    root.mkdir(exist_ok=True)
    conditions = SystemConditions(lambda: 42.0, lambda: True, power_supply_dir=root)
    assert conditions.on_ac_power() is expected
    assert conditions.idle_seconds() == 42.0
    assert conditions.user_busy()


def test_system_conditions_without_sysfs_cannot_know_the_power(tmp_path: Path) -> None:
    conditions = SystemConditions(lambda: None, lambda: False,
                                  power_supply_dir=tmp_path / "missing")
    assert conditions.on_ac_power() is None
