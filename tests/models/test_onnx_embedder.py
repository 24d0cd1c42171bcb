"""OnnxEmbedder over the bundled int8 all-MiniLM-L6-v2: real embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reverie.core.errors import ModelError
from reverie.models import BUNDLED_EMBEDDER, BUNDLED_TOKENIZER, OnnxEmbedder, default_embedder

pytestmark = pytest.mark.slow

SHORT = "The cat sits on the mat."
LONG = "On a long afternoon we walked along the river and talked about the books we read. " * 8


def test_vectors_are_float32_unit_length(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed([SHORT, LONG, ""])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.name == "all-MiniLM-L6-v2-int8"
    assert embedder.dim == 384


def test_padding_does_not_change_a_vector(embedder: OnnxEmbedder) -> None:
    alone = embedder.embed([SHORT])[0]
    beside_a_long_text = embedder.embed([SHORT, LONG])[0]
    np.testing.assert_allclose(alone, beside_a_long_text, atol=1e-4)


def test_order_is_kept_across_batches_of_mixed_lengths() -> None:
    # A batch size of 4 makes 11 texts span three batches after sorting by length.
    small_batches = OnnxEmbedder(
        BUNDLED_EMBEDDER.locate(), BUNDLED_TOKENIZER.locate(), batch_size=4
    )
    lengths = (30, 2, 17, 1, 45, 9, 3, 60, 5, 22, 0)
    texts = [" ".join(["word"] * n) + f" number {n}" for n in lengths]
    together = small_batches.embed(texts)
    for row, text in enumerate(texts):
        np.testing.assert_allclose(together[row], small_batches.embed([text])[0], atol=1e-4)


def test_related_sentences_are_closer_than_unrelated_ones(embedder: OnnxEmbedder) -> None:
    coffee, coffee_again, taxes = embedder.embed(
        [
            "I had coffee with Anna this morning.",
            "This morning Anna and I met for a coffee.",
            "The quarterly tax return is due at the end of the month.",
        ]
    )
    related = float(coffee @ coffee_again)
    unrelated = float(coffee @ taxes)
    assert related > 0.7
    assert related > unrelated + 0.3


def test_empty_input_gives_an_empty_matrix(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_a_single_string_is_refused(embedder: OnnxEmbedder) -> None:
    with pytest.raises(TypeError, match="single str"):
        embedder.embed("a whole sentence")


def test_long_texts_are_truncated_at_256_tokens(embedder: OnnxEmbedder) -> None:
    # 400 distinct-ish words are well past 256 tokens: what follows cannot matter.
    words = " ".join(f"w{i}" for i in range(400))
    head, with_tail = embedder.embed([words, words + " and a completely different ending"])
    np.testing.assert_allclose(head, with_tail, atol=1e-6)
    # ...but the shipped tokenizer's own 128-token limit is lifted.
    first_150 = " ".join(f"w{i}" for i in range(150))
    first_100 = " ".join(f"w{i}" for i in range(100))
    a, b = embedder.embed([first_150, first_100])
    assert not np.allclose(a, b, atol=1e-3)


def test_default_embedder_loads_lazily() -> None:
    model = default_embedder()
    assert not model.is_loaded
    assert model.embed([]).shape == (0, 384)
    assert not model.is_loaded  # nothing to embed, nothing to load
    model.embed([SHORT])
    assert model.is_loaded
    assert model.load_seconds is not None


def test_damaged_tokenizer_is_a_model_error(tmp_path: Path) -> None:
    copy = tmp_path / "tokenizer.json"
    with BUNDLED_TOKENIZER.locate().open("rb") as source:
        copy.write_bytes(source.read(50_000))
    model = OnnxEmbedder(BUNDLED_EMBEDDER.locate(), copy)
    with pytest.raises(ModelError, match="tokenizer") as raised:
        model.embed([SHORT])
    assert str(copy) in str(raised.value)


def test_damaged_onnx_graph_is_a_model_error(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    with BUNDLED_EMBEDDER.locate().open("rb") as source:
        copy.write_bytes(source.read(1_000_000))
    model = OnnxEmbedder(copy, BUNDLED_TOKENIZER.locate())
    with pytest.raises(ModelError, match="Cannot load the embedding model") as raised:
        model.load()
    assert str(copy) in str(raised.value)


def test_wrong_dimension_is_a_model_error() -> None:
    model = OnnxEmbedder(BUNDLED_EMBEDDER.locate(), BUNDLED_TOKENIZER.locate(), dim=768)
    with pytest.raises(ModelError, match="width 768"):
        model.load()
