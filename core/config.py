"""Where Reverie keeps its data, and the typed settings it reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Reverie"
DATA_DIR_ENV = "REVERIE_DATA_DIR"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: `--data-dir`, else `$REVERIE_DATA_DIR`, else the platform's."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Engine settings; the desktop app adapts these to its settings screen."""

    rrf_k: int = 60
    candidates_per_list: int = 50
    chat_memories: int = 6
    chat_max_tokens: int = 256
    extraction_max_memories_per_turn: int = 3
    extraction_context_turns: int = 1  # earlier turns shown with each message, as context
    extraction_rules: bool = True  # also propose the message's own first-person clauses
    max_file_bytes: int = 256 * 1024 * 1024  # larger files are skipped, with the reason
