"""The job helper: outcomes, progress and streaming arrive as signals on the main thread."""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

import pytest
from pytestqt.qtbot import QtBot

from reverie.core.errors import BadInput, Cancelled
from reverie.core.service import Reverie
from reverie.core.types import Changes
from reverie.desktop.jobs import BUG_APOLOGY, JobBusy, JobContext, JobRunner, Lane

TIMEOUT_MS = 10_000


class FakeFacade:
    """Stands in for `Reverie` where only the runner's plumbing is under test."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def runner(qtbot: QtBot) -> Any:
    runner = JobRunner()
    runner.set_facade(cast(Reverie, FakeFacade()))
    yield runner
    runner.shutdown()


def on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Result:
    def __init__(self, changes: Changes) -> None:
        self.changes = changes


def test_success_progress_and_stream_arrive_in_order_on_the_main_thread(
    qtbot: QtBot, runner: JobRunner
) -> None:
    seen: list[tuple[str, object, bool]] = []

    def work(facade: Reverie, ctx: JobContext) -> str:
        assert not on_main_thread()
        for done in range(3):
            ctx.progress(done, 3, "counting")
            ctx.emit(f"token {done}")
        return "done"

    job = runner.run(Lane.WORK, "count", work)
    job.progressed.connect(lambda d, t, w: seen.append(("progress", (d, t, w), on_main_thread())))
    job.streamed.connect(lambda value: seen.append(("stream", value, on_main_thread())))
    job.succeeded.connect(lambda value: seen.append(("ok", value, on_main_thread())))
    assert runner.busy(Lane.WORK)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT_MS):
        pass
    assert all(main for _, _, main in seen)
    assert [kind for kind, _, _ in seen] == ["progress", "stream"] * 3 + ["ok"]
    assert seen[-1][1] == "done"
    assert not runner.busy(Lane.WORK)


def test_environment_problem_is_shown_plainly_and_a_bug_is_logged_with_apology(
    qtbot: QtBot, runner: JobRunner, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(facade: Reverie, ctx: JobContext) -> None:
        raise BadInput("that file is not a chat export")

    def crash(facade: Reverie, ctx: JobContext) -> None:
        raise ZeroDivisionError("oops")

    job = runner.run(Lane.WORK, "refuse", refuse)
    with qtbot.waitSignal(job.failed, timeout=TIMEOUT_MS) as blocker:
        pass
    assert blocker.args == ["that file is not a chat export", False]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    job = runner.run(Lane.WORK, "crash", crash)
    with qtbot.waitSignal(job.failed, timeout=TIMEOUT_MS) as blocker:
        pass
    assert blocker.args == [BUG_APOLOGY, True]
    bug = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(bug) == 1
    assert bug[0].exc_info is not None
    assert bug[0].exc_info[0] is ZeroDivisionError


def test_cancel_reaches_the_job_and_ends_it_as_cancelled(
    qtbot: QtBot, runner: JobRunner
) -> None:
    started = threading.Event()

    def wait_for_cancel(facade: Reverie, ctx: JobContext) -> None:
        started.set()
        if not ctx.cancel.wait(TIMEOUT_MS / 1000):
            raise AssertionError("never cancelled")
        raise Cancelled("stopped")

    job = runner.run(Lane.WORK, "wait", wait_for_cancel)
    assert started.wait(TIMEOUT_MS / 1000)
    with qtbot.waitSignals([job.cancelled, job.finished], timeout=TIMEOUT_MS, order="strict"):
        job.cancel()


def test_one_job_per_lane_but_lanes_run_side_by_side(qtbot: QtBot, runner: JobRunner) -> None:
    release = threading.Event()
    both_running = threading.Barrier(2, timeout=TIMEOUT_MS / 1000)

    def hold(facade: Reverie, ctx: JobContext) -> None:
        both_running.wait()  # proves the two lanes run at the same time
        release.wait(TIMEOUT_MS / 1000)

    work = runner.run(Lane.WORK, "hold", hold)
    chat = runner.run(Lane.CHAT, "hold", hold)
    with pytest.raises(JobBusy):
        runner.run(Lane.WORK, "second", hold)
    release.set()
    with qtbot.waitSignals([work.succeeded, chat.succeeded], timeout=TIMEOUT_MS):
        pass
    assert not runner.busy(Lane.WORK)
    assert not runner.busy(Lane.CHAT)


def test_a_job_asked_for_a_busy_lane_starts_when_the_lane_frees(
    qtbot: QtBot, runner: JobRunner,
) -> None:
    release = threading.Event()
    order: list[str] = []

    def hold(facade: Reverie, ctx: JobContext) -> str:
        release.wait(TIMEOUT_MS / 1000)
        order.append("first")
        return "first"

    def second(facade: Reverie, ctx: JobContext) -> str:
        order.append("second")
        return "second"

    runner.run(Lane.STATUS, "hold", hold, writes=False)
    started: list[Any] = []
    results: list[object] = []

    def connect(job: Any) -> None:
        started.append(job)
        job.succeeded.connect(results.append)

    runner.run_when_free(Lane.STATUS, "second", second, writes=False, then=connect)
    assert started == []  # waits: the lane is busy
    release.set()
    qtbot.waitUntil(lambda: results == ["second"], timeout=TIMEOUT_MS)
    assert order == ["first", "second"]


def test_a_read_asked_once_is_not_queued_twice_while_it_waits(
    qtbot: QtBot, runner: JobRunner,
) -> None:
    release = threading.Event()
    reads: list[str] = []

    def hold(facade: Reverie, ctx: JobContext) -> None:
        release.wait(TIMEOUT_MS / 1000)

    def read(facade: Reverie, ctx: JobContext) -> str:
        reads.append("read")
        return "read"

    runner.run(Lane.STATUS, "hold", hold, writes=False)
    started: list[str] = []
    finished: list[str] = []

    def connect(job: Any) -> None:
        started.append(job.name)
        job.finished.connect(lambda: finished.append(job.name))

    for _ in range(3):  # three refreshes while the lane is busy: one read waits
        runner.run_when_free(Lane.STATUS, "counts", read, writes=False, then=connect,
                             once=True)
    assert runner.is_waiting(Lane.STATUS, "counts")
    release.set()
    qtbot.waitUntil(lambda: finished == ["counts"], timeout=TIMEOUT_MS)
    assert started == ["counts"]
    # Asked once it has started, another read follows: it may have missed the change.
    runner.run_when_free(Lane.STATUS, "counts", read, writes=False, then=connect, once=True)
    qtbot.waitUntil(lambda: reads == ["read", "read"], timeout=TIMEOUT_MS)
    assert not runner.is_waiting(Lane.STATUS, "counts")


def test_changes_are_announced_once_and_failures_ask_for_a_look(
    qtbot: QtBot, runner: JobRunner
) -> None:
    announced: list[object] = []
    runner.changed.connect(announced.append)
    part = Changes(episodes_added=2, days=frozenset({"2026-03-02"}))
    rest = Changes(memories_added=1, days=frozenset({"2026-03-02"}))

    def write(facade: Reverie, ctx: JobContext) -> Result:
        ctx.announce(part)
        return Result(rest)

    def fail(facade: Reverie, ctx: JobContext) -> None:
        raise BadInput("no")

    job = runner.run(Lane.WORK, "write", write)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT_MS):
        pass
    assert announced == [part, rest]
    job = runner.run(Lane.WORK, "fail", fail)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT_MS):
        pass
    assert announced == [part, rest, None]
    job = runner.run(Lane.WORK, "read", lambda facade, ctx: Result(Changes()), writes=False)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT_MS):
        pass
    assert announced == [part, rest, None]


def test_shutdown_cancels_waits_and_closes_the_facade_it_opened(qtbot: QtBot) -> None:
    runner = JobRunner()
    facade = FakeFacade()
    opened = runner.open(lambda: cast(Reverie, facade))
    with qtbot.waitSignal(runner.opened, timeout=TIMEOUT_MS):
        pass
    assert opened is not None
    assert runner.facade is facade
    stopped = threading.Event()

    def until_cancelled(facade: Reverie, ctx: JobContext) -> None:
        ctx.cancel.wait(TIMEOUT_MS / 1000)
        stopped.set()
        raise Cancelled("stopped")

    runner.run(Lane.CHAT, "long", until_cancelled)
    runner.shutdown()
    assert stopped.is_set()
    assert facade.closed == 1
    assert runner.facade is None
    runner.shutdown()
    assert facade.closed == 1
    with pytest.raises(RuntimeError):
        runner.run(Lane.CHAT, "late", until_cancelled)


def test_a_facade_opened_after_shutdown_began_is_closed_at_once(qtbot: QtBot) -> None:
    runner = JobRunner()
    facade = FakeFacade()
    opening = threading.Event()
    go_on = threading.Event()

    def slow_open() -> Reverie:
        opening.set()
        go_on.wait(TIMEOUT_MS / 1000)
        return cast(Reverie, facade)

    runner.open(slow_open)
    assert opening.wait(TIMEOUT_MS / 1000)
    threading.Timer(0.05, go_on.set).start()
    runner.shutdown()
    assert facade.closed == 1
    assert runner.facade is None


def test_a_facade_passed_in_is_left_to_its_owner(qtbot: QtBot) -> None:
    runner = JobRunner()
    facade = FakeFacade()
    runner.set_facade(cast(Reverie, facade))
    runner.shutdown()
    assert facade.closed == 0


def test_the_lane_is_free_when_the_outcome_is_heard(qtbot: QtBot, runner: JobRunner) -> None:
    """A handler of `succeeded` may start the lane's next job at once (open → import)."""
    results: list[object] = []

    def start_next(result: object) -> None:
        results.append(result)
        assert not runner.busy(Lane.WORK)
        second = runner.run(Lane.WORK, "second", lambda facade, ctx: "second")
        second.succeeded.connect(results.append)

    first = runner.run(Lane.WORK, "first", lambda facade, ctx: "first")
    first.succeeded.connect(start_next)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=TIMEOUT_MS)
    assert results == ["first", "second"]
