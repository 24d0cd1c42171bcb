"""The compute devices llama.cpp sees, with their free memory.

Read through ggml's device registry, the same one llama.cpp places layers with: a
CPU build lists the CPU alone; a CUDA, Metal or Vulkan build adds one entry per GPU.
The functions are C symbols of the ggml library that llama-cpp-python loads; its
Python bindings do not wrap them, so they are declared here with ctypes.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["Device", "gpu_devices", "list_devices"]

log = logging.getLogger("reverie.models.devices")

# enum ggml_backend_dev_type, in ggml-backend.h's order.
_KINDS = ("cpu", "gpu", "igpu", "accel", "meta")


@dataclass(frozen=True)
class Device:
    """One device ggml can compute on."""

    name: str
    """ggml's short name, e.g. "CPU", "CUDA0", "Vulkan0", "Metal"."""
    description: str
    """What the driver calls it, e.g. "NVIDIA GeForce RTX 3060"."""
    kind: str
    """"cpu", "gpu" (own memory), "igpu" (shares the host's), "accel" or "meta"."""
    free_bytes: int
    total_bytes: int

    @property
    def takes_layers(self) -> bool:
        """Whether llama.cpp offloads model layers to it (GPUs, integrated or not)."""
        return self.kind in ("gpu", "igpu")


def list_devices() -> list[Device]:
    """Every device of the installed llama.cpp, with its free memory now.

    Empty when llama_cpp cannot be loaded at all (the doctor reports that itself).
    """
    library = _ggml()
    if library is None:
        return []
    devices = []
    for index in range(library.ggml_backend_dev_count()):
        handle = library.ggml_backend_dev_get(index)
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        library.ggml_backend_dev_memory(handle, ctypes.byref(free), ctypes.byref(total))
        kind = library.ggml_backend_dev_type(handle)
        devices.append(Device(
            name=_text(library.ggml_backend_dev_name(handle)),
            description=_text(library.ggml_backend_dev_description(handle)),
            kind=_KINDS[kind] if 0 <= kind < len(_KINDS) else f"type {kind}",
            free_bytes=free.value, total_bytes=total.value,
        ))
    return devices


def gpu_devices() -> list[Device]:
    """The devices that take offloaded layers, most free memory first."""
    return sorted((d for d in list_devices() if d.takes_layers),
                  key=lambda d: d.free_bytes, reverse=True)


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", errors="replace") if value else ""


@functools.cache
def _ggml() -> Any:
    try:
        from llama_cpp import llama_cpp  # a native library: loaded only when asked
    except (ImportError, OSError, RuntimeError) as error:
        log.warning("llama_cpp is not usable, so no devices are listed: %s", error)
        return None
    # dlsym on libllama's handle also searches the libraries it links (libggml).
    library = llama_cpp._lib
    pointer, size = ctypes.c_void_p, ctypes.c_size_t
    library.ggml_backend_dev_count.argtypes, library.ggml_backend_dev_count.restype = [], size
    library.ggml_backend_dev_get.argtypes, library.ggml_backend_dev_get.restype = [size], pointer
    for function in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(library, function).argtypes = [pointer]
        getattr(library, function).restype = ctypes.c_char_p
    library.ggml_backend_dev_type.argtypes = [pointer]
    library.ggml_backend_dev_type.restype = ctypes.c_int
    library.ggml_backend_dev_memory.argtypes = [
        pointer, ctypes.POINTER(size), ctypes.POINTER(size)
    ]
    library.ggml_backend_dev_memory.restype = None
    return library
