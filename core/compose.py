"""The composition root: builds the services in a fixed, logged order."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from reverie.core.config import Settings, resolve_config_dir, resolve_data_dir
from reverie.core.errors import ModelError
from reverie.core.service import Reverie
from reverie.core.store.keys import Unlocker, default_unlocker
from reverie.core.store.store import Store
from reverie.models.base import LLM, Embedder, RoleModels

if TYPE_CHECKING:
    from reverie.models.registry import ModelRegistry

log = logging.getLogger("reverie.compose")


def open_reverie(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    llm: LLM | RoleModels | None = None,
    embedder: Embedder | None = None,
    settings: Settings | None = None,
    unlocker: Unlocker | None = None,
    index_in_background: bool = False,
) -> Reverie:
    """Open Reverie on a data directory with the given models, or else those the
    model registry (`reverie models`) chose for each role.

    The ledger's key comes from `unlocker` (default: the OS keyring, else a passphrase
    from `$REVERIE_PASSPHRASE`). Order: data directory → embedder → store (lock, key,
    ledger, index, reconcile) → LLM
    (loaded lazily on first use) → facade. `Reverie.close` undoes it in reverse.
    """
    directory = resolve_data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    log.info("data directory: %s", directory)
    registry = None
    if embedder is None:
        from reverie.models.registry import ModelRegistry
        from reverie.models.roles import embedder_for

        registry = ModelRegistry(resolve_config_dir())
        embedder = embedder_for(registry.embedder())
    store = Store(directory, embedder.name, unlocker or default_unlocker(),
                  index_in_background=index_in_background)
    try:
        if store.embedding_model != embedder.name:
            # The store's index is another model's: search with that one until a
            # re-embedding (reverie reembed, or the app) moves it to the chosen one.
            embedder = _store_embedder(store.embedding_model, registry, embedder)
        if llm is None:
            from reverie.models.registry import ModelRegistry
            from reverie.models.roles import role_models

            llm = role_models(registry or ModelRegistry(resolve_config_dir()))
    except BaseException:
        store.close()
        raise
    return Reverie(store, llm, embedder, settings or Settings())


def _store_embedder(name: str, registry: ModelRegistry | None, given: Embedder) -> Embedder:
    if registry is None:
        raise ModelError(
            f"This store's search index was made by the embedding model {name!r}, not by "
            f"{given.name!r}: open it with that model, or re-embed it (reverie reembed)"
        )
    from reverie.models.roles import embedder_named

    log.info("the store searches with %s; %s is chosen", name, given.name)
    return embedder_named(registry, name)
