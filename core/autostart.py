"""Starting Reverie at login, the way each system expects, and undoing it.

- Linux (and BSDs): an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/reverie.desktop`.
- macOS: a LaunchAgent, `~/Library/LaunchAgents/app.reverie.plist` (RunAtLoad).
- Windows: a value under the user's `Software\\Microsoft\\Windows\\CurrentVersion\\Run`.

Only the user's own settings are touched, never the system's; nothing needs an
administrator. The command is the running `reverie` program itself: the frozen app's
executable in an installed package, the console script in a development install.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import plistlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from reverie.core.errors import EnvironmentProblem

__all__ = ["command", "disable", "enable", "is_enabled", "location"]

ENTRY_NAME = "reverie.desktop"
AGENT_LABEL = "app.reverie"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Reverie"


def command() -> list[str]:
    """The program to start at login: this installation's `reverie`."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.executable).with_name("reverie.exe" if os.name == "nt" else "reverie")
    return [str(script)]


def location() -> str:
    """Where the login item lives on this system, for the user to see."""
    if sys.platform == "win32":
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE}"
    return str(_agent_path() if sys.platform == "darwin" else _entry_path())


def is_enabled() -> bool:
    """Whether Reverie starts at login."""
    if sys.platform == "win32":
        return _run_value() is not None
    return (_agent_path() if sys.platform == "darwin" else _entry_path()).exists()


def enable() -> None:
    """Start Reverie at login from now on; `EnvironmentProblem` says why it could not."""
    try:
        _enable()
    except OSError as error:
        raise EnvironmentProblem(f"cannot set Reverie to start at login ({location()}): "
                                 f"{error.strerror or error}") from error


def disable() -> None:
    """No longer start Reverie at login (nothing happens when it was not set)."""
    try:
        _disable()
    except OSError as error:
        raise EnvironmentProblem(f"cannot stop Reverie starting at login ({location()}): "
                                 f"{error.strerror or error}") from error


def _enable() -> None:
    if sys.platform == "win32":
        _set_run_value(windows_command_line(command()))
        return
    path, text = ((_agent_path(), agent_plist(command())) if sys.platform == "darwin"
                  else (_entry_path(), desktop_entry(command())))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(text)
    os.replace(temporary, path)


def _disable() -> None:
    if sys.platform == "win32":
        _set_run_value(None)
        return
    (_agent_path() if sys.platform == "darwin" else _entry_path()).unlink(missing_ok=True)


def desktop_entry(argv: list[str]) -> bytes:
    """The XDG autostart entry that runs `argv`."""
    return (
        "[Desktop Entry]\nType=Application\nName=Reverie\n"
        "Comment=Offline personal memory assistant\n"
        f"Exec={' '.join(_exec_quoted(arg) for arg in argv)}\nIcon=reverie\nTerminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    ).encode()


def _exec_quoted(arg: str) -> str:
    # The Desktop Entry spec's quoting: double quotes, with ", `, $ and \ escaped.
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def agent_plist(argv: list[str]) -> bytes:
    """The LaunchAgent that runs `argv` at login."""
    return plistlib.dumps({"Label": AGENT_LABEL, "ProgramArguments": argv,
                           "RunAtLoad": True, "ProcessType": "Interactive"})


def windows_command_line(argv: list[str]) -> str:
    """`argv` as one Windows command line (the Run key's value)."""
    return subprocess.list2cmdline(argv)


def _entry_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "autostart" / ENTRY_NAME


def _agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"


def _run_value() -> str | None:
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            value, _kind = winreg.QueryValueEx(key, RUN_VALUE)
    except OSError:
        return None
    return str(value)


def _set_run_value(line: str | None) -> None:
    winreg = _winreg()
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
        if line is None:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, RUN_VALUE)
        else:
            winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, line)


def _winreg() -> Any:
    # Imported by name: the module exists on Windows only, and type checkers on other
    # systems would call the code that uses it unreachable.
    return importlib.import_module("winreg")
