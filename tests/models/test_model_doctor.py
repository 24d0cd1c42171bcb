"""The model doctor: real checks, and broken models reported rather than raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from reverie.models import ModelCheck, check_models, gpu_offload_supported

pytestmark = pytest.mark.slow


def _by_role(checks: list[ModelCheck]) -> dict[str, ModelCheck]:
    return {check.role: check for check in checks}


def test_all_bundled_models_pass() -> None:
    checks = _by_role(check_models())
    assert set(checks) == {"llm", "embedder", "tokenizer"}
    for check in checks.values():
        assert check.ok, check.error
        assert check.sha256_ok is True
        assert check.path is not None
        assert check.path.is_file()
        assert check.load_seconds is not None
        assert check.sample
        assert check.sample_ms is not None
    assert checks["llm"].name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert checks["llm"].gpu_offload is gpu_offload_supported()
    assert "dim 384" in (checks["embedder"].sample or "")
    assert "norm 1.0000" in (checks["embedder"].sample or "")
    assert (checks["tokenizer"].sample or "").startswith("[CLS]")


def test_a_broken_llm_is_reported_not_raised(truncated_gguf: Path) -> None:
    checks = _by_role(check_models(llm_path=truncated_gguf))
    broken = checks["llm"]
    assert not broken.ok
    assert broken.sha256_ok is None  # a user-chosen file has no known digest
    assert "truncated" in (broken.error or "")
    assert broken.sample is None
    assert checks["embedder"].ok
