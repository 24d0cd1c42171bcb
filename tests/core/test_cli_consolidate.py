"""`reverie consolidate` and `reverie review`, run as a user would, with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_cli import reverie

pytestmark = pytest.mark.slow

MOVES = [
    {"conversation": "moves", "time": "2024-06-10T19:00:00", "speaker": "user",
     "text": "I moved to Lisbon last March and I love the light there."},
    {"conversation": "moves", "time": "2024-11-02T10:00:00", "speaker": "user",
     "text": "Big news: we moved back to Porto last week, the rent in Lisbon was too much."},
]


def test_dry_run_then_run_show_and_undo(tmp_path: Path) -> None:
    chat = tmp_path / "moves.jsonl"
    chat.write_text("".join(json.dumps(turn) + "\n" for turn in MOVES), encoding="utf-8")
    data = tmp_path / "data"
    assert reverie(data, "import", str(chat)).returncode == 0

    dry = reverie(data, "consolidate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert 'supersede "I moved to Lisbon last March (March 2024)." by "I moved back to Porto' \
        in dry.stdout
    assert "nothing was written" in dry.stdout
    assert json.loads(reverie(data, "consolidate", "runs", "--json").stdout) == []

    done = reverie(data, "consolidate")
    assert done.returncode == 0, done.stderr
    # The supersede, and the merge of a doubtful "moving back to Lisbon" the model wrote
    # about the Porto turn (sent to review) into the Porto memory.
    assert "2 applied, 0 skipped, 0 proposed for review" in done.stdout
    runs = json.loads(reverie(data, "consolidate", "runs", "--json").stdout)
    assert [(r["reason"], r["state"]) for r in runs] == [("manual", "done")]
    shown = json.loads(reverie(data, "consolidate", "show", "--json").stdout)
    assert sorted((c["op"], c["state"]) for c in shown) == [
        ("merge", "applied"), ("supersede", "applied")]

    supersede = next(c["seq"] for c in shown if c["op"] == "supersede")
    undone = reverie(data, "consolidate", "undo", runs[0]["run"], "--change", str(supersede))
    assert undone.returncode == 0, undone.stderr
    shown = json.loads(reverie(data, "consolidate", "show", "--json").stdout)
    assert {c["op"]: c["state"] for c in shown} == {"merge": "applied", "supersede": "undone"}
    assert reverie(data, "consolidate", "undo", runs[0]["run"]).returncode == 0
    again = reverie(data, "consolidate", "undo", runs[0]["run"])
    assert again.returncode == 1
    assert "no applied change" in again.stderr
    assert "nothing to review" not in reverie(data, "review").stdout  # the doubtful one
