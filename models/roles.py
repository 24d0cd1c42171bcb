"""Building the language models each role was given in the registry."""

from __future__ import annotations

from pathlib import Path

from reverie.core.errors import ModelError
from reverie.models import devices, hardware
from reverie.models.base import Embedder, RoleModels
from reverie.models.embedder import MINILM_NAME, default_embedder
from reverie.models.gguf import read_gguf
from reverie.models.gguf_embedder import GgufEmbedder
from reverie.models.llm import DEFAULT_CONTEXT, LlamaCppLLM, default_llm
from reverie.models.placement import Placement, plan_placement
from reverie.models.registry import ModelEntry, ModelRegistry

__all__ = ["embedder_for", "embedder_name", "embedder_named", "plan_for", "role_models"]


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


def embedder_for(entry: ModelEntry | None) -> Embedder:
    """The embedder of `entry` (a GGUF model), or the bundled MiniLM for None."""
    if entry is None:
        return default_embedder()
    return GgufEmbedder(entry.path, name=embedder_name(entry))


def embedder_name(entry: ModelEntry | None) -> str:
    """The name the vectors of `entry`'s embedder are stored under (None: MiniLM's)."""
    return MINILM_NAME if entry is None else Path(entry.path).stem


def embedder_named(registry: ModelRegistry, name: str) -> Embedder:
    """The embedder whose vectors are called `name`: the bundled MiniLM or an added
    GGUF model. `ModelError` when no model this machine has makes them."""
    if name == MINILM_NAME:
        return default_embedder()
    for entry in registry.entries():
        if embedder_name(entry) == name and entry.problem is None:
            return GgufEmbedder(entry.path, name=name)
    raise ModelError(
        f"This store's search index was made by the embedding model {name!r}, which is "
        "not among this machine's models (reverie models): add it back, or choose an "
        "embedder and run reverie reembed"
    )
