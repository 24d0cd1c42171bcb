"""Parse risky formats in a child process, so a hostile file cannot take Reverie down.

PDF and Word files are archives of compressed streams written by anything; a crafted
one can make a parser loop, balloon in memory or crash native code. Here such a parse
runs in one long-lived child process (spawned, never forked: the app has threads) with
a memory ceiling and a time limit. A child that dies or overruns is killed, the file
gets a reason, and the next file gets a fresh child.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from reverie.core.capture.formats import Format
from reverie.core.capture.parsed import ParseContext, ParsedSource, UnreadableFile

log = logging.getLogger("reverie.capture")

TIMEOUT_SECONDS = 60.0
MEMORY_LIMIT_BYTES = 2 * 1024**3


class IsolatedParser:
    """A child process that parses one file at a time; thread-safe, restarted on failure."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS,
                 memory_limit: int = MEMORY_LIMIT_BYTES) -> None:
        self._timeout = timeout
        self._memory_limit = memory_limit
        self._lock = threading.Lock()
        self._child: BaseProcess | None = None
        self._conn: Connection | None = None

    def parse(self, fmt: Format, raw: bytes, context: ParseContext) -> list[ParsedSource]:
        """Parse in the child; `UnreadableFile` on a parser error, crash or overrun."""
        return self.call(f"{fmt.parse.__module__}:{fmt.parse.__qualname__}", raw, context)

    def call(self, target: str, raw: bytes, context: ParseContext) -> list[ParsedSource]:
        """Run the parse function named `module:function` in the child."""
        with self._lock:
            conn = self._ensure_child()
            try:
                conn.send((target, raw, context))
                if not conn.poll(self._timeout):
                    self._stop_child()
                    raise UnreadableFile(context.path, f"its parser ran longer than "
                                         f"{self._timeout:.0f} s; skipped")
                outcome, value = conn.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
                code = self._stop_child()
                raise UnreadableFile(context.path, f"its parser crashed (exit code {code}); "
                                     "skipped") from None
        if outcome == "ok":
            return list(value)
        raise UnreadableFile(context.path, str(value))

    def _ensure_child(self) -> Connection:
        if self._child is not None and self._child.is_alive() and self._conn is not None:
            return self._conn
        self._stop_child()
        spawn = multiprocessing.get_context("spawn")
        parent, child = spawn.Pipe()
        process = spawn.Process(target=_serve, args=(child, self._memory_limit),
                                name="reverie-parser", daemon=True)
        process.start()
        child.close()
        self._child, self._conn = process, parent
        return parent

    def _stop_child(self) -> int | None:
        child, conn = self._child, self._conn
        self._child = self._conn = None
        if conn is not None:
            conn.close()
        if child is None:
            return None
        if child.is_alive():
            child.kill()
        child.join(5)
        return child.exitcode

    def close(self) -> None:
        """Stop the child process; safe to call twice."""
        with self._lock:
            self._stop_child()


def _serve(conn: Connection, memory_limit: int) -> None:
    """The child's loop: parse what arrives until the pipe closes."""
    _limit_memory(memory_limit)
    while True:
        try:
            target, raw, context = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_run(target, raw, context))


def _run(target: str, raw: bytes, context: ParseContext) -> tuple[str, Any]:
    module_name, _, function_name = target.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        return "ok", function(raw, context)
    except UnreadableFile as exc:
        return "error", exc.reason
    except MemoryError:
        return "error", "its parser ran out of memory (a damaged or hostile file?)"
    except RecursionError:
        return "error", "its structure nests too deeply to read (damaged or hostile?)"
    except Exception as exc:  # hostile input may break a parser anywhere: report, go on
        return "error", f"could not be parsed ({type(exc).__name__})"


def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the time limit still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
