"""The package's import surface: fast, and free of native runtimes."""

from __future__ import annotations

import subprocess
import sys

import reverie.models
from reverie.models.base import LLM, Embedder


def test_import_loads_no_runtime() -> None:
    code = (
        "import sys, reverie.models\n"
        "loaded = [m for m in ('llama_cpp', 'onnxruntime', 'tokenizers') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_public_api_is_exported() -> None:
    for name in reverie.models.__all__:
        assert getattr(reverie.models, name) is not None
    assert reverie.models.LLM is LLM
    assert reverie.models.Embedder is Embedder


def test_implementations_satisfy_the_protocols() -> None:
    # Static conformance is checked by mypy; this guards the runtime attribute names.
    for attribute in ("name", "count_tokens", "context_size", "chat"):
        assert hasattr(reverie.models.LlamaCppLLM, attribute)
    for attribute in ("name", "dim", "embed"):
        assert hasattr(reverie.models.OnnxEmbedder, attribute)
