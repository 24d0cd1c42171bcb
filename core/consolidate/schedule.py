"""When sleep-time consolidation runs: nightly, when the machine is idle, once after a miss.

One APScheduler 3 `BackgroundScheduler`; nothing starts while the user is chatting. A
`CronTrigger` fires nightly (local time). A check every `check_seconds` starts an *idle* run
when the user has been away `idle_minutes`, the machine is on AC power (or that is unknown)
and no run finished within `idle_min_gap_hours`. A run is *owed* when, at start, the store says
none finished since the latest nightly slot (the app was not running; APScheduler's memory
job store forgets), when the nightly time finds the user busy, or when `pause_for_user` stops
a non-idle run; the check runs what is owed as soon as the user is not busy.

The nightly job has `misfire_grace_time=None, coalesce=True, max_instances=1`, on purpose.
APScheduler 3's loop collects every fire time between a job's `next_run_time` and now; the
executor (`apscheduler.executors.base.run_job`) drops each one more than `misfire_grace_time`
seconds late (the scheduler's default is 1 s) and calls the job once per fire time left. A
laptop asleep across two nights wakes to two fire times, hours late: with the default grace it
runs *zero* times, without coalescing *twice*. `None` (run however late) with `coalesce`
(keep the latest only) runs it exactly once on wake; `max_instances=1` skips, not queues, a
fire while the last one runs. The check bounds how late that is: the loop sleeps in
`Event.wait(timeout)` on the monotonic clock, which on Linux stops during suspend, so after a
resume it would sleep out its old timeout; the check wakes it within `check_seconds`.

Runs go through one permanent job, `RUN_JOB`, resting a century ahead and moved to "now" to
start a run; our own state admits one run at a time. Never a one-off job: the loop removes a
spent one-off job with `remove_job`, which raises if `shutdown()` has just marked the scheduler
stopped (APScheduler 3 sets that state outside its locks) and kills the loop thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

logger = logging.getLogger("reverie.consolidate")

NIGHTLY_JOB = "consolidate-nightly"
CHECK_JOB = "consolidate-check"
RUN_JOB = "consolidate-run"
_OPTIONS = {"misfire_grace_time": None, "coalesce": True, "replace_existing": True}
_RESTING = timedelta(days=36525)  # where RUN_JOB waits between runs

RunConsolidation = Callable[[str, threading.Event], None]
"""run(reason, cancel): one consolidation; reason is nightly, idle, missed or manual."""


@dataclass(frozen=True)
class ScheduleSettings:
    """When consolidation may run. Hours and minutes are local time."""

    nightly_hour: int = 3
    nightly_minute: int = 0
    idle_minutes: int = 20  # no user input this long -> an idle run may start
    idle_min_gap_hours: float = 6  # since the last finished run of any kind
    check_seconds: int = 60  # how often idle conditions are polled
    require_ac_power: bool = True
    catch_up_seconds: float = 30  # after start, when an owed (missed) run may begin
    idle_runs: bool = True  # False: never start a run because the user is away


class Conditions(Protocol):
    """What the scheduler asks the environment; the desktop supplies a real one."""

    def idle_seconds(self) -> float | None:
        """Seconds without user input; None if unknown (then no idle run starts)."""

    def on_ac_power(self) -> bool | None:
        """True on mains power, False on battery, None if it cannot be known (as AC)."""

    def user_busy(self) -> bool:
        """True while the user chats or the model answers."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


