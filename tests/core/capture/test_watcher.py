"""The folder watcher, on the real filesystem with real watchdog observers."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reverie.core.capture import watcher as watcher_module
from reverie.core.capture.watcher import (
    FolderWatcher,
    WatchMode,
    _filesystem_type,
    _is_network_filesystem,
)

DEADLINE = 5.0


class Reports:
    """Collects what the watcher reports, with the time of each report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.batches: list[tuple[float, list[Path]]] = []

    def __call__(self, paths: list[Path]) -> None:
        with self._lock:
            self.batches.append((time.monotonic(), paths))

    def times(self, path: Path) -> list[float]:
        """When `path` was reported."""
        with self._lock:
            return [at for at, paths in self.batches if path in paths]

    def wait_for(self, *wanted: Path, after: float = 0.0) -> bool:
        """Whether any of `wanted` is reported after `after` within the deadline."""
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if any(at >= after for path in wanted for at in self.times(path)):
                return True
            time.sleep(0.02)
        return False


Make = Callable[..., FolderWatcher]


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def make(reports: Reports) -> Iterator[Make]:
    made: list[FolderWatcher] = []

    def make_watcher(debounce: float = 0.1, poll_interval: float = 0.2) -> FolderWatcher:
        folder_watcher = FolderWatcher(reports, debounce=debounce, poll_interval=poll_interval)
        made.append(folder_watcher)
        return folder_watcher

    yield make_watcher
    for folder_watcher in made:
        folder_watcher.stop()


