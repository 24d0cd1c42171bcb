"""What this machine offers the models: GPU offload, processors, memory."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

__all__ = [
    "cpu_count",
    "gpu_offload_supported",
    "llm_threads",
    "ram_available_bytes",
    "ram_total_bytes",
]

log = logging.getLogger("reverie.models.hardware")

_MEMINFO = Path("/proc/meminfo")


@functools.cache
def gpu_offload_supported() -> bool:
    """Whether the installed llama-cpp-python can offload layers to a GPU.

    False when llama_cpp cannot be imported at all (missing, or its shared library
    fails to load), so callers can always ask. The answer is fixed for the process.
    """
    try:
        import llama_cpp  # a native library: loaded only when asked
    except (ImportError, OSError, RuntimeError) as error:
        # llama_cpp raises RuntimeError when its shared library cannot be loaded.
        log.warning("llama_cpp is not usable, assuming no GPU offload: %s", error)
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def cpu_count() -> int:
    """How many processors this process may run on (at least 1).

    Uses the scheduler's affinity mask where there is one, so a container or a
    `taskset` limit is respected; `os.cpu_count()` counts every processor of the host.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        # sched_getaffinity does not exist on macOS and Windows.
        return max(1, os.cpu_count() or 1)


def llm_threads() -> int:
    """How many threads llama.cpp should use: every processor but one (at least 1).

    llama.cpp's worker threads wait for each other by spinning. When one of them
    loses its processor to another busy process (our own embedder, the UI, a
    browser), every token waits for it: on 2 cores with one other busy process we
    measured 3 tokens/s with 2 threads against 65 with 1. Leaving one processor
    free costs little when the machine is idle and avoids that collapse.
    """
    return max(1, cpu_count() - 1)


def _meminfo_bytes(field: str) -> int | None:
    try:
        text = _MEMINFO.read_text(encoding="ascii")
    except OSError:
        # Not Linux (or /proc not mounted): we do not guess.
        return None
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name == field:
            parts = rest.split()
            if parts and parts[0].isdigit():
                unit = parts[1].lower() if len(parts) > 1 else ""
                return int(parts[0]) * (1024 if unit == "kb" else 1)
    return None


def ram_total_bytes() -> int | None:
    """The machine's physical memory in bytes, or None where it is not known."""
    return _meminfo_bytes("MemTotal")


def ram_available_bytes() -> int | None:
    """Memory available to new work without swapping, in bytes, or None if unknown."""
    return _meminfo_bytes("MemAvailable")
