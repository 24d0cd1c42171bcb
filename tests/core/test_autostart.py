"""Starting at login: the XDG entry written and removed for real, the macOS and
Windows forms checked as the systems read them."""

from __future__ import annotations

import configparser
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from reverie.core import autostart
from reverie.core.errors import EnvironmentProblem


@pytest.fixture
def xdg_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG form")
def test_the_xdg_entry_is_written_read_back_and_removed(xdg_config: Path) -> None:
    assert not autostart.is_enabled()
    autostart.enable()
    entry = xdg_config / "autostart" / "reverie.desktop"
    assert autostart.is_enabled()
    assert autostart.location() == str(entry)
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(entry.read_text(encoding="utf-8"))
    section = parsed["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"] == str(Path(sys.executable).with_name("reverie"))
    autostart.disable()
    autostart.disable()  # twice is fine
    assert not autostart.is_enabled()
    assert not list((xdg_config / "autostart").iterdir()), "no temporary file left"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG form")
def test_a_folder_that_cannot_be_written_is_a_clear_problem(xdg_config: Path) -> None:
    xdg_config.mkdir()
    (xdg_config / "autostart").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="cannot set Reverie to start at login"):
        autostart.enable()


def test_paths_with_spaces_are_quoted_as_the_desktop_spec_says() -> None:
    text = autostart.desktop_entry(["/opt/My Apps/reverie"]).decode()
    assert 'Exec="/opt/My Apps/reverie"\n' in text


def test_the_launch_agent_runs_reverie_at_load() -> None:
    agent = plistlib.loads(autostart.agent_plist(["/Applications/Reverie.app/Contents/"
                                                  "MacOS/reverie"]))
    assert agent["Label"] == "app.reverie"
    assert agent["RunAtLoad"] is True
    assert agent["ProgramArguments"] == ["/Applications/Reverie.app/Contents/MacOS/reverie"]


def test_the_windows_run_value_is_one_quoted_command_line() -> None:
    line = autostart.windows_command_line([r"C:\Program Files\Reverie\reverie.exe"])
    assert line == r'"C:\Program Files\Reverie\reverie.exe"'


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG form")
def test_the_cli_turns_it_on_and_off(xdg_config: Path) -> None:
    script = Path(sys.executable).with_name("reverie")
    env = {"XDG_CONFIG_HOME": str(xdg_config), "PATH": "/usr/bin:/bin"}
    on = subprocess.run([str(script), "autostart", "on"], capture_output=True, text=True,
                        env=env, check=True, timeout=60)
    assert on.stdout.startswith("Reverie starts at login (")
    assert (xdg_config / "autostart" / "reverie.desktop").exists()
    off = subprocess.run([str(script), "autostart", "off"], capture_output=True, text=True,
                         env=env, check=True, timeout=60)
    assert off.stdout == "Reverie does not start at login\n"