class SystemConditions:
    """This machine: power from Linux sysfs, idleness and busyness from the app's callables."""

    def __init__(
        self,
        idle_seconds: Callable[[], float | None],
        user_busy: Callable[[], bool],
        *,
        power_supply_dir: Path = Path("/sys/class/power_supply"),
    ) -> None:
        """Take the app's "seconds since the last input" and "the user is busy" callables."""
        self._idle_seconds = idle_seconds
        self._user_busy = user_busy
        self._power_supply_dir = power_supply_dir

    def idle_seconds(self) -> float | None:
        """Seconds since the app last saw user input, as its callable says."""
        return self._idle_seconds()

    def user_busy(self) -> bool:
        """Whether the user is chatting, as the app's callable says."""
        return self._user_busy()

    def on_ac_power(self) -> bool | None:
        """An `online` adapter means AC; a Discharging system battery, or only offline
        adapters, mean battery; None without a system battery (a desktop) or off Linux.
        Batteries of scope Device (a mouse, a headset) are not the machine's."""
        try:
            supplies = sorted(self._power_supply_dir.iterdir())
        except OSError:
            return None
        adapters = online = False
        statuses: list[str] = []
        for supply in supplies:
            kind = _read(supply / "type")
            if kind in ("Mains", "USB", "Wireless"):
                adapters = True
                online = online or _read(supply / "online") == "1"
            elif kind == "Battery" and _read(supply / "scope") != "Device":
                statuses.append((_read(supply / "status") or "unknown").lower())
        if not statuses:
            return None
        if online:
            return True
        if "discharging" in statuses or adapters:
            return False
        return True if {"charging", "full", "not charging"} & set(statuses) else None