@pytest.fixture(params=[False, True], ids=["native", "polling"])
def polling(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_create_edit_delete_are_reported(
        tmp_path: Path, make: Make, reports: Reports, polling: bool) -> None:
    folder_watcher = make()
    mode = folder_watcher.watch(tmp_path, polling=polling)
    if polling:
        assert mode is WatchMode.POLLING
    target = tmp_path / "note.txt"

    start = time.monotonic()
    target.write_text("one")
    assert reports.wait_for(target, after=start)

    start = time.monotonic()
    with target.open("a") as file:
        file.write(" and two")
    assert reports.wait_for(target, after=start)

    start = time.monotonic()
    target.unlink()
    assert reports.wait_for(target, after=start)
    assert folder_watcher.watched() == {tmp_path: mode}


def test_atomic_save_reports_the_target(tmp_path: Path, make: Make, reports: Reports) -> None:
    target = tmp_path / "note.md"
    target.write_text("draft")
    make().watch(tmp_path)

    start = time.monotonic()
    temporary = tmp_path / ".note.md.swp"
    temporary.write_text("final")
    os.replace(temporary, target)
    assert reports.wait_for(target, after=start)


def test_a_move_reports_both_ends(tmp_path: Path, make: Make, reports: Reports) -> None:
    source, destination = tmp_path / "a.txt", tmp_path / "b.txt"
    source.write_text("moving")
    make().watch(tmp_path)

    source.rename(destination)
    assert reports.wait_for(destination)
    assert reports.wait_for(source)


def test_a_new_subfolder_is_reported(tmp_path: Path, make: Make, reports: Reports) -> None:
    make().watch(tmp_path)
    folder = tmp_path / "new" / "deeper"
    folder.mkdir(parents=True)
    (folder / "inside.txt").write_text("hello")
    assert reports.wait_for(tmp_path / "new", folder, folder / "inside.txt")


def test_rapid_writes_are_debounced(tmp_path: Path, make: Make, reports: Reports) -> None:
    target = tmp_path / "busy.log"
    make(debounce=0.25).watch(tmp_path)

    for number in range(200):
        with target.open("a") as file:
            file.write(f"line {number}\n")
    last_write = time.monotonic()

    assert reports.wait_for(target, after=last_write)
    assert len(reports.times(target)) <= 3


def test_a_single_file_root_reports_only_that_file(
        tmp_path: Path, make: Make, reports: Reports) -> None:
    target, sibling = tmp_path / "mine.txt", tmp_path / "other.txt"
    target.write_text("one")
    assert make().watch(target) is not None

    sibling.write_text("not watched")
    target.write_text("two")
    assert reports.wait_for(target)
    assert reports.times(sibling) == []
    assert all(path == target for _, paths in reports.batches for path in paths)


def test_unwatch_stops_reports(tmp_path: Path, make: Make, reports: Reports) -> None:
    dropped, kept = tmp_path / "dropped", tmp_path / "kept"
    dropped.mkdir()
    kept.mkdir()
    folder_watcher = make()
    folder_watcher.watch(dropped)
    folder_watcher.watch(kept)
    (dropped / "before.txt").write_text("x")
    assert reports.wait_for(dropped / "before.txt")

    folder_watcher.unwatch(dropped)
    (dropped / "after.txt").write_text("x")
    (kept / "control.txt").write_text("x")
    assert reports.wait_for(kept / "control.txt")
    assert reports.times(dropped / "after.txt") == []
    assert list(folder_watcher.watched()) == [kept]


def test_a_deleted_root_is_reported_and_watched_again(
        tmp_path: Path, make: Make, reports: Reports) -> None:
    root = tmp_path / "drive"
    root.mkdir()
    folder_watcher = make()
    folder_watcher.watch(root)

    shutil.rmtree(root)
    assert reports.wait_for(root)
    root.mkdir()
    start = time.monotonic()
    (root / "back.txt").write_text("again")
    assert reports.wait_for(root / "back.txt", root, after=start)
    assert folder_watcher.watched() == {root: WatchMode.POLLING}


def test_a_path_that_keeps_changing_is_not_starved() -> None:
    folder_watcher = FolderWatcher(lambda paths: None, debounce=1.0)  # waits at most 10 s
    folder_watcher.stop()  # so that its thread takes nothing meanwhile
    now = time.monotonic()
    busy, fresh, quiet = Path("/busy"), Path("/fresh"), Path("/quiet")
    folder_watcher._pending = {
        busy: (now - 10.0, now), fresh: (now - 3.0, now), quiet: (now - 2.0, now - 1.0)}
    assert folder_watcher._take_due(now) == [busy, quiet]
    assert list(folder_watcher._pending) == [fresh]


def test_asking_for_polling_switches_a_native_watch(tmp_path: Path, make: Make,
                                                    reports: Reports) -> None:
    folder_watcher = make()
    first = folder_watcher.watch(tmp_path)
    assert folder_watcher.watch(tmp_path) is first
    assert folder_watcher.watch(tmp_path, polling=True) is WatchMode.POLLING
    assert folder_watcher.watch(tmp_path) is WatchMode.POLLING
    (tmp_path / "polled.txt").write_text("x")
    assert reports.wait_for(tmp_path / "polled.txt")


def test_a_failing_consumer_does_not_stop_reports(
        tmp_path: Path, make: Make, reports: Reports, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[list[Path]] = []

    def flaky(paths: list[Path]) -> None:
        calls.append(paths)
        if len(calls) == 1:
            raise RuntimeError("consumer bug")
        reports(paths)

    folder_watcher = FolderWatcher(flaky, debounce=0.1)
    try:
        folder_watcher.watch(tmp_path)
        (tmp_path / "first.txt").write_text("x")
        end = time.monotonic() + DEADLINE
        while not calls and time.monotonic() < end:
            time.sleep(0.02)
        (tmp_path / "second.txt").write_text("x")
        assert reports.wait_for(tmp_path / "second.txt")
    finally:
        folder_watcher.stop()
        folder_watcher.stop()
    assert "reporting changed paths failed" in caplog.text
    assert str(tmp_path) not in caplog.text


def test_network_filesystems_are_polled(
        tmp_path: Path, make: Make, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    table = f"1 0 0:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:2 / {tmp_path} rw - nfs4 srv:/x rw\n"
    monkeypatch.setattr(watcher_module, "_read_text", lambda name: table if "mount" in name else "")
    with caplog.at_level("INFO", logger="reverie.capture"):
        assert make().watch(tmp_path) is WatchMode.POLLING
    assert "nfs4" in caplog.text
    assert str(tmp_path) not in caplog.text


def test_a_missing_root_cannot_be_watched(tmp_path: Path, make: Make) -> None:
    with pytest.raises(OSError):  # noqa: PT011 - any OSError: which one depends on the OS
        make().watch(tmp_path / "absent")


MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:50 / /mnt/nas rw,relatime shared:30 - nfs4 server:/export rw,vers=4.2
41 22 0:51 / /mnt/nas\040share rw - cifs //srv/share rw
42 22 0:52 / /home/u/remote rw,nosuid shared:7 master:2 - fuse.sshfs u@host: rw
43 22 0:53 / /mnt/nasty rw - ext4 /dev/sdb1 rw
44 22 0:54 / /mnt/nasty rw - 9p drvfs rw
"""


@pytest.mark.parametrize(("path", "expected"), [
    ("/", "ext4"),
    ("/home/u/notes/a.txt", "ext4"),
    ("/mnt/nas", "nfs4"),
    ("/mnt/nas/docs/a.txt", "nfs4"),
    ("/mnt/nas share/a.txt", "cifs"),
    ("/home/u/remote/x", "fuse.sshfs"),
    ("/home/u/remotely", "ext4"),
    ("/mnt/nasty/a.txt", "9p"),  # the later mount shadows the earlier one
])
def test_filesystem_type_from_mountinfo(path: str, expected: str) -> None:
    assert _filesystem_type(path, MOUNTINFO) == expected


def test_filesystem_type_from_proc_mounts() -> None:
    mounts = "/dev/sda1 / ext4 rw 0 0\nsrv:/x /data nfs rw,vers=3 0 0\nbroken\n"
    assert _filesystem_type("/data/a", mounts) == "nfs"
    assert _filesystem_type("/database", mounts) == "ext4"
    assert _filesystem_type("/x", "") is None


@pytest.mark.parametrize(("fstype", "network"), [
    ("nfs", True), ("nfs4", True), ("cifs", True), ("smb3", True), ("fuse.sshfs", True),
    ("fuse.rclone", True), ("9p", True), ("davfs", True),
    ("ext4", False), ("btrfs", False), ("tmpfs", False), ("fuseblk", False), ("overlay", False),
])
def test_network_filesystems(fstype: str, network: bool) -> None:
    assert _is_network_filesystem(fstype) is network
