"""Reading GGUF headers: the bundled model is described; broken files are refused."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from reverie.core.errors import ModelError
from reverie.models.bundled import BUNDLED_EMBEDDER, BUNDLED_LLM
from reverie.models.gguf import read_gguf


def test_the_bundled_model_is_described_from_its_header() -> None:
    info = read_gguf(BUNDLED_LLM.verify())
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert 130_000_000 < info.parameters < 140_000_000  # SmolLM2-135M
    assert info.context_length == 8192
    assert info.chat_template is not None
    assert "<|im_start|>" in info.chat_template
    assert info.layers == 30
    # 30 layers x 3 key/value heads of 64 x 2 (keys and values) x 2 bytes, per token
    assert info.kv_cache_bytes(2048) == 30 * 2048 * 3 * 64 * 2 * 2
    assert info.file_bytes == BUNDLED_LLM.verify().stat().st_size


def test_a_truncated_model_is_refused_with_the_reason(tmp_path: Path) -> None:
    data = BUNDLED_LLM.verify().read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated: its tensors need"):
        read_gguf(cut)
    stub = tmp_path / "stub.gguf"
    stub.write_bytes(data[:5000])  # inside the vocabulary
    with pytest.raises(ModelError, match="ends inside its header"):
        read_gguf(stub)


def test_files_that_are_not_gguf_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a GGUF model file"):
        read_gguf(BUNDLED_EMBEDDER.verify())  # an ONNX model
    text = tmp_path / "notes.gguf"
    text.write_text("just some text", encoding="utf-8")
    with pytest.raises(ModelError, match="not a GGUF model file"):
        read_gguf(text)
    future = tmp_path / "future.gguf"
    future.write_bytes(b"GGUF" + struct.pack("<IQQ", 99, 0, 0))
    with pytest.raises(ModelError, match="version 99 is not supported"):
        read_gguf(future)
    with pytest.raises(ModelError, match="no such file"):
        read_gguf(tmp_path / "missing.gguf")
    with pytest.raises(ModelError, match="a folder"):
        read_gguf(tmp_path)


def test_a_header_without_an_architecture_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))
    with pytest.raises(ModelError, match="names no architecture"):
        read_gguf(empty)
