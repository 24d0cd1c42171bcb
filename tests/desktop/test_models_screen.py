"""The Models screen on the real core: adding a real GGUF, refusing a broken one,
choosing a model per job (used at once), and changing the embedder, which re-embeds
in the background while search answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.desktop.main_window import MainWindow
from reverie.desktop.models_view import ModelsDialog
from reverie.models import BUNDLED_LLM, LlamaCppLLM
from reverie.models.base import Embedder
from reverie.models.embedder import MINILM_NAME
from reverie.models.registry import EMBEDDER

pytestmark = pytest.mark.gui
TIMEOUT_MS = 60_000
GEMMA_ID = "gemma-3-270m-q4-k-m"


def _store_with_the_sample(tmp_path: Path, sample_chat: Path, embedder: Embedder) -> Path:
    """A data directory holding the sample week's 9 turns, embedded by MiniLM."""
    data = tmp_path / "data"
    facade = open_reverie(data, embedder=embedder)
    facade.import_file(sample_chat, extract=False)
    facade.close()
    return data


def _open_models(qtbot: QtBot, window: MainWindow) -> ModelsDialog:
    window.models_action.trigger()
    dialog = window.models_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() >= 1, timeout=TIMEOUT_MS)
    return dialog


def _rows(dialog: ModelsDialog) -> dict[str, list[str]]:
    rows = {}
    for index in range(dialog.table.topLevelItemCount()):
        item = dialog.table.topLevelItem(index)
        rows[item.text(0)] = [item.text(column) for column in range(5)]
    return rows


def _choose(qtbot: QtBot, dialog: ModelsDialog, role: str, model_id: str) -> None:
    box = dialog.role_boxes[role]
    index = box.findData(model_id)
    assert index >= 0, f"{model_id} is not offered for {role}"
    box.setCurrentIndex(index)
    box.activated.emit(index)  # what a person's pick in the list sends


def test_adding_and_choosing_models_on_the_models_screen(
    qtbot: QtBot, make_window: Callable[..., MainWindow], gemma_gguf: Path, tmp_path: Path,
) -> None:
    window = make_window()
    dialog = _open_models(qtbot, window)
    [bundled] = _rows(dialog).values()
    assert bundled[1] == "chat, extraction, consolidation"
    assert bundled[4].startswith("RAM 0.22 GiB: CPU only")

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(gemma_gguf.read_bytes()[:80_000_000])
    dialog.add_file(str(broken))
    qtbot.waitUntil(lambda: "truncated" in dialog.message.text(), timeout=TIMEOUT_MS)
    assert dialog.table.topLevelItemCount() == 1

    dialog.add_file(str(gemma_gguf))
    qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() == 2, timeout=TIMEOUT_MS)
    assert dialog.message.text() == f"Added {GEMMA_ID}."
    assert _rows(dialog)["Gemma 3 270m"][2] == "gemma3, Q4_K_M"

    _choose(qtbot, dialog, "extraction", GEMMA_ID)
    qtbot.waitUntil(lambda: dialog.message.text() == f"{GEMMA_ID} now does the extraction",
                    timeout=TIMEOUT_MS)
    facade = window.runner.facade
    assert facade is not None
    extraction = facade.models.extraction
    assert isinstance(extraction, LlamaCppLLM)
    assert extraction.path == gemma_gguf, "the choice is used at once"
    assert window.registry.roles()["extraction"] == GEMMA_ID, "and kept for the next start"
    qtbot.waitUntil(lambda: _rows(dialog)["Gemma 3 270m"][1] == "extraction",
                    timeout=TIMEOUT_MS)


def test_changing_the_embedder_re_embeds_in_the_background(
    qtbot: QtBot, make_window: Callable[..., MainWindow], sample_chat: Path, tmp_path: Path,
    bundled_embedder: Embedder,
) -> None:
    data = _store_with_the_sample(tmp_path, sample_chat, bundled_embedder)
    window = make_window(data_dir=data)
    dialog = _open_models(qtbot, window)
    qtbot.waitUntil(
        lambda: "Search uses <b>all-MiniLM-L6-v2-int8</b>" in dialog.search_label.text(),
        timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.reembedding.ended, timeout=TIMEOUT_MS) as ended:
        _choose(qtbot, dialog, EMBEDDER, "smollm2-135m")
    target = BUNDLED_LLM.file_name.removesuffix(".gguf")
    assert ended.args == [f"Search now uses {target} (9 items)."]
    opened = window.runner.facade
    assert opened is not None
    assert opened.store.embedding_model == target
    assert opened.embedder.name != MINILM_NAME
    hits = opened.search("pottery class", k=3)
    assert any("pottery" in hit.text for hit in hits)
    qtbot.waitUntil(lambda: target in dialog.search_label.text(), timeout=TIMEOUT_MS)


def test_a_second_change_of_embedder_stops_the_first_and_wins(
    qtbot: QtBot, make_window: Callable[..., MainWindow], sample_chat: Path, tmp_path: Path,
    bundled_embedder: Embedder,
) -> None:
    data = _store_with_the_sample(tmp_path, sample_chat, bundled_embedder)
    window = make_window(data_dir=data)
    qtbot.waitUntil(lambda: not window.reembedding.running, timeout=TIMEOUT_MS)
    window.registry.use(EMBEDDER, "smollm2-135m")
    window.reembedding.start()
    assert window.reembedding.running
    window.registry.use(EMBEDDER, "minilm-l6-v2")  # changed their mind at once
    window.reembedding.start()
    qtbot.waitUntil(lambda: not window.reembedding.running, timeout=TIMEOUT_MS)
    opened = window.runner.facade
    assert opened is not None
    assert opened.store.embedding_model == MINILM_NAME
    assert opened.reembed_pending() is None
    counts = opened.store.ledger.query("SELECT model, COUNT(*) AS n FROM vectors GROUP BY model")
    assert [(row["model"], row["n"]) for row in counts] == [(MINILM_NAME, 9)]
