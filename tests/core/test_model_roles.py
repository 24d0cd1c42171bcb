"""The model chosen for each job is the one that does it: chosen with the CLI, kept in
the config folder, used by the next process that opens the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reverie.core.compose import open_reverie
from reverie.models import LlamaCppLLM
from reverie.models.base import Embedder
from tests.ledger_access import cli_env

pytestmark = pytest.mark.slow


def _models(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("reverie")
    return subprocess.run([str(script), "models", *args], capture_output=True, text=True,
                          timeout=300, env=cli_env(), check=False)


def test_a_model_added_and_chosen_with_the_cli_does_that_job(
    gemma_gguf: Path, sample_chat: Path, tmp_path: Path, bundled_embedder: Embedder
) -> None:
    added = _models("add", str(gemma_gguf), "--use", "extraction")
    assert added.returncode == 0, added.stderr
    assert "added gemma-3-270m-q4-k-m: Gemma 3 270m, gemma3, 268M parameters, Q4_K_M" \
        in added.stdout
    assert "no chat template" in added.stdout
    listed = json.loads(_models("list", "--json").stdout)
    assert listed["roles"] == {"chat": "smollm2-135m", "extraction": "gemma-3-270m-q4-k-m",
                               "consolidation": "smollm2-135m"}
    gemma = next(m for m in listed["models"] if m["id"] == "gemma-3-270m-q4-k-m")
    assert gemma["placement"]["gpu_layers"] == 0
    assert gemma["roles"] == ["extraction"]

    reverie = open_reverie(tmp_path / "data", embedder=bundled_embedder)
    try:
        extraction, chat = reverie.models.extraction, reverie.models.chat
        assert isinstance(extraction, LlamaCppLLM)
        assert isinstance(chat, LlamaCppLLM)
        assert extraction.path == gemma_gguf
        report = reverie.import_file(sample_chat)
        assert report.episodes_added == 9
        assert extraction.is_loaded, "Gemma extracted the memories"
        assert not chat.is_loaded, "the chat model was not needed"
    finally:
        reverie.close()
        for model in reverie.models.distinct():
            assert isinstance(model, LlamaCppLLM)
            model.close()


def test_the_cli_refuses_a_broken_file_and_explains(tmp_path: Path, gemma_gguf: Path) -> None:
    cut = tmp_path / "half.gguf"
    with gemma_gguf.open("rb") as source:
        cut.write_bytes(source.read(100_000_000))
    refused = _models("add", str(cut))
    assert refused.returncode == 1
    assert "truncated: its tensors need" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _models("use", "chat", "half").returncode == 1
    assert json.loads(_models("--json").stdout)["roles"]["chat"] == "smollm2-135m"


def test_doctor_reports_the_roles_the_devices_and_where_each_model_went(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    assert _models("add", str(gemma_gguf), "--use", "consolidation").returncode == 0
    script = Path(sys.executable).with_name("reverie")
    done = subprocess.run([str(script), "doctor", "--json", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env=cli_env(),
                          check=False)
    report = json.loads(done.stdout)
    assert report["roles"]["consolidation"] == "gemma-3-270m-q4-k-m"
    assert [d["kind"] for d in report["devices"]] == ["cpu"]
    llms = [m for m in report["models"] if m["role"] == "llm"]
    assert [m["name"] for m in llms] == ["SmolLM2-135M-Instruct.Q4_1.gguf",
                                         "gemma-3-270m-q4_k_m.gguf"]
    assert llms[0]["ok"]
    assert llms[0]["placement"] == "CPU only: this llama-cpp build has no GPU support"
    assert llms[1]["load_seconds"] is not None, "Gemma loaded"
    # The base model answers the sample question with nothing (greedy decoding, so
    # always): the doctor says so, and why, and exits 1.
    assert not llms[1]["ok"]
    assert "no chat template" in llms[1]["error"]
    assert done.returncode == 1
