"""Changing the embedder: everything is embedded again in the background, search
answers throughout, and a run killed with SIGKILL carries on where it stopped.

The new embedder is real: the bundled SmolLM2 GGUF run by llama-cpp in embedding mode
(576 dimensions, against MiniLM's 384), as a user's added embedding model would be.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.locomo import DEV_DIR, write_jsonl
from reverie.core.compose import open_reverie
from reverie.core.errors import Cancelled
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetTarget
from reverie.core.store.keys import Unlocker
from reverie.models import BUNDLED_LLM
from reverie.models.base import Embedder
from reverie.models.embedder import MINILM_NAME
from reverie.models.gguf_embedder import GgufEmbedder
from reverie.models.registry import ModelRegistry
from tests.ledger_access import CLI_PASSPHRASE, cli_env

pytestmark = pytest.mark.slow

TARGET = BUNDLED_LLM.file_name.removesuffix(".gguf")
QUERY = "pottery class at the Riverside studio"


@pytest.fixture(scope="module")
def smollm_embedder() -> Iterator[GgufEmbedder]:
    embedder = GgufEmbedder(BUNDLED_LLM.verify())
    yield embedder
    embedder.close()


ITEMS = 129  # 120 turns of LoCoMo's conv-30 and the 9 of the sample week with Sam


@pytest.fixture
def conversation(tmp_path: Path, sample_chat: Path) -> Path:
    """The first 120 turns of conv-30 and the sample week, as one chat file: about
    15 s of embedding with SmolLM2 on 2 cores."""
    jsonl = tmp_path / "chats.jsonl"
    write_jsonl(DEV_DIR / "conv-30.json", jsonl)
    turns = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)[:120]
    jsonl.write_text("".join(turns) + sample_chat.read_text(encoding="utf-8"), encoding="utf-8")
    return jsonl


def _vector_counts(reverie: Reverie) -> dict[str, int]:
    rows = reverie.store.ledger.query("SELECT model, COUNT(*) AS n FROM vectors GROUP BY model")
    return {str(row["model"]): int(row["n"]) for row in rows}


def _finds_the_pottery_class(reverie: Reverie) -> bool:
    hits = reverie.search(QUERY, k=5)
    return any("pottery class at the Riverside" in hit.text for hit in hits)


def test_search_answers_throughout_and_then_uses_the_new_model(
    tmp_path: Path, conversation: Path, bundled_embedder: Embedder,
    smollm_embedder: GgufEmbedder,
) -> None:
    reverie = open_reverie(tmp_path / "data", embedder=bundled_embedder)
    try:
        assert reverie.import_file(conversation, extract=False).episodes_added == ITEMS
        assert reverie.store.embedding_model == MINILM_NAME
        failures: list[BaseException] = []
        searched = {"before": 0, "after": 0}

        def job() -> None:
            try:
                reverie.reembed(smollm_embedder)
            except BaseException as error:  # reported to the test thread
                failures.append(error)

        worker = threading.Thread(target=job)
        worker.start()
        while worker.is_alive():
            assert _finds_the_pottery_class(reverie), "search answered with the wrong hits"
            side = "after" if reverie.store.embedding_model == TARGET else "before"
            searched[side] += 1
            time.sleep(0.2)  # a person searching, not a loop starving the job
        worker.join()
        assert not failures, failures
        assert searched["before"] >= 5, searched  # searched while embedding
        assert reverie.store.embedding_model == TARGET
        assert reverie.embedder.name == TARGET
        assert reverie.embedder.dim == 576
        assert _vector_counts(reverie) == {TARGET: ITEMS}
        assert reverie.store.index.count() == ITEMS
        assert reverie.reembed_pending() is None
        assert _finds_the_pottery_class(reverie)
        # New writes after the switch are embedded by the new model.
        memory_id, _ = reverie.memories.add("I glazed the lopsided bowl blue.")
        assert _vector_counts(reverie)[TARGET] == ITEMS + 1
        assert any(h.id == memory_id for h in reverie.search("blue glaze on my bowl", k=5))
    finally:
        reverie.close()


def test_forgotten_and_edited_items_are_right_after_a_reembedding(
    tmp_path: Path, sample_chat: Path, bundled_embedder: Embedder,
    smollm_embedder: GgufEmbedder,
) -> None:
    reverie = open_reverie(tmp_path / "data", embedder=bundled_embedder)
    try:
        reverie.import_file(sample_chat, extract=False)
        kept, _ = reverie.memories.add("Sam's marathon is in Lisbon.")
        gone, _ = reverie.memories.add("My locker code is 4471.")
        calls = 0

        class Meddling:
            """The new model, with the user editing and forgetting mid-run."""

            name, dim = smollm_embedder.name, smollm_embedder.dim

            def embed(self, texts: list[str]) -> object:
                nonlocal calls
                calls += 1
                if calls == 1:
                    reverie.memories.edit(kept, text="Sam's marathon is in Porto.")
                    forget = reverie.memories.plan_forget(ForgetTarget(memory_ids=(gone,)))
                    reverie.memories.forget(forget)
                return smollm_embedder.embed(texts)

        reverie.reembed(Meddling())  # type: ignore[arg-type]
        counts = _vector_counts(reverie)
        assert counts == {TARGET: 10}
        assert not reverie.store.ledger.query("SELECT 1 FROM vectors WHERE item_id = ?",
                                              (gone,))
        # The edited memory's vector is its new text's, made by the new model.
        [row] = reverie.store.ledger.query("SELECT vector FROM vectors WHERE item_id = ?",
                                           (kept,))
        stored = np.frombuffer(row["vector"], dtype=np.float32)
        expected = smollm_embedder.embed(["Sam's marathon is in Porto."])[0]
        assert np.allclose(stored, expected, atol=1e-5)
        assert reverie.search("marathon in Porto", k=5)[0].id == kept
        assert all("4471" not in hit.text for hit in reverie.search("locker code", k=10))
    finally:
        reverie.close()


def test_a_cancelled_run_keeps_its_work_and_search_keeps_the_old_model(
    tmp_path: Path, conversation: Path, bundled_embedder: Embedder,
    smollm_embedder: GgufEmbedder,
) -> None:
    reverie = open_reverie(tmp_path / "data", embedder=bundled_embedder)
    cancel = threading.Event()

    def progress(done: int, total: int, what: str) -> None:
        if what.startswith("embedding again") and done >= 64:
            cancel.set()

    try:
        reverie.import_file(conversation, extract=False)
        with pytest.raises(Cancelled):
            reverie.reembed(smollm_embedder, progress=progress, cancel=cancel)
        counts = _vector_counts(reverie)
        assert counts[MINILM_NAME] == ITEMS
        assert 64 <= counts[TARGET] < ITEMS
        assert reverie.store.embedding_model == MINILM_NAME
        assert reverie.reembed_pending() == TARGET
        assert _finds_the_pottery_class(reverie)
    finally:
        reverie.close()


def test_a_killed_reembedding_resumes_where_it_stopped(
    tmp_path: Path, conversation: Path, model_choices: Path, bundled_embedder: Embedder,
) -> None:
    data = tmp_path / "data"
    script = Path(sys.executable).with_name("reverie")
    env = cli_env()
    imported = subprocess.run([str(script), "--data-dir", str(data), "import", "--no-extract",
                               str(conversation)], capture_output=True, text=True, env=env,
                              timeout=300, check=False)
    assert imported.returncode == 0, imported.stderr
    ModelRegistry(model_choices).use("embedder", "smollm2-135m")
    with subprocess.Popen([str(script), "--data-dir", str(data), "reembed"], env=env,
                          stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) as job:
        assert job.stderr is not None
        for line in job.stderr:
            percent = re.search(r"\((\d+)%\)$", line.strip())
            if line.startswith(f"embedding again with {TARGET}") and percent \
                    and 40 <= int(percent[1]) < 100:
                break
        else:
            pytest.fail("the re-embedding never reported 40 %")
        os.kill(job.pid, signal.SIGKILL)
        job.wait()

    # Opened as the app opens it: the chosen embedder is SmolLM2, the store's is MiniLM.
    reverie = open_reverie(data, unlocker=Unlocker(None, lambda _request: CLI_PASSPHRASE))
    try:
        assert reverie.store.embedding_model == MINILM_NAME, "search keeps the old index"
        assert reverie.embedder.name == MINILM_NAME
        assert _finds_the_pottery_class(reverie)
        assert reverie.reembed_pending() == TARGET
        done_before = _vector_counts(reverie)[TARGET]
        assert 0.4 * ITEMS <= done_before < ITEMS
        report = reverie.reembed(GgufEmbedder(BUNDLED_LLM.verify()))
        assert report.embedded == ITEMS - done_before, "carried on; did not start again"
        assert _vector_counts(reverie) == {TARGET: ITEMS}
        assert reverie.store.embedding_model == TARGET
        assert _finds_the_pottery_class(reverie)
    finally:
        reverie.close()
    assert not (data / "index-next").exists()
