"""Where Reverie keeps its data, and the typed settings it reads."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from reverie.core.errors import BadInput

APP_NAME = "Reverie"
DATA_DIR_ENV = "REVERIE_DATA_DIR"
CONFIG_DIR_ENV = "REVERIE_CONFIG_DIR"
SETTINGS_FILE = "settings.json"  # the app's choices, in the config dir (never a secret)

log = logging.getLogger("reverie.config")


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


# --- the app's own choices --------------------------------------------------------------

LOCK_CHOICES = (0, 5, 15, 60)  # minutes without input before the window locks; 0: never


@dataclass(frozen=True)
class AppSettings:
    """What the user sets on the Settings screen that belongs to this machine's app.

    Kept in `settings.json` in the config folder. What belongs to the data (the
    never-remember rules, the capture pause) lives in the store, encrypted with it; the
    key itself lives only in the keyring or in the user's head.
    """

    lock_minutes: int = 0  # lock the window after this many idle minutes; 0: never
    nightly_time: str = "03:00"  # local time of the nightly consolidation, HH:MM
    consolidate_when_idle: bool = True  # also consolidate when the user is away a while

    @property
    def nightly_hour(self) -> int:
        """The hour of `nightly_time`."""
        return int(self.nightly_time.split(":")[0])

    @property
    def nightly_minute(self) -> int:
        """The minute of `nightly_time`."""
        return int(self.nightly_time.split(":")[1])


def check_setting(name: str, value: object) -> Any:
    """`value` as field `name` of `AppSettings` takes it; `BadInput` naming the field if
    it cannot be one."""
    if name == "lock_minutes":
        if isinstance(value, bool) or value not in LOCK_CHOICES:
            choices = ", ".join(str(c) for c in LOCK_CHOICES)
            raise BadInput(f"settings: lock_minutes must be one of {choices} (0 is never),"
                           f" not {value!r}")
        return value
    if name == "nightly_time":
        if not isinstance(value, str) or not _is_clock_time(value):
            raise BadInput(f"settings: nightly_time must be a time of day as HH:MM, not {value!r}")
        return value
    if name == "consolidate_when_idle":
        if not isinstance(value, bool):
            raise BadInput(f"settings: consolidate_when_idle must be true or false, not {value!r}")
        return value
    raise BadInput(f"settings: there is no setting {name!r}")


def _is_clock_time(text: str) -> bool:
    hour, colon, minute = text.partition(":")
    if not (colon and len(hour) == 2 and len(minute) == 2 and (hour + minute).isdigit()):
        return False
    return int(hour) < 24 and int(minute) < 60


@dataclass(frozen=True)
class LoadedSettings:
    """The settings read from the file, and what was wrong in it (each problem names its
    field; that field fell back to its default)."""

    settings: AppSettings
    problems: tuple[str, ...] = ()


def load_app_settings(config_dir: Path) -> LoadedSettings:
    """Read `settings.json`; a missing file gives the defaults.

    A bad value never stops the app: its field falls back to the default and the problem
    is reported. The file is left as it is (the next save keeps a copy of it).
    """
    path = config_dir / SETTINGS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedSettings(AppSettings())
    except OSError as exc:
        return LoadedSettings(AppSettings(), (f"{path} could not be read ({exc.strerror});"
                                              " the defaults are used",))
    try:
        document = json.loads(text)
    except ValueError as exc:
        return LoadedSettings(AppSettings(), (f"{path} is not valid JSON ({exc});"
                                              " the defaults are used",))
    if not isinstance(document, dict):
        return LoadedSettings(AppSettings(), (f"{path} does not hold an object of settings;"
                                              " the defaults are used",))
    settings, problems = AppSettings(), []
    known = {f.name for f in fields(AppSettings)}
    for name, value in document.items():
        if name not in known:
            problems.append(f"settings: {name!r} is not a setting; ignored")
            continue
        try:
            settings = replace(settings, **{name: check_setting(name, value)})
        except BadInput as bad:
            problems.append(f"{bad}; the default is used")
    for problem in problems:
        log.warning("%s", problem)
    return LoadedSettings(settings, tuple(problems))


def save_app_settings(config_dir: Path, settings: AppSettings) -> None:
    """Write `settings.json` atomically. A file that held problems is first kept as
    `settings.json.bad`, so a hand edit gone wrong is never lost."""
    for item in fields(AppSettings):
        check_setting(item.name, getattr(settings, item.name))
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / SETTINGS_FILE
    if path.exists() and load_app_settings(config_dir).problems:
        path.replace(path.with_name(SETTINGS_FILE + ".bad"))
    partial = path.with_name(SETTINGS_FILE + ".partial")
    partial.write_text(json.dumps(asdict(settings), indent=1) + "\n", encoding="utf-8")
    partial.replace(path)