class ConsolidationScheduler:
    """Decides when consolidation runs, and runs it in a scheduler worker thread."""

    def __init__(
        self,
        run: RunConsolidation,
        conditions: Conditions,
        settings: ScheduleSettings,
        *,
        last_run: Callable[[], datetime | None],
        timezone: tzinfo | None = None,
        scheduler: BaseScheduler | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Prepare without starting. `last_run()`: when a run last finished (naive = UTC).

        `timezone`: of the nightly hour (default: the scheduler's, local time). `clock`: the
        aware current time (default: the real one; tests pass the fake one APScheduler reads).
        """
        self._run = run
        self._conditions = conditions
        self._settings = settings
        self._last_run = last_run
        if scheduler is None:
            scheduler = BackgroundScheduler(**({} if timezone is None else {"timezone": timezone}))
        self._scheduler = scheduler
        self._tz: tzinfo = timezone if timezone is not None else scheduler.timezone
        self._clock = clock
        self._started_scheduler = False
        self._state = threading.Condition()  # guards the fields below
        self._reason: str | None = None  # of the run queued or running
        self._cancel: threading.Event | None = None
        self._running = False
        self._owed: str | None = None  # a run postponed while the user was busy
        self._finished: datetime | None = None  # when a run last finished in this process
        self._stopping = False

    def start(self) -> None:
        """Schedule the jobs and start APScheduler (unless the given one already runs)."""
        settings, now = self._settings, self._now()
        last = self._last_finished()
        missed = last is None or last < self._last_slot(now)
        with self._state:
            self._stopping = False
            if missed:
                logger.info("no consolidation since the last nightly slot: one is owed")
                self._owed = self._owed or "missed"
        nightly = CronTrigger(
            hour=settings.nightly_hour, minute=settings.nightly_minute, timezone=self._tz)
        self._add(NIGHTLY_JOB, self._scheduled, nightly, nightly.get_next_fire_time(None, now))
        delay = min(settings.catch_up_seconds, settings.check_seconds) if missed else None
        first = now + timedelta(seconds=settings.check_seconds if delay is None else delay)
        check = IntervalTrigger(seconds=settings.check_seconds, start_date=first, timezone=self._tz)
        self._add(CHECK_JOB, self._check, check, first)
        # Our state admits one run; the executor counts an instance until a little after the
        # job function returns, so a run queued right after one ends must not be refused.
        resting = IntervalTrigger(days=_RESTING.days, start_date=now + _RESTING, timezone=self._tz)
        self._add(RUN_JOB, self._execute, resting, now + _RESTING, max_instances=2)
        if not self._scheduler.running:
            self._scheduler.start()
            self._started_scheduler = True

    def shutdown(self, wait: bool = True) -> None:
        """Cancel a queued or running run, then stop the scheduler (or just remove our jobs)."""
        with self._state:
            self._stopping = True
            if self._cancel is not None:
                self._cancel.set()
        if self._started_scheduler:
            self._scheduler.shutdown(wait=wait)
            self._started_scheduler = False
            return
        for job_id in (NIGHTLY_JOB, CHECK_JOB, RUN_JOB):
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(job_id)
        with self._state:
            if not self._running:  # a queued run was removed with its job
                self._reason = self._cancel = None
            elif wait:
                self._state.wait_for(lambda: not self._running)

    def run_now(self, reason: str = "manual") -> bool:
        """Queue an immediate run; False if one is queued or running, or not started."""
        return self._queue(reason)

    @property
    def running(self) -> bool:
        """Whether a consolidation is in progress."""
        with self._state:
            return self._running

    @property
    def active(self) -> str | None:
        """The reason of the run queued or in progress; None when there is none."""
        with self._state:
            return self._reason

    def next_nightly(self) -> datetime | None:
        """When the nightly job fires next (in the past if overdue); None if not scheduled."""
        job = self._scheduler.get_job(NIGHTLY_JOB)
        when: datetime | None = None if job is None else job.next_run_time
        return when

    def pause_for_user(self) -> None:
        """The user started chatting: cancel the queued or running run; it resumes later."""
        with self._state:
            if self._cancel is None:
                return
            self._cancel.set()
            if self._reason != "idle":  # an idle run waits for the user to be away again
                self._owed = self._reason
        logger.info("consolidation paused for the user")

    # -- jobs, in scheduler worker threads --

    def _scheduled(self) -> None:
        """The nightly time came: run now, or owe the run while the user is busy."""
        if self._conditions.user_busy():
            logger.info("the user is busy at the nightly time: consolidation postponed")
            with self._state:
                self._owed = self._owed or "nightly"
            return
        self._queue("nightly")

    def _check(self) -> None:
        """Run what is owed once the user is free, or an idle run when all conditions hold."""
        settings = self._settings
        with self._state:
            if self._reason is not None:
                return
            owed = self._owed
        if self._conditions.user_busy():
            return
        if owed is not None:
            self._queue(owed)
            return
        if not settings.idle_runs:
            return
        idle = self._conditions.idle_seconds()
        if idle is None or idle < settings.idle_minutes * 60:
            return
        if settings.require_ac_power and self._conditions.on_ac_power() is False:
            return
        last = self._last_finished()
        if last is None or self._now() - last >= timedelta(hours=settings.idle_min_gap_hours):
            self._queue("idle")

    def _execute(self) -> None:
        with self._state:
            if self._running:  # cannot happen: runs are queued only when none is
                return
            reason, cancel = self._reason, self._cancel
            if reason is None or cancel is None or cancel.is_set():  # paused before it began
                self._reason = self._cancel = None
                return
            self._running = True
        logger.info("consolidation started (%s)", reason)
        try:
            self._run(reason, cancel)
        except Exception:
            if cancel.is_set():
                logger.info("consolidation (%s) stopped", reason, exc_info=True)
            else:
                logger.exception("consolidation (%s) failed", reason)
        finally:
            with self._state:
                self._running = False
                self._reason = self._cancel = None
                if not cancel.is_set():  # done, or failed: a failure is not retried at once
                    self._owed = None
                    self._finished = self._now()
                self._state.notify_all()
        logger.info("consolidation ended (%s)", reason)

    # -- helpers --

    def _queue(self, reason: str) -> bool:
        with self._state:
            if self._reason is not None or self._stopping:
                return False
            self._reason, self._cancel = reason, threading.Event()
        try:
            self._scheduler.modify_job(RUN_JOB, next_run_time=self._now())
        except JobLookupError:  # not started, or shut down
            with self._state:
                self._reason = self._cancel = None
            return False
        return True

    def _add(self, job_id: str, func: Callable[[], None], trigger: object, first: datetime,
             max_instances: int = 1) -> None:
        self._scheduler.add_job(func, trigger, id=job_id, name=job_id, next_run_time=first,
                                max_instances=max_instances, **_OPTIONS)

    def _now(self) -> datetime:
        return self._clock() if self._clock is not None else datetime.now(self._tz)

    def _last_slot(self, now: datetime) -> datetime:
        """The latest nightly time at or before `now`."""
        local = now.astimezone(self._tz)
        slot = local.replace(hour=self._settings.nightly_hour,
                             minute=self._settings.nightly_minute, second=0, microsecond=0)
        return slot if slot <= local else slot - timedelta(days=1)

    def _last_finished(self) -> datetime | None:
        stored = self._last_run()
        if stored is not None and stored.tzinfo is None:
            stored = stored.replace(tzinfo=UTC)
        with self._state:
            mine = self._finished
        return max((t for t in (stored, mine) if t is not None), default=None)
