"""The Models screen's work, as functions run inside jobs (never on the main thread).

Reading the list reads each file's header (a fraction of a second each) and asks
llama.cpp for the devices; adding a file has llama.cpp open its vocabulary; choosing a
language model switches the facade's jobs to it at once; choosing an embedder starts
a re-embedding (`Lane.EMBED`), which also resumes by itself when the app opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reverie.core.errors import ModelError
from reverie.core.reembed import ReembedReport
from reverie.core.service import Reverie
from reverie.desktop.jobs import JobContext
from reverie.models import hardware
from reverie.models.placement import GIB
from reverie.models.registry import EMBEDDER, MINILM_ID, ModelEntry, ModelRegistry
from reverie.models.roles import embedder_for, embedder_name, plan_for, role_models


@dataclass(frozen=True)
class ModelRow:
    """One model as the screen lists it."""

    entry: ModelEntry
    memory: str
    """RAM (and GPU) needed and where the layers go, or the file's problem."""
    problem: bool


@dataclass(frozen=True)
class ModelsSnapshot:
    """The models, the choices, and the store's embedding state, read at one moment."""

    rows: tuple[ModelRow, ...]
    roles: dict[str, str]
    embedder: str
    """The chosen embedder's id (MINILM_ID for the bundled one)."""
    searching_with: str
    """The model whose vectors search uses now."""
    pending: str | None
    """The model an unfinished re-embedding moves to."""
    ram_available: str


def read_models(registry: ModelRegistry) -> Callable[[Reverie, JobContext], ModelsSnapshot]:
    """A job reading what the Models screen shows."""

    def work(facade: Reverie, _ctx: JobContext) -> ModelsSnapshot:
        rows = tuple(_row(entry) for entry in registry.entries())
        chosen = registry.embedder()
        available = hardware.ram_available_bytes()
        return ModelsSnapshot(
            rows=rows, roles=registry.roles(),
            embedder=chosen.id if chosen else MINILM_ID,
            searching_with=facade.store.embedding_model, pending=facade.reembed_pending(),
            ram_available=f"{available / GIB:.1f} GiB" if available is not None else "unknown",
        )

    return work


def _row(entry: ModelEntry) -> ModelRow:
    problem = entry.problem
    if problem is not None:
        return ModelRow(entry, problem, True)
    try:
        plan = plan_for(entry)
    except ModelError as error:
        return ModelRow(entry, str(error), True)
    return ModelRow(entry, plan.summary(), False)


def add_model(registry: ModelRegistry, path: str) -> Callable[[Reverie, JobContext], str]:
    """A job adding a GGUF file (checked first); its result is the new model's id."""

    def work(_facade: Reverie, _ctx: JobContext) -> str:
        entry, _info = registry.add(Path(path))
        return entry.id

    return work


def choose(registry: ModelRegistry, role: str,
           model_id: str) -> Callable[[Reverie, JobContext], str]:
    """A job choosing `model_id` for `role`; a language model takes over at once."""

    def work(facade: Reverie, _ctx: JobContext) -> str:
        registry.use(role, model_id)
        if role == EMBEDDER:
            return f"{model_id} will embed your memories"
        for dropped in facade.use_models(role_models(registry)):
            close = getattr(dropped, "close", None)
            if callable(close):
                close()  # waits for a generation still running on it
        return f"{model_id} now does the {role}"

    return work


def remove_model(registry: ModelRegistry, model_id: str) -> Callable[[Reverie, JobContext], str]:
    """A job forgetting an added model (its file stays); its jobs go back to the bundled."""

    def work(facade: Reverie, _ctx: JobContext) -> str:
        freed = registry.remove(model_id)
        if any(role != EMBEDDER for role in freed):
            facade.use_models(role_models(registry))
        return f"removed {model_id}; its file was not touched"

    return work


def needs_reembedding(facade: Reverie, registry: ModelRegistry) -> bool:
    """Whether the store's vectors are not the chosen embedder's, or a run is unfinished."""
    name = embedder_name(registry.embedder())
    return facade.store.embedding_model != name or facade.reembed_pending() is not None


def reembed(registry: ModelRegistry) -> Callable[[Reverie, JobContext], ReembedReport | None]:
    """A job embedding everything again with the chosen embedder (resumable); None
    when the store's vectors are already the chosen embedder's."""

    def work(facade: Reverie, ctx: JobContext) -> ReembedReport | None:
        if not needs_reembedding(facade, registry):
            return None
        target = embedder_for(registry.embedder())
        return facade.reembed(target, progress=ctx.progress, cancel=ctx.cancel)

    return work
