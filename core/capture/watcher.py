"""Say which paths under the watched folders may have changed, debounced.

Events are not interpreted: each only marks its paths as pending, and a path goes to
`on_paths` once quiet for `debounce` seconds, or after `max(10 * debounce, 5 s)` if it
keeps changing. The consumer re-checks every path against the disk.

Each root has its own observer, so one root can be polled alone: when asked, when it is
on a network filesystem (`NETWORK_FS_TYPES`), when its tree outgrows inotify, when native
watching fails, or when its observer dies later (root deleted, drive unmounted). A root
that cannot be watched at all is retried every `poll_interval`, and reported on return.
Logs carry counts, modes and filesystem types, never the user's path names.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirModifiedEvent,
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger("reverie.capture")

# Filesystems whose files can change without passing through this machine's kernel
# (another host, a VM's host, a userspace daemon), so inotify would never hear of it.
NETWORK_FS_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "9p", "davfs", "fuse",
    "afs", "ceph", "glusterfs", "lustre", "virtiofs", "vboxsf",
})
_NETWORK_FS_PREFIX = "fuse."  # fuse.sshfs, fuse.rclone, fuse.gvfsd-fuse, ...
_MOUNT_TABLES = ("/proc/self/mountinfo", "/proc/mounts")
_INOTIFY_WATCH_LIMIT = "/proc/sys/fs/inotify/max_user_watches"
# Noise: a folder's mtime changes with every file in it, and reading changes nothing.
_IGNORED_EVENTS = (DirModifiedEvent, FileOpenedEvent, FileClosedNoWriteEvent)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
# watchdog's inotify thread warns (path included) when a folder created inside a new
# folder gets its watch twice, a harmless race; where warnings are errors, that kills it.
_DOUBLE_WATCH_WARNING = r"Callback with id '\d+' already exists for watch"


class WatchMode(enum.StrEnum):
    """How a root is watched: by the OS's notifications, or by re-listing it."""

    NATIVE = "native"
    POLLING = "polling"


def _filesystem_type(path: str, mount_table: str) -> str | None:
    """The type of the filesystem holding the absolute `path`, or None if unknown.

    `mount_table` is the text of /proc/self/mountinfo or /proc/mounts. The longest
    mount point that contains `path` wins; of equal ones the last, which shadows the
    others.
    """
    best_length, best_type = -1, None
    for line in mount_table.splitlines():
        entry = _parse_mount_line(line)
        if entry is None:
            continue
        point, fstype = entry
        inside = point in ("/", path) or path.startswith(point + "/")
        if inside and len(point) >= best_length:
            best_length, best_type = len(point), fstype
    return best_type


def _parse_mount_line(line: str) -> tuple[str, str] | None:
    """(mount point, filesystem type) from a line of mountinfo or of /proc/mounts."""
    fields = line.split()
    if "-" in fields[6:]:  # mountinfo: optional fields end with a lone "-"
        separator = fields.index("-", 6)
        if separator + 1 >= len(fields):
            return None
        point, fstype = fields[4], fields[separator + 1]
    elif len(fields) >= 3:  # /proc/mounts: device, mount point, type, ...
        point, fstype = fields[1], fields[2]
    else:
        return None
    # The kernel writes spaces, tabs, newlines and backslashes as octal escapes.
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), point), fstype


def _is_network_filesystem(fstype: str) -> bool:
    """Whether files on `fstype` may change without this machine's kernel knowing."""
    return fstype in NETWORK_FS_TYPES or fstype.startswith(_NETWORK_FS_PREFIX)


def _read_text(name: str) -> str:
    """A small system file's text, or "" where it does not exist (not Linux)."""
    try:
        with open(name, encoding="utf-8", errors="surrogateescape") as file:
            return file.read()
    except OSError:
        return ""


def _polling_reason(folder: Path, *, recursive: bool) -> str | None:
    """Why `folder` must be polled rather than watched natively, if it must."""
    table = next((text for text in map(_read_text, _MOUNT_TABLES) if text), "")
    fstype = _filesystem_type(os.path.realpath(folder), table)
    if fstype is not None and _is_network_filesystem(fstype):
        return f"{fstype} filesystem"
    # watchdog silently skips subfolders that inotify refuses to watch (only the root's
    # refusal raises), so a tree near the per-user limit would have blind spots.
    limit = _read_text(_INOTIFY_WATCH_LIMIT).strip()
    if recursive and limit.isdigit():
        budget = int(limit) // 2  # other programs of the user hold watches too
        if _count_folders(folder, budget) >= budget:
            return f"more than {budget} subfolders for inotify"
    return None


