"""Building the language models each role was given in the registry."""

from __future__ import annotations

from reverie.models import devices, hardware
from reverie.models.base import RoleModels
from reverie.models.gguf import read_gguf
from reverie.models.llm import DEFAULT_CONTEXT, LlamaCppLLM, default_llm
from reverie.models.placement import Placement, plan_placement
from reverie.models.registry import ModelEntry, ModelRegistry

__all__ = ["plan_for", "role_models"]


def role_models(registry: ModelRegistry, *, n_ctx: int = DEFAULT_CONTEXT) -> RoleModels:
    """The chosen model of each role, one `LlamaCppLLM` per distinct file, not loaded.

    The bundled model is verified against its digest here (`ModelError` when it is
    damaged); a user's model is checked when it first loads, so that a missing file
    stops only the work that needs it, with the reason.
    """
    built: dict[str, LlamaCppLLM] = {}

    def build(entry: ModelEntry) -> LlamaCppLLM:
        if entry.id not in built:
            if entry.bundled:
                built[entry.id] = default_llm(n_ctx=n_ctx, gpu_layers=entry.gpu_layers)
            else:
                built[entry.id] = LlamaCppLLM(entry.path, n_ctx=n_ctx,
                                              gpu_layers=entry.gpu_layers)
        return built[entry.id]

    return RoleModels(
        chat=build(registry.model_for("chat")),
        extraction=build(registry.model_for("extraction")),
        consolidation=build(registry.model_for("consolidation")),
    )


def plan_for(entry: ModelEntry, *, n_ctx: int = DEFAULT_CONTEXT) -> Placement:
    """Where `entry` would go if it loaded now, and the memory it would need.

    Reads the header and asks llama.cpp for its devices' free memory; `ModelError`
    when the file is unreadable.
    """
    info = read_gguf(entry.path)
    context = min(n_ctx, info.context_length or n_ctx)
    return plan_placement(info, context, devices.list_devices(),
                          offload_supported=hardware.gpu_offload_supported(),
                          requested=entry.gpu_layers)
