"""Heavy native libraries (Chroma, llama.cpp, ONNX Runtime) imported one at a time.

The app opens its vector index, loads its chat model and its embedder on different
threads, and each of those first imports a large package that loads native code. Two
such imports running at once crashed the interpreter in the garbage collector (seen
once in about twenty starts of the app, a segmentation fault while one thread imported
`chromadb` and another `llama_cpp`), so every such import takes this one lock, and the
cyclic garbage collector waits until it is done (the crash was in a collection that ran
during an import, while native modules were half set up). Once a package is imported,
importing it again is a dictionary lookup and the lock costs nothing that matters.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_ONE_AT_A_TIME = threading.RLock()  # re-entrant: one package may import another


@contextmanager
def native_import() -> Iterator[None]:
    """Hold the process-wide lock, with no automatic garbage collection anywhere in the
    process, while importing a heavy native package."""
    with _ONE_AT_A_TIME:
        collecting = gc.isenabled()  # False inside a nested import: the outer one owns it
        if collecting:
            gc.disable()
        try:
            yield
        finally:
            if collecting:
                gc.enable()