def _count_folders(folder: Path, limit: int) -> int:
    """How many folders `folder`'s tree holds, counting no further than `limit`."""
    count = 1
    for _, subfolders, _ in os.walk(folder):  # symlinks not followed, as by watchdog
        count += len(subfolders)
        if count >= limit:
            break
    return count


def _identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of `folder`: it changes when a drive is unmounted under it."""
    try:
        status = os.stat(folder)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _halt(observer: BaseObserver) -> None:
    """Stop a started observer and wait for its threads."""
    observer.stop()
    observer.join()


@dataclass(eq=False)
class _Watch:
    """One watched root and the observer that serves it (None while unreachable)."""

    root: Path
    folder: Path  # what is scheduled: the root, or a single file's parent
    only: Path | None  # for a single-file root: the one path to report
    mode: WatchMode = WatchMode.NATIVE
    observer: BaseObserver | None = None
    identity: tuple[int, int] | None = None
    active: bool = True  # False once unwatched: late events from its observer are dropped

    def alive(self) -> bool:
        """Whether its observer and all its threads are still running."""
        observer = self.observer
        if observer is None:
            return False
        # tuple() copies the set atomically; stop() may be clearing it meanwhile.
        threads: list[threading.Thread] = [observer, *tuple(observer.emitters)]
        # The inotify observer reads the kernel in a thread of its own, kept private.
        reader = getattr(observer, "_inotify_fd", None)
        if isinstance(reader, threading.Thread):
            threads.append(reader)
        return all(thread.is_alive() for thread in threads)

    def covers(self, path: Path) -> bool:
        """Whether events of `path` belong to this root."""
        return path == self.only if self.only is not None else path.is_relative_to(self.root)


class _Recorder(FileSystemEventHandler):
    """Passes each event's paths on; runs on watchdog's thread, so only records."""

    def __init__(self, record: Callable[[_Watch, list[Path]], None], watch: _Watch) -> None:
        self._record = record
        self._watch = watch

    def dispatch(self, event: FileSystemEvent) -> None:
        """Record the source and destination of any event that may change content."""
        if isinstance(event, _IGNORED_EVENTS):
            return
        paths = [Path(os.fsdecode(p)) for p in (event.src_path, event.dest_path) if p]
        if self._watch.only is not None:
            paths = [path for path in paths if path == self._watch.only]
        if paths:
            self._record(self._watch, paths)


class FolderWatcher:
    """Watches folders and single files, reporting changed paths to `on_paths`.

    `on_paths` receives a sorted list of paths on the watcher's own thread; it may take
    its time (events keep being collected meanwhile) and its exceptions are logged,
    never fatal. Pending paths are dropped by `stop`. All methods are thread-safe.
    """

    def __init__(self, on_paths: Callable[[list[Path]], None], *, debounce: float = 0.5,
                 poll_interval: float = 5.0) -> None:
        if debounce <= 0 or poll_interval <= 0:
            raise ValueError("debounce and poll_interval must be positive")
        warnings.filterwarnings("ignore", _DOUBLE_WATCH_WARNING, RuntimeWarning)
        self._on_paths = on_paths
        self._debounce = debounce
        self._max_wait = max(10 * debounce, 5.0)
        self._poll_interval = poll_interval
        self._lock = threading.Lock()  # guards _pending and _watches; held briefly
        self._admin = threading.Lock()  # serialises starting and stopping observers
        self._pending: dict[Path, tuple[float, float]] = {}  # path: (first, last) event
        self._watches: dict[Path, _Watch] = {}
        self._stopping = threading.Event()
        self._next_deep_check = 0.0
        self._thread = threading.Thread(target=self._run, name="reverie-watcher", daemon=True)
        self._thread.start()

    def watch(self, root: Path, *, polling: bool = False) -> WatchMode:
        """Watch `root` (a folder, recursively, or one file) and say how.

        Watching a root again keeps its watch, unless polling is asked of a native one.
        Raises OSError if `root` can be watched neither way (e.g. it does not exist).
        """
        root = Path(os.path.abspath(root))
        with self._admin:
            if self._stopping.is_set():
                raise RuntimeError("the folder watcher is stopped")
            old = self._watches.get(root)
            if old is not None and (not polling or old.mode is WatchMode.POLLING):
                return old.mode
            new = self._start(root, polling=polling)
            with self._lock:
                self._watches[root] = new
                if old is not None:
                    old.active = False
            if old is not None and old.observer is not None:
                _halt(old.observer)  # after the swap, so no event falls in between
            return new.mode

    def unwatch(self, root: Path) -> None:
        """Stop watching `root` and forget its unreported paths; unknown roots are ignored."""
        root = Path(os.path.abspath(root))
        with self._admin:
            with self._lock:
                watch = self._watches.pop(root, None)
                if watch is None:
                    return
                watch.active = False
                for path in list(self._pending):
                    if watch.covers(path) and not any(
                            other.covers(path) for other in self._watches.values()):
                        del self._pending[path]
            if watch.observer is not None:
                _halt(watch.observer)

    def watched(self) -> dict[Path, WatchMode]:
        """The watched roots and how each is watched now."""
        with self._lock:
            return {root: watch.mode for root, watch in self._watches.items()}

    def stop(self) -> None:
        """Stop every observer and the debounce thread, and wait for them; idempotent."""
        self._stopping.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()
        with self._admin, self._lock:
            watches = list(self._watches.values())
            self._watches.clear()
            self._pending.clear()
            for watch in watches:
                watch.active = False
        for watch in watches:
            if watch.observer is not None:
                _halt(watch.observer)

    # Starting observers (callers hold self._admin)

    def _start(self, root: Path, *, polling: bool) -> _Watch:
        """A running watch of `root`: native if it can be, else polling."""
        is_file = os.path.isfile(root)
        watch = _Watch(root, root.parent if is_file else root, root if is_file else None)
        reason = "asked for" if polling else _polling_reason(watch.folder, recursive=not is_file)
        if reason is None:
            try:
                self._schedule(watch, native=True)
            except OSError as exc:
                reason = f"native watching failed ({errno.errorcode.get(exc.errno or 0, '?')})"
            else:
                return watch
        log.info("polling a watched %s every %gs: %s",
                 "file" if is_file else "folder", self._poll_interval, reason)
        self._schedule(watch, native=False)
        return watch

    def _schedule(self, watch: _Watch, *, native: bool) -> None:
        """Give `watch` a running observer of the chosen kind; OSError if it cannot."""
        observer = Observer() if native else PollingObserver(timeout=self._poll_interval)
        observer.start()  # first, so that schedule() raises what goes wrong, not start()
        try:
            observer.schedule(_Recorder(self._record, watch), str(watch.folder),
                              recursive=watch.only is None)
        except BaseException:
            _halt(observer)
            raise
        watch.observer = observer
        watch.mode = WatchMode.NATIVE if native else WatchMode.POLLING
        watch.identity = _identity(watch.folder)

    # The debounce thread

    def _record(self, watch: _Watch, paths: list[Path]) -> None:
        """Mark `paths` as changed now; called on watchdog's threads."""
        now = time.monotonic()
        with self._lock:
            if not watch.active:
                return
            for path in paths:
                first = self._pending.get(path, (now, now))[0]
                self._pending[path] = (first, now)

    def _run(self) -> None:
        """Every quarter debounce: mend dead observers, then report quiet paths."""
        while not self._stopping.wait(self._debounce / 4):
            try:
                self._check_observers()
                due = self._take_due(time.monotonic())
                if due:
                    self._on_paths(due)
            except Exception:
                log.exception("reporting changed paths failed")

    def _take_due(self, now: float) -> list[Path]:
        """Remove and return the paths quiet for `debounce`, or pending for too long."""
        with self._lock:
            due = [path for path, (first, last) in self._pending.items()
                   if now - last >= self._debounce or now - first >= self._max_wait]
            for path in due:
                del self._pending[path]
        return sorted(due)

    def _check_observers(self) -> None:
        """Revive dead observers; every `poll_interval`, also deaf and unreachable ones."""
        now = time.monotonic()
        deep = now >= self._next_deep_check
        if deep:
            self._next_deep_check = now + self._poll_interval
        with self._lock:
            watches = list(self._watches.values())
        for watch in watches:
            if watch.observer is None:
                broken = deep  # unreachable so far: try again
            else:
                # inotify stays silent when a drive is unmounted under a watch; only the
                # folder's (device, inode) shows it. Polled roots may sit on a hung share.
                broken = not watch.alive() or (
                    deep and watch.mode is WatchMode.NATIVE
                    and _identity(watch.folder) != watch.identity)
            if broken:
                self._revive(watch)

    def _revive(self, watch: _Watch) -> None:
        """Re-watch `watch`'s root by polling, and report the root as changed."""
        if not self._admin.acquire(blocking=False):
            return  # watch() or unwatch() is busy; the next tick will look again
        try:
            if not watch.active:
                return
            kind = "file" if watch.only is not None else "folder"
            was_reachable = watch.observer is not None
            if watch.observer is not None:
                _halt(watch.observer)
                watch.observer = None
            watch.mode = WatchMode.POLLING
            try:
                self._schedule(watch, native=False)
            except OSError:
                if was_reachable:
                    log.warning("a watched %s became unreachable; retrying every %gs",
                                kind, self._poll_interval)
                    self._record(watch, [watch.root])
                return
            log.info("a watched %s is polled from now on", kind)
            self._record(watch, [watch.root])
        finally:
            self._admin.release()
