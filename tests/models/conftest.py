"""Shared, real models for the tests of reverie.models.

The session-wide bundled models come from tests/conftest.py, so the whole run holds
one instance of each; tests that need a differently configured model build their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reverie.models import BUNDLED_LLM, LLM, Embedder, LlamaCppLLM, OnnxEmbedder, devices, hardware
from reverie.models.devices import Device

GIB = 1024**3
CPU = Device("CPU", "AMD EPYC", "cpu", free_bytes=24 * GIB, total_bytes=24 * GIB)
# What ggml_backend_dev_memory reported on a laptop's 4 GB GPU with a desktop running.
RTX_3050_4GB = Device("CUDA0", "NVIDIA GeForce RTX 3050 Laptop GPU", "gpu",
                      free_bytes=3_613_392_896, total_bytes=4_294_443_008)


@pytest.fixture(scope="session")
def llm(bundled_llm: LLM) -> LlamaCppLLM:
    """The bundled LLM of tests/conftest.py, loaded: one instance for the whole run."""
    assert isinstance(bundled_llm, LlamaCppLLM)
    bundled_llm.load()
    return bundled_llm


@pytest.fixture(scope="session")
def embedder(bundled_embedder: Embedder) -> OnnxEmbedder:
    """The bundled embedder of tests/conftest.py, loaded."""
    assert isinstance(bundled_embedder, OnnxEmbedder)
    bundled_embedder.load()
    return bundled_embedder


@pytest.fixture
def truncated_gguf(tmp_path: Path) -> Path:
    """The first 5 MB of the bundled GGUF: a valid header over missing tensor data."""
    target = tmp_path / "truncated.gguf"
    with BUNDLED_LLM.locate().open("rb") as source:
        target.write_bytes(source.read(5_000_000))
    return target


@pytest.fixture
def recorded_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """A llama-cpp build with GPU offload and a 4 GB laptop GPU, as the real API would
    report them; loads still run for real (a CPU build ignores the layer count)."""
    monkeypatch.setattr(hardware, "gpu_offload_supported", lambda: True)
    monkeypatch.setattr(devices, "list_devices", lambda: [CPU, RTX_3050_4GB])
