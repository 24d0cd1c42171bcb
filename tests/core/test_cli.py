"""The `reverie` command line, run as a user runs it: a real process on a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.locomo import DEV_DIR, write_jsonl
from reverie.core.compose import open_reverie
from reverie.core.privacy import PrivacyRules, Rule, RuleKind
from reverie.core.store.keys import Unlocker, fixed_passphrase
from reverie.models.base import Embedder
from tests.doubles import ScriptedLLM
from tests.ledger_access import CLI_PASSPHRASE, cli_env

pytestmark = pytest.mark.slow


def reverie(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `reverie` console script."""
    script = Path(sys.executable).with_name("reverie")
    return subprocess.run(
        [str(script), "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=600, env=env or cli_env(), check=False,
    )


def stats(data_dir: Path) -> dict[str, int]:
    done = reverie(data_dir, "stats", "--json")
    assert done.returncode == 0, done.stderr
    counts: dict[str, int] = json.loads(done.stdout)
    return counts


@pytest.fixture(scope="module")
def conv30(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """conv-30 as chat JSONL, imported once (without extraction) into a data dir."""
    root = tmp_path_factory.mktemp("cli")
    jsonl = root / "conv-30.jsonl"
    write_jsonl(DEV_DIR / "conv-30.json", jsonl)
    data = root / "data"
    done = reverie(data, "import", "--no-extract", str(jsonl))
    assert done.returncode == 0, done.stderr
    assert "imported 369 turns (0 already stored)" in done.stdout
    return data, jsonl


def test_reimport_changes_nothing(conv30: tuple[Path, Path]) -> None:
    data, jsonl = conv30
    before = stats(data)
    again = reverie(data, "import", "--no-extract", str(jsonl))
    assert again.returncode == 0, again.stderr
    assert "imported 0 turns (369 already stored)" in again.stdout
    assert stats(data) == before
    assert before["episodes"] == 369


def test_search_json_cites_turns_of_the_conversation(conv30: tuple[Path, Path]) -> None:
    data, _ = conv30
    done = reverie(data, "search", "--json", "Where did Gina get her dance studio?")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["query"] == "Where did Gina get her dance studio?"
    assert len(result["hits"]) == 10
    for hit in result["hits"]:
        assert set(hit) >= {"id", "kind", "text", "score", "time", "sources"}
        assert hit["kind"] in {"episode", "memory", "summary"}
        assert hit["sources"][0]["source"] == "conv-30"
        assert hit["sources"][0]["ref"].startswith("D")


def test_search_filters_by_time_person_and_source(conv30: tuple[Path, Path]) -> None:
    data, _ = conv30
    done = reverie(data, "search", "--json", "--k", "20", "--after", "2023-02-01T00:00:00Z",
                   "--before", "2023-03-01T00:00:00Z", "--person", "Gina", "dance studio")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)["hits"]
    assert hits
    for hit in hits:
        assert "2023-02-01" <= hit["time"][:10] < "2023-03-01"
    nowhere = reverie(data, "search", "--json", "--source", "elsewhere", "dance studio")
    assert json.loads(nowhere.stdout)["hits"] == []
    wrong = reverie(data, "search", "--after", "2023-03-01", "--before", "2023-02-01", "x")
    assert wrong.returncode != 0
    assert "before its end" in wrong.stderr


def test_queries_file_gives_one_json_line_per_query_in_order(
    conv30: tuple[Path, Path], tmp_path: Path
) -> None:
    data, _ = conv30
    queries = tmp_path / "q.txt"
    queries.write_text("dance studio\nbanker job\n\nclothing store\n", encoding="utf-8")
    done = reverie(data, "search", "--queries", str(queries), "--k", "3")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["dance studio", "banker job", "", "clothing store"]
    assert [len(line["hits"]) for line in lines] == [3, 3, 0, 3]


def test_as_of_limits_hits_to_the_past(conv30: tuple[Path, Path]) -> None:
    data, _ = conv30
    done = reverie(data, "search", "--json", "--as-of", "2023-02-01T00:00:00", "dance")
    hits = json.loads(done.stdout)["hits"]
    assert hits
    assert all(hit["time"] < "2023-02-01" for hit in hits)


def test_export_writes_every_item_with_the_hit_fields(
    conv30: tuple[Path, Path], tmp_path: Path
) -> None:
    data, _ = conv30
    target = tmp_path / "export.json"
    done = reverie(data, "export", "--json", str(target))
    assert done.returncode == 0, done.stderr
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported["format"] == "reverie-export"
    assert len(exported["items"]) == 369
    first = exported["items"][0]
    assert set(first) >= {"id", "kind", "text", "time", "sources"}
    assert first["sources"] == [{"source": "conv-30", "ref": "D1:1"}]


def test_bad_file_is_refused_with_line_numbers_and_changes_nothing(
    conv30: tuple[Path, Path], tmp_path: Path
) -> None:
    data, _ = conv30
    before = stats(data)
    bad = tmp_path / "bad.jsonl"
    good = {"conversation": "x", "time": "2024-01-01T10:00:00", "speaker": "a", "text": "hi"}
    bad.write_text(json.dumps(good) + "\n" + "oops\n", encoding="utf-8")
    done = reverie(data, "import", str(bad))
    assert done.returncode == 1
    assert "line 2: not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr
    assert stats(data) == before


def test_usage_errors_are_explained(conv30: tuple[Path, Path]) -> None:
    data, _ = conv30
    done = reverie(data, "search")
    assert done.returncode == 1
    assert "give either a QUERY or --queries FILE" in done.stderr
    done = reverie(data, "search", "--as-of", "last tuesday", "x")
    assert done.returncode == 1
    assert "not an ISO-8601 time" in done.stderr


def test_without_a_display_the_app_explains_how_to_run_headless(tmp_path: Path) -> None:
    env = {k: v for k, v in cli_env().items()
           if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}}
    done = reverie(tmp_path, env=env)
    assert done.returncode == 2
    assert "QT_QPA_PLATFORM=offscreen" in done.stderr


def test_import_says_how_many_turns_never_remember_rules_kept_out(
    tmp_path: Path, bundled_embedder: Embedder, sample_chat: Path
) -> None:
    data = tmp_path / "data"
    unlocker = Unlocker(None, fixed_passphrase(CLI_PASSPHRASE))  # as the CLI opens it
    facade = open_reverie(data, llm=ScriptedLLM(lambda _m: ""), embedder=bundled_embedder,
                          unlocker=unlocker)
    try:
        facade.set_privacy_rules(PrivacyRules((Rule(RuleKind.TEXT, "pottery"),)))
    finally:
        facade.close()
    done = reverie(data, "import", "--no-extract", str(sample_chat))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "imported 7 turns (0 already stored, 2 kept out by never-remember rules), 0 memories")
    assert stats(data)["episodes"] == 7
