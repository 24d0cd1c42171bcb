"""llama.cpp's own log lines, routed into Python logging and kept for error messages.

llama-cpp-python 0.3.36 maps ggml's log levels with an outdated table: llama.cpp's
errors arrive as level 4, which it treats as DEBUG and drops when `verbose=False`.
A failed load then says only "Failed to load model from file", while llama.cpp said
why ("data is not within the file bounds, model is corrupted or incomplete"). We
install our own callback so those lines reach the `reverie.models.llama_cpp` logger
and, during a load, the `ModelError` the user sees.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from reverie.core.errors import ModelError
from reverie.core.native_imports import native_import

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger("reverie.models.llama_cpp")

# enum ggml_log_level as of the llama.cpp vendored in 0.3.36.
_GGML_DEBUG, _GGML_INFO, _GGML_WARN, _GGML_ERROR, _GGML_CONT = 1, 2, 3, 4, 5
_LEVELS = {
    _GGML_DEBUG: logging.DEBUG,
    _GGML_INFO: logging.DEBUG,  # a load prints ~150 INFO lines of model metadata
    _GGML_WARN: logging.WARNING,
    _GGML_ERROR: logging.ERROR,
}

# Warnings that say nothing is wrong: Gemma 3's sliding-window cache at full size (what
# llama-cpp-python asks for), a vocabulary-only load having no trained context, and a
# decoder used as an embedder having no pooling of its own (we ask for the mean).
_HARMLESS = ("using full-size SWA cache", "> n_ctx_train (0)", "model default pooling_type is")

_local = threading.local()
_install_lock = threading.Lock()
# The ctypes callback object must outlive every call llama.cpp makes through it.
_callback: Any = None


def _on_log(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    python_level = _LEVELS.get(level, logging.DEBUG)
    if level == _GGML_CONT:
        python_level = getattr(_local, "last_level", logging.DEBUG)
    _local.last_level = python_level
    if python_level < logging.WARNING and not log.isEnabledFor(python_level):
        return  # thousands of debug lines per load: skip the decoding
    line = text.decode("utf-8", errors="replace").rstrip()
    if not line:
        return
    if python_level == logging.WARNING and any(marker in line for marker in _HARMLESS):
        python_level = logging.INFO
    captured: list[str] | None = getattr(_local, "captured", None)
    if captured is not None and python_level >= logging.WARNING:
        captured.append(line)
    log.log(python_level, "%s", line)


def install() -> None:
    """Route llama.cpp's log output to Python logging (idempotent).

    Must run after `llama_cpp` is imported: its import installs its own callback.
    """
    global _callback  # noqa: PLW0603 - one process-wide native hook
    with _install_lock:
        if _callback is not None:
            return
        import llama_cpp  # callers have imported it already: this costs nothing

        _callback = llama_cpp.llama_log_callback(_on_log)
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


@contextlib.contextmanager
def capture_problems() -> Iterator[list[str]]:
    """Collect the warning and error lines llama.cpp logs on this thread meanwhile."""
    previous: list[str] | None = getattr(_local, "captured", None)
    lines: list[str] = []
    _local.captured = lines
    try:
        yield lines
    finally:
        _local.captured = previous


def import_llama() -> None:
    """Import llama-cpp-python (a native library, loaded on demand; its grammar module
    comes with it); `ModelError` when it cannot be loaded."""
    try:
        with native_import():
            import llama_cpp  # noqa: F401
    except (ImportError, OSError, RuntimeError) as error:
        raise ModelError(f"The llama-cpp runtime cannot be loaded: {error}") from error


def open_llama(failure: str, **options: Any) -> Llama:
    """`llama_cpp.Llama(**options)` with llama.cpp's log routed here; a failure is a
    `ModelError` saying `failure` and what llama.cpp logged about it.

    `llama_cpp.Llama` is looked up at each call (tests stand in for it there).
    """
    import_llama()
    import llama_cpp  # imported just now: this costs nothing

    install()
    with capture_problems() as problems:
        try:
            llama: Llama = llama_cpp.Llama(**options)
        except (ValueError, RuntimeError, OSError) as error:
            detail = "; ".join(problems[-3:]) or str(error)
            raise ModelError(f"{failure}: {detail}") from error
    return llama
