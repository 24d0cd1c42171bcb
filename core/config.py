"""Where Reverie keeps its data, and the typed settings it reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Reverie"
DATA_DIR_ENV = "REVERIE_DATA_DIR"
CONFIG_DIR_ENV = "REVERIE_CONFIG_DIR"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: `--data-dir`, else `$REVERIE_DATA_DIR`, else the platform's."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_config_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where this machine's choices live (the models added and chosen): `explicit`,
    else `$REVERIE_CONFIG_DIR`, else the platform's user config folder.

    Apart from the data directory on purpose: a model file belongs to the machine,
    and a throwaway demo store or a restored backup keeps the user's models.
    """
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(CONFIG_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Engine settings; the desktop app adapts these to its settings screen."""

    # Retrieval, tuned on the LoCoMo dev split (docs/benchmarks.md shows what each buys).
    rrf_k: int = 10  # trusts the top of each list; 60 let the weaker list drown BM25's best
    candidates_per_list: int = 50
    context_weight: float = 0.6  # BM25 weight of the turn before an episode
    context_share: float = 0.4  # share of the previous turn's vector similarity
    memory_list_weight: float = 0.4  # memories mostly restate turns: a lighter vote
    person_boost: float = 1.0  # hits by or about a person the query names score x2
    period_boost: float = 1.0  # hits in a period the query names score x2
    period_slack_days: float = 3.0
    superseded_factor: float = 0.5
    archived_factor: float = 0.3
    recency_boost: float = 0.1  # at most +10 %, halving every half-life
    recency_half_life_days: float = 180.0
    chat_memories: int = 6
    # A question is answered only when a retrieved item holds this share of its content
    # words; below it Reverie says it does not remember (measured in docs/retrieval.md).
    chat_min_support: float = 0.3
    chat_max_tokens: int = 256
    extraction_max_memories_per_turn: int = 3
    extraction_context_turns: int = 1  # earlier turns shown with each message, as context
    extraction_rules: bool = True  # also propose the message's own first-person clauses
    max_file_bytes: int = 256 * 1024 * 1024  # larger files are skipped, with the reason
