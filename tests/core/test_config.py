"""Where the data directory is: --data-dir, then REVERIE_DATA_DIR, then the platform's."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from reverie.core.config import DATA_DIR_ENV, resolve_data_dir


def test_explicit_beats_environment_beats_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from-env"))
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_dir(None) == tmp_path / "from-env"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert resolve_data_dir(None) == Path(platformdirs.user_data_dir("Reverie", appauthor=False))


def test_user_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir("~/memories") == tmp_path / "memories"
