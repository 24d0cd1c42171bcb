"""How much of a model goes to the GPU, and whether the machine can hold it at all.

The arithmetic works from the GGUF header alone (`GgufInfo`), before llama.cpp opens
the file: the repeating layers' weights and their key/value cache move to the GPU one
layer at a time, the output layer only with all of them, and the rest (the token
embeddings, the runtime's own buffers) stays in RAM. The host overhead was measured
(docs/models.md): resident memory after a load and a short generation, minus the
file and the KV cache, was 38 MiB for SmolLM2 (49k vocabulary) and 81 MiB for
Gemma 3 270M (262k) at 2k, 4k and 8k context.
"""

from __future__ import annotations

from dataclasses import dataclass

from reverie.core.errors import ModelError
from reverie.models.devices import Device
from reverie.models.gguf import GgufInfo

__all__ = [
    "GPU_RESERVE_BYTES",
    "GPU_RESERVE_SHARE",
    "Placement",
    "check_memory",
    "fallback_layers",
    "host_overhead_bytes",
    "plan_placement",
]

MIB = 1024 * 1024
GIB = 1024 * MIB
HOST_OVERHEAD_BYTES = 28 * MIB
HOST_BYTES_PER_TOKEN_TYPE = 212  # the vocabulary's strings and maps, measured
GPU_RESERVE_BYTES = 300 * MIB
"""Left free on the GPU for the driver and llama.cpp's compute buffers."""
GPU_RESERVE_SHARE = 0.1
"""And a tenth of the free memory on top: other programs draw on the GPU too."""
MEMORY_MARGIN = 1.1
"""The check before loading wants this much more than the estimate free: the overhead
was fitted on two small models, and a bigger one's compute buffers grow with its
width, which the estimate does not model."""
FALLBACK_TRIES = 3
"""Loads tried with fewer layers (halving each time) before the CPU alone."""


@dataclass(frozen=True)
class Placement:
    """Where a model's layers go, and the memory that needs."""

    gpu_layers: int
    """Passed to llama.cpp as n_gpu_layers: 0 is the CPU alone; `offloadable` is all."""
    offloadable: int
    """The layers that can move: the repeating layers plus the output layer."""
    device: str | None
    """The GPU the layers go to, or None."""
    vram_bytes: int
    """Estimated need on the GPU."""
    ram_bytes: int
    """Estimated need in RAM."""
    reason: str
    """Why this many layers, in words for `reverie doctor` and the settings screen."""

    @property
    def on_gpu(self) -> bool:
        """Whether any layer is offloaded."""
        return self.gpu_layers > 0

    def summary(self) -> str:
        """The memory needed and why the layers go where they go, in one line."""
        gpu = f", GPU {self.vram_bytes / GIB:.1f} GiB" if self.on_gpu else ""
        return f"RAM {self.ram_bytes / GIB:.2f} GiB{gpu}: {self.reason}"


def host_overhead_bytes(info: GgufInfo) -> int:
    """RAM llama.cpp needs beyond the weights and the KV cache."""
    return HOST_OVERHEAD_BYTES + HOST_BYTES_PER_TOKEN_TYPE * (info.vocab_size or 0)


def plan_placement(
    info: GgufInfo,
    n_ctx: int,
    devices: list[Device],
    *,
    offload_supported: bool,
    requested: int | None = None,
) -> Placement:
    """Choose how many layers to offload to the GPU with the most free memory.

    `requested` is the user's override (None: choose automatically; a negative value:
    every layer). The automatic choice is every layer when they fit in the device's
    free memory less a reserve, else as many repeating layers as fit, else none.
    """
    layers = info.layers or 0
    offloadable = layers + 1
    gpus = sorted((d for d in devices if d.takes_layers), key=lambda d: d.free_bytes,
                  reverse=True)
    if not offload_supported or not gpus or layers == 0:
        why = ("this llama-cpp build has no GPU support" if not offload_supported
               else "no GPU was found" if not gpus
               else "the header does not say how many layers the model has")
        return _placed(info, n_ctx, 0, None, f"CPU only: {why}")
    gpu = gpus[0]
    per_layer = _layer_vram_bytes(info, n_ctx)
    budget = int(gpu.free_bytes * (1 - GPU_RESERVE_SHARE)) - GPU_RESERVE_BYTES
    fitting = _layers_fitting(info, per_layer, budget)
    free = f"{gpu.free_bytes / GIB:.1f} GiB free on {gpu.description or gpu.name}"
    if requested is not None:
        chosen = offloadable if requested < 0 else min(requested, offloadable)
        warning = "" if chosen <= fitting else f"; only {fitting} are estimated to fit"
        reason = f"{chosen} of {offloadable} layers, as set{warning} ({free})"
        return _placed(info, n_ctx, chosen, gpu, reason)
    if fitting == offloadable:
        reason = f"all {offloadable} layers fit ({free})"
    elif fitting == 0:
        reason = f"not one layer fits ({free}); CPU only"
    else:
        reason = f"{fitting} of {offloadable} layers fit ({free})"
    return _placed(info, n_ctx, fitting, gpu if fitting else None, reason)


def fallback_layers(first: int) -> list[int]:
    """The layer counts to try, in order, when a load with `first` fails: fewer
    each time (halving), then the CPU alone."""
    tries = [first]
    while len(tries) <= FALLBACK_TRIES and tries[-1] > 1:
        tries.append(tries[-1] // 2)
    return [*dict.fromkeys([*tries, 0])]


def check_memory(placement: Placement, available_bytes: int | None, what: str) -> None:
    """Raise `ModelError` when `placement` needs more RAM than is available (with
    MEMORY_MARGIN to spare). Unknown availability (not Linux) passes: we do not guess.
    """
    if available_bytes is None or placement.ram_bytes * MEMORY_MARGIN <= available_bytes:
        return
    raise ModelError(
        f"{what} needs about {placement.ram_bytes / GIB:.1f} GiB of memory and "
        f"{available_bytes / GIB:.1f} GiB is available: close other programs, or choose "
        "a smaller model (reverie models use)."
    )


def _layer_vram_bytes(info: GgufInfo, n_ctx: int) -> int:
    return info.bytes_per_layer + info.kv_bytes_per_token_and_layer * n_ctx


def _layers_fitting(info: GgufInfo, per_layer: int, budget: int) -> int:
    layers = info.layers or 0
    if budget <= 0 or per_layer <= 0:
        return 0
    if layers * per_layer + info.output_bytes <= budget:
        return layers + 1
    return min(layers, budget // per_layer)


def _placed(info: GgufInfo, n_ctx: int, gpu_layers: int, gpu: Device | None,
            reason: str) -> Placement:
    layers = info.layers or 0
    repeating = min(gpu_layers, layers)
    vram = repeating * _layer_vram_bytes(info, n_ctx)
    if gpu_layers > layers:
        vram += info.output_bytes
    kv_total = info.kv_cache_bytes(n_ctx) or 0
    ram = info.file_bytes + kv_total + host_overhead_bytes(info)
    if gpu is not None and gpu.kind == "gpu":
        # Layers on a GPU with memory of its own leave the host's memory (the output
        # layer may be a copy of the embeddings, which stay: it is not counted).
        ram -= repeating * _layer_vram_bytes(info, n_ctx)
    return Placement(
        gpu_layers=gpu_layers, offloadable=layers + 1,
        device=gpu.name if gpu is not None and gpu_layers else None,
        vram_bytes=vram if gpu is not None else 0, ram_bytes=ram, reason=reason,
    )
