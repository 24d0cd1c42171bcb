"""The memory-keeping commands, run as a user would: remember, history, undo, forget,
reindex and passphrase, on a passphrase-locked data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_cli import reverie
from tests.ledger_access import cli_env

pytestmark = pytest.mark.slow


def history(data: Path) -> list[dict[str, object]]:
    done = reverie(data, "history", "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_remember_undo_forget_and_change_the_passphrase(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = reverie(data, "remember", "My bike lock code is 4471", "--when", "2026-03-01T10:00")
    assert done.returncode == 0, done.stderr
    bike = done.stdout.split()[-1]
    assert reverie(data, "remember", "Dentist on Friday", "--kind", "plan").returncode == 0

    assert reverie(data, "undo").returncode == 0  # the dentist memory is archived
    entries = history(data)
    assert [e["action"] for e in entries] == ["undo", "created", "created"]
    assert entries[0]["after"]["status"] == "archived"  # type: ignore[index]
    again = reverie(data, "undo", "--change", str(entries[1]["change"]))
    assert again.returncode == 1
    assert "already undone" in again.stderr

    unconfirmed = reverie(data, "forget", "--memory", bike)
    assert unconfirmed.returncode == 1
    assert "needs confirmation" in unconfirmed.stderr
    forgot = reverie(data, "forget", "--memory", bike, "--yes")
    assert "1 memory will be removed for good" in forgot.stdout
    assert "4471" not in reverie(data, "search", "bike lock code", "--json").stdout
    assert all("4471" not in json.dumps(e) for e in history(data))

    assert "rebuilt: 1 items" in reverie(data, "reindex").stdout
    changed = reverie(data, "passphrase", env=cli_env(REVERIE_NEW_PASSPHRASE="a new secret!"))
    assert changed.returncode == 0, changed.stderr
    old = reverie(data, "stats")
    assert old.returncode == 1
    assert "wrong passphrase" in old.stderr
    new = reverie(data, "stats", "--json", env=cli_env(REVERIE_PASSPHRASE="a new secret!"))
    assert json.loads(new.stdout)["memories"] == 1
