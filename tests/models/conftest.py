"""Shared, real models for the tests of reverie.models.

The session-wide bundled models come from tests/conftest.py, so the whole run holds
one instance of each; tests that need a differently configured model build their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reverie.models import BUNDLED_LLM, LLM, Embedder, LlamaCppLLM, OnnxEmbedder


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
