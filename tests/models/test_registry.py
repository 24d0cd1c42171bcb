"""The model registry: adding real GGUF files, refusing broken ones, choices per role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reverie.core.errors import BadInput, ModelError
from reverie.models import BUNDLED_EMBEDDER, BUNDLED_LLM, LlamaCppLLM
from reverie.models.gguf_embedder import GgufEmbedder
from reverie.models.registry import BUNDLED_ID, MINILM_ID, ModelRegistry
from reverie.models.roles import embedder_for, embedder_named, plan_for, role_models


@pytest.fixture
def registry(model_choices: Path) -> ModelRegistry:
    return ModelRegistry(model_choices)


def test_at_first_the_bundled_model_does_every_job(registry: ModelRegistry) -> None:
    [bundled] = registry.entries()
    assert (bundled.id, bundled.bundled, bundled.quantization) == (BUNDLED_ID, True, "Q4_1")
    assert Path(bundled.path) == BUNDLED_LLM.locate()
    assert registry.roles() == dict.fromkeys(("chat", "extraction", "consolidation"),
                                             BUNDLED_ID)
    assert not registry.file.exists(), "reading changes nothing"


def test_a_real_gguf_is_added_from_its_header_and_chosen_per_role(
    registry: ModelRegistry, model_choices: Path, gemma_gguf: Path
) -> None:
    entry, info = registry.add(gemma_gguf)
    assert entry.id == "gemma-3-270m-q4-k-m"
    assert (entry.architecture, entry.quantization, entry.context_length) == (
        "gemma3", "Q4_K_M", 32768)
    assert 260_000_000 < entry.parameters < 280_000_000
    assert not entry.has_chat_template  # a base model
    assert info.layers == 18
    registry.use("extraction", entry.id)

    again = ModelRegistry(model_choices)  # as the next start of the app reads it
    assert [e.id for e in again.entries()] == [BUNDLED_ID, entry.id]
    assert again.roles() == {"chat": BUNDLED_ID, "extraction": entry.id,
                             "consolidation": BUNDLED_ID}
    models = role_models(again)
    assert isinstance(models.extraction, LlamaCppLLM)
    assert models.extraction.path == gemma_gguf
    assert models.chat is models.consolidation, "one instance of a model doing two jobs"
    assert len(models.distinct()) == 2
    plan = plan_for(again.get(entry.id))
    # Measured here: 394 MiB resident after a load and a reply at 4,096 tokens.
    assert 350 * 2**20 < plan.ram_bytes < 440 * 2**20


def test_broken_files_are_refused_with_the_reason_and_nothing_changes(
    registry: ModelRegistry, gemma_gguf: Path, tmp_path: Path
) -> None:
    registry.add(gemma_gguf)
    before = registry.file.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gemma_gguf.read_bytes()[: 150_000_000])
    with pytest.raises(ModelError, match="truncated: its tensors need"):
        registry.add(cut)
    with pytest.raises(ModelError, match="not a GGUF model file"):
        registry.add(BUNDLED_EMBEDDER.locate())
    alien = tmp_path / "alien.gguf"
    data = bytearray(BUNDLED_LLM.locate().read_bytes())
    start = data.index(b"general.architecture") + len(b"general.architecture") + 12
    data[start:start + 5] = b"llamz"
    alien.write_bytes(data)
    with pytest.raises(ModelError, match=r"llama\.cpp cannot open it: .*unknown model arch"):
        registry.add(alien)
    with pytest.raises(BadInput, match="already added, as 'gemma-3-270m-q4-k-m'"):
        registry.add(gemma_gguf)
    assert registry.file.read_bytes() == before


def test_removing_a_model_gives_its_roles_back_to_the_bundled_one(
    registry: ModelRegistry, gemma_gguf: Path
) -> None:
    entry, _ = registry.add(gemma_gguf, name="Gemma base")
    assert entry.id == "gemma-base"
    registry.use("all", entry.id)
    assert set(registry.roles().values()) == {entry.id}
    assert sorted(registry.remove(entry.id)) == ["chat", "consolidation", "extraction"]
    assert set(registry.roles().values()) == {BUNDLED_ID}
    assert gemma_gguf.exists(), "the file itself is never touched"
    with pytest.raises(BadInput, match="bundled model cannot be removed"):
        registry.remove(BUNDLED_ID)
    with pytest.raises(BadInput, match="no role called 'dreams'"):
        registry.use("dreams", BUNDLED_ID)
    with pytest.raises(BadInput, match="no model called 'gpt-5'"):
        registry.use("chat", "gpt-5")


def test_a_model_moved_away_is_reported_and_cannot_be_chosen(
    registry: ModelRegistry, gemma_gguf: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(BUNDLED_LLM.locate().read_bytes())
    entry, _ = registry.add(copy)
    copy.unlink()
    assert registry.get(entry.id).problem == f"the file is missing: {copy}"
    with pytest.raises(BadInput, match="cannot be used: the file is missing"):
        registry.use("chat", entry.id)


def test_an_unreadable_choices_file_is_kept_aside_not_overwritten(
    registry: ModelRegistry, model_choices: Path
) -> None:
    registry.file.write_text("{ not json", encoding="utf-8")
    assert registry.roles()["chat"] == BUNDLED_ID
    kept = list(model_choices.glob("models.json.unreadable-*"))
    assert len(kept) == 1
    assert kept[0].read_text(encoding="utf-8") == "{ not json"


def test_the_gpu_layer_override_persists_and_reaches_the_load(
    registry: ModelRegistry, model_choices: Path, recorded_gpu: None
) -> None:
    registry.set_gpu_layers(BUNDLED_ID, 12)
    stored = json.loads(registry.file.read_text(encoding="utf-8"))
    assert stored["gpu_layers"] == {BUNDLED_ID: 12}
    model = role_models(ModelRegistry(model_choices)).chat
    assert isinstance(model, LlamaCppLLM)
    try:
        model.load()
        assert model.placement is not None
        assert model.placement.gpu_layers == 12
        assert model.placement.reason.startswith("12 of 31 layers, as set")
    finally:
        model.close()
    registry.set_gpu_layers(BUNDLED_ID, None)
    assert registry.get(BUNDLED_ID).gpu_layers is None


def test_the_embedder_is_chosen_apart_from_the_language_models(
    registry: ModelRegistry, model_choices: Path, gemma_gguf: Path
) -> None:
    assert registry.embedder() is None  # the bundled MiniLM
    entry, _ = registry.add(gemma_gguf)
    registry.use("embedder", entry.id)
    again = ModelRegistry(model_choices)
    chosen = again.embedder()
    assert chosen is not None
    assert chosen.id == entry.id
    assert set(again.roles().values()) == {BUNDLED_ID}, "the language models did not move"
    embedder = embedder_for(chosen)
    assert isinstance(embedder, GgufEmbedder)
    assert (embedder.name, embedder.dim) == ("gemma-3-270m-q4_k_m", 640)
    assert embedder_named(again, "gemma-3-270m-q4_k_m").dim == 640
    assert registry.remove(entry.id) == ["embedder"]
    assert registry.embedder() is None
    with pytest.raises(ModelError, match="not among this machine's models"):
        embedder_named(registry, "gemma-3-270m-q4_k_m")
    registry.use("embedder", MINILM_ID)
    assert registry.embedder() is None
