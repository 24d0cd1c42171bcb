"""Which files under a watched folder Reverie looks at, found without trusting the disk.

Patterns are shell globs matched against each part of the path below the watched
folder (so `node_modules` skips that folder at any depth) and against the whole relative
path (so `notes/private/*` works). Hidden files, version-control folders, dependency
folders and editors' temporary files are skipped by default; the user's "never
remember" patterns apply everywhere, before anything is read.

The walk follows symbolic links to folders, because people link their notes in, but
remembers every real folder it entered: a link back to an ancestor is reported as a
loop and not followed again.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".*", "node_modules", "__pycache__", "*.pyc", "venv", "*~", "*.swp", "*.swx", "*.tmp",
    "*.part", "*.crdownload", "~$*", "#*#", "Thumbs.db",
)


@dataclass(frozen=True)
class PathFilter:
    """Include and exclude patterns for one watched source, plus the global never-list."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    never: tuple[str, ...] = ()

    def allows(self, relative: PurePath, *, is_folder: bool = False) -> bool:
        """True when the path (relative to the watched root) is to be looked at."""
        parts = relative.parts
        text = relative.as_posix()
        for pattern in (*self.exclude, *self.never):
            if _matches(pattern, parts, text):
                return False
        if is_folder or not self.include:
            return True
        return any(_matches(pattern, parts[-1:], text) for pattern in self.include)

    def never_remember(self, relative: PurePath) -> bool:
        """True when the user's never-remember list covers the path."""
        return any(_matches(p, relative.parts, relative.as_posix()) for p in self.never)


def _matches(pattern: str, parts: Sequence[str], text: str) -> bool:
    if "/" in pattern:
        return fnmatch.fnmatchcase(text, pattern.strip("/"))
    return any(fnmatch.fnmatchcase(part, pattern) for part in parts)


@dataclass(frozen=True)
class Found:
    """A file the walk found."""

    path: Path


@dataclass(frozen=True)
class Trouble:
    """Something under the root that could not be walked, and why."""

    path: Path
    reason: str


def walk(root: Path, rules: PathFilter) -> Iterator[Found | Trouble]:
    """Every allowed file under `root` (or `root` itself if it is a file), in name order."""
    if not root.is_dir():
        yield Found(root)
        return
    seen: set[tuple[int, int]] = set()
    yield from _walk_folder(root, root, rules, seen)


def _walk_folder(
    root: Path, folder: Path, rules: PathFilter, seen: set[tuple[int, int]]
) -> Iterator[Found | Trouble]:
    try:
        info = folder.stat()
        identity = (info.st_dev, info.st_ino)
        if identity in seen:
            yield Trouble(folder, "a symbolic link loop; not followed again")
            return
        seen.add(identity)
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except PermissionError:
        yield Trouble(folder, "permission denied")
        return
    except OSError as exc:
        yield Trouble(folder, f"could not be listed ({exc.strerror or type(exc).__name__})")
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_folder = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_folder = False
        if not rules.allows(path.relative_to(root), is_folder=is_folder):
            continue
        if is_folder:
            yield from _walk_folder(root, path, rules, seen)
        else:
            yield Found(path)
