"""Opening fast: the vector index opens on its own thread while the ledger serves reads,
and a passphrase's key can be derived before the store is opened."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reverie.core.compose import open_reverie
from reverie.core.errors import StoreError
from reverie.core.store import store as store_module
from reverie.core.store.keys import PassphraseRequest, PreparedUnlocker, Unlocker
from reverie.core.store.store import Store
from reverie.models.base import LLM, Embedder
from tests.keyring_double import MemoryKeyring

MODEL = "test-model"


@pytest.fixture
def filled(tmp_path: Path, bundled_embedder: Embedder, bundled_llm: LLM,
           memory_keyring: MemoryKeyring, sample_chat: Path) -> Path:
    """A data directory holding the sample chat, closed again."""
    data = tmp_path / "data"
    facade = open_reverie(data, llm=bundled_llm, embedder=bundled_embedder)
    facade.import_file(sample_chat, extract=False)
    facade.close()
    return data


def test_the_ledger_reads_at_once_and_search_waits_for_the_index(
    filled: Path, bundled_embedder: Embedder, bundled_llm: LLM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    let_go = threading.Event()
    real_open = Store._open_index

    def slow_open(self: Store) -> store_module.VectorIndex:
        assert let_go.wait(30)
        return real_open(self)

    monkeypatch.setattr(Store, "_open_index", slow_open)
    facade = open_reverie(filled, llm=bundled_llm, embedder=bundled_embedder,
                          index_in_background=True)
    try:
        assert not facade.store.index_ready
        assert facade.timeline_days(0, 10)  # the ledger answers while the index waits
        found: list[int] = []
        searching = threading.Thread(target=lambda: found.append(
            len(facade.search("oat milk", k=3))))
        searching.start()
        searching.join(0.5)
        assert searching.is_alive(), "a search must wait for the index, not fail"
        let_go.set()
        searching.join(30)
        assert found == [3]
        assert facade.store.index_ready
    finally:
        let_go.set()
        facade.close()


def test_an_index_that_cannot_open_says_so_where_it_is_needed(
    filled: Path, bundled_embedder: Embedder, bundled_llm: LLM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: Store) -> store_module.VectorIndex:
        raise OSError("disk on fire")

    monkeypatch.setattr(Store, "_open_index", broken)
    facade = open_reverie(filled, llm=bundled_llm, embedder=bundled_embedder,
                          index_in_background=True)
    try:
        assert facade.timeline_days(0, 10)
        with pytest.raises(StoreError, match=r"search index could not be opened.*disk on fire"):
            facade.search("oat milk", k=3)
    finally:
        facade.close()
    monkeypatch.undo()
    # Nothing was damaged: opened the usual way, it searches.
    again = open_reverie(filled, llm=bundled_llm, embedder=bundled_embedder)
    try:
        assert again.search("oat milk", k=3)
    finally:
        again.close()


def test_closing_while_the_index_opens_waits_for_it_and_frees_the_directory(
    filled: Path, bundled_embedder: Embedder, bundled_llm: LLM,
) -> None:
    facade = open_reverie(filled, llm=bundled_llm, embedder=bundled_embedder,
                          index_in_background=True)
    facade.close()  # at once: the opener is most likely still in Chroma
    again = open_reverie(filled, llm=bundled_llm, embedder=bundled_embedder,
                         index_in_background=True)
    try:
        assert again.search("oat milk", k=3)
    finally:
        again.close()


def asker(*answers: str) -> tuple[Unlocker, list[PassphraseRequest]]:
    """An unlocker without keyring answering passphrase prompts in turn, and its prompts."""
    queue = list(answers)
    asked: list[PassphraseRequest] = []

    def ask(request: PassphraseRequest) -> str | None:
        asked.append(request)
        return queue.pop(0) if queue else None

    return Unlocker(None, ask), asked


def test_a_prepared_unlocker_asks_before_opening_and_still_retries(tmp_path: Path) -> None:
    create, _ = asker("right horse battery")
    Store(tmp_path, MODEL, create).close()

    first, asked = asker("right horse battery")
    prepared = PreparedUnlocker(first, tmp_path)
    assert asked == [PassphraseRequest.UNLOCK]  # derived before any store was opened
    Store(tmp_path, MODEL, prepared).close()
    assert asked == [PassphraseRequest.UNLOCK]

    wrong_then_right, asked = asker("wrong horse", "right horse battery")
    Store(tmp_path, MODEL, PreparedUnlocker(wrong_then_right, tmp_path)).close()
    assert asked == [PassphraseRequest.UNLOCK, PassphraseRequest.RETRY]


def test_a_prepared_unlocker_for_a_new_directory_creates_as_usual(tmp_path: Path) -> None:
    create, asked = asker("a brand new passphrase")
    prepared = PreparedUnlocker(create, tmp_path)
    assert asked == []  # nothing to unlock yet
    Store(tmp_path, MODEL, prepared).close()
    assert asked == [PassphraseRequest.CREATE]
    reopen, _ = asker("a brand new passphrase")
    Store(tmp_path, MODEL, reopen).close()


RUNTIMES_PROBE = """
import sys
from reverie.core.compose import open_reverie
from reverie.models import default_embedder, default_llm
llm, embedder = default_llm(), default_embedder()
facade = open_reverie(sys.argv[1], llm=llm, embedder=embedder)
before = [name in sys.modules for name in ("llama_cpp", "onnxruntime")]
facade.import_runtimes()
after = [name in sys.modules for name in ("llama_cpp", "onnxruntime")]
print(before, after, llm.is_loaded, embedder._runtime is not None)
facade.close()
"""


def test_runtimes_are_imported_ahead_and_the_models_still_load_lazily(
    tmp_path: Path, memory_keyring: MemoryKeyring,
) -> None:
    # A fresh interpreter: this one has imported both libraries long ago.
    env = {**os.environ, "REVERIE_PASSPHRASE": "a passphrase for the probe"}
    done = subprocess.run([sys.executable, "-c", RUNTIMES_PROBE, str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == "[False, False] [True, True] False False"
