"""Where Reverie's models come from and how they run.

The engine depends only on the `LLM` and `Embedder` interfaces; `LlamaCppLLM` and
`OnnxEmbedder` are their implementations, and `default_llm()` / `default_embedder()`
build them over the bundled model files. Importing this package loads no model and
no native runtime: llama_cpp and onnxruntime are imported on first use.
"""

from reverie.models.base import LLM, ChatMessage, Embedder, TokenCallback
from reverie.models.bundled import (
    BUNDLED_EMBEDDER,
    BUNDLED_FILES,
    BUNDLED_LLM,
    BUNDLED_TOKENIZER,
    BundledFile,
    verify_sha256,
)
from reverie.models.doctor import ModelCheck, check_models
from reverie.models.embedder import OnnxEmbedder, default_embedder
from reverie.models.hardware import (
    cpu_count,
    gpu_offload_supported,
    ram_available_bytes,
    ram_total_bytes,
)
from reverie.models.llm import LlamaCppLLM, default_llm

__all__ = [
    "BUNDLED_EMBEDDER",
    "BUNDLED_FILES",
    "BUNDLED_LLM",
    "BUNDLED_TOKENIZER",
    "LLM",
    "BundledFile",
    "ChatMessage",
    "Embedder",
    "LlamaCppLLM",
    "ModelCheck",
    "OnnxEmbedder",
    "TokenCallback",
    "check_models",
    "cpu_count",
    "default_embedder",
    "default_llm",
    "gpu_offload_supported",
    "ram_available_bytes",
    "ram_total_bytes",
    "verify_sha256",
]
