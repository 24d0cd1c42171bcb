"""A health check of the models: found, intact, loadable, and producing output.

Used by the CLI's doctor command. Every problem is reported in the result, never
raised, so one broken model does not hide the state of the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from reverie.core.errors import ModelError
from reverie.models.bundled import BUNDLED_EMBEDDER, BUNDLED_LLM, BUNDLED_TOKENIZER, BundledFile
from reverie.models.embedder import OnnxEmbedder
from reverie.models.gguf import read_gguf
from reverie.models.llm import LlamaCppLLM
from reverie.models.registry import ModelEntry

__all__ = ["ModelCheck", "check_models"]

log = logging.getLogger("reverie.models.doctor")

# A question with a checkable answer: SmolLM2-135M says "The answer is 4."
_SAMPLE_PROMPT = "What is 2 + 2?"
_SAMPLE_MAX_TOKENS = 24
_TOKENIZER_SAMPLE = "Reverie remembers what you tell it."
_RELATED_SENTENCES = (
    "I had coffee with Anna this morning.",
    "This morning Anna and I met for a coffee.",
)


@dataclass(frozen=True)
class ModelCheck:
    """What the doctor found out about one model file."""

    name: str
    """The file's name without its folders."""
    role: str
    """"llm", "embedder" or "tokenizer"."""
    path: Path | None
    """Where the file is, or None when it could not be found."""
    sha256_ok: bool | None
    """Whether the file matched its expected digest; None when it was not checked."""
    error: str | None
    """The first problem met, in words for the user; None when all went well."""
    load_seconds: float | None = None
    """How long loading took, when it was loaded."""
    sample: str | None = None
    """What a small real run produced (LLM: its reply; embedder: dim, norm, cosine)."""
    sample_ms: float | None = None
    """How long that run took, in milliseconds."""
    gpu_offload: bool = False
    """Whether the model runs with its layers offloaded to a GPU."""
    placement: str | None = None
    """Where a language model's layers went and why (`Placement.reason`)."""
    notice: str | None = None
    """What failed on the way, when the model loaded with fewer GPU layers than planned."""

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.error is None


def check_models(
    *, llm_path: Path | None = None, added: Sequence[ModelEntry] = ()
) -> list[ModelCheck]:
    """Check the LLM, the embedder and its tokenizer, running each once for real.

    `llm_path` checks a user-chosen GGUF file instead of the bundled LLM (its digest
    is then unknown and not checked); `added` are user-added models to check after it
    (with their GPU layer settings). Never raises for a broken model.
    """
    tokenizer_check = _check_tokenizer()
    return [
        _check_llm(llm_path),
        *(_check_llm(Path(entry.path), entry.gpu_layers) for entry in added),
        _check_embedder(tokenizer_check),
        tokenizer_check,
    ]


def _check_file(bundled: BundledFile) -> ModelCheck:
    try:
        path = bundled.locate()
    except ModelError as error:
        return ModelCheck(bundled.file_name, bundled.role, None, None, str(error))
    try:
        bundled.verify()
    except ModelError as error:
        return ModelCheck(bundled.file_name, bundled.role, path, False, str(error))
    return ModelCheck(bundled.file_name, bundled.role, path, True, None)


def _check_tokenizer() -> ModelCheck:
    found = _check_file(BUNDLED_TOKENIZER)
    if found.error is not None or found.path is None:
        return found
    try:
        from tokenizers import Tokenizer  # a native library, loaded on demand

        started = time.perf_counter()
        tokenizer = Tokenizer.from_file(str(found.path))
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        tokens = tokenizer.encode(_TOKENIZER_SAMPLE).tokens
        ms = (time.perf_counter() - started) * 1000
    except Exception as error:  # reported, never raised: see the module docstring
        return replace(found, error=_describe(error))
    sample = " ".join(token for token in tokens if token != "[PAD]")
    return replace(found, load_seconds=load_seconds, sample=sample, sample_ms=ms)


def _check_llm(llm_path: Path | None, gpu_layers: int | None = None) -> ModelCheck:
    if llm_path is None:
        found = _check_file(BUNDLED_LLM)
        if found.error is not None or found.path is None:
            return found
        path, sha256_ok = found.path, found.sha256_ok
    else:
        path, sha256_ok = llm_path, None
    llm = LlamaCppLLM(path, gpu_layers=gpu_layers)
    base = ModelCheck(path.name, "llm", path, sha256_ok, None, gpu_offload=llm.gpu_offload)
    try:
        llm.load()
        base = replace(base, gpu_offload=llm.gpu_offload, notice=llm.notice,
                       placement=llm.placement.reason if llm.placement else None)
        started = time.perf_counter()
        sample = llm.chat(
            [{"role": "user", "content": _SAMPLE_PROMPT}], max_tokens=_SAMPLE_MAX_TOKENS
        )
        ms = (time.perf_counter() - started) * 1000
    except Exception as error:  # reported, never raised: see the module docstring
        return replace(base, error=_describe(error), load_seconds=llm.load_seconds)
    finally:
        llm.close()
    if not sample.strip():
        problem = "The model loaded but generated no text"
        if read_gguf(path).chat_template is None:
            problem += (" (its file has no chat template, as a base model's has not: choose"
                        " an instruction-tuned model for chat)")
        return replace(base, error=problem, load_seconds=llm.load_seconds, sample_ms=ms)
    return replace(base, load_seconds=llm.load_seconds, sample=sample.strip(), sample_ms=ms)


def _check_embedder(tokenizer_check: ModelCheck) -> ModelCheck:
    found = _check_file(BUNDLED_EMBEDDER)
    if found.error is not None or found.path is None:
        return found
    if tokenizer_check.error is not None or tokenizer_check.path is None:
        return replace(found, error=f"Its tokenizer is unusable: {tokenizer_check.error}")
    embedder = OnnxEmbedder(found.path, tokenizer_check.path)
    try:
        embedder.load()
        started = time.perf_counter()
        vectors = embedder.embed(list(_RELATED_SENTENCES))
        ms = (time.perf_counter() - started) * 1000
    except Exception as error:  # reported, never raised: see the module docstring
        return replace(found, error=_describe(error), load_seconds=embedder.load_seconds)
    norm = float(np.linalg.norm(vectors[0]))
    cosine = float(vectors[0] @ vectors[1])
    sample = f"dim {vectors.shape[1]}, norm {norm:.4f}, cosine of related sentences {cosine:.3f}"
    return replace(found, load_seconds=embedder.load_seconds, sample=sample, sample_ms=ms)


def _describe(error: Exception) -> str:
    if isinstance(error, ModelError):
        return str(error)
    # Not one of our errors: a broken file can make the runtimes fail in odd ways.
    log.error("model check failed unexpectedly", exc_info=error)
    return f"{type(error).__name__}: {error}"
