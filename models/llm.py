"""The local chat model: a GGUF file run by llama-cpp-python.

`llama_cpp` is imported on first load, not at module import, so that the CLI and the
app start without paying for the native library.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reverie.core.errors import Cancelled, ModelError
from reverie.models import _llama_log, devices, hardware
from reverie.models._prefix_cache import PrefixStates, prompt_family
from reverie.models.base import LLM, ChatMessage, TokenCallback
from reverie.models.bundled import BUNDLED_LLM
from reverie.models.gguf import GgufInfo, read_gguf
from reverie.models.placement import Placement, check_memory, fallback_layers, plan_placement

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar
    from llama_cpp.llama_types import (
        ChatCompletionRequestMessage,
        CreateChatCompletionStreamResponse,
    )

__all__ = ["LlamaCppLLM", "check_loadable", "default_llm"]

log = logging.getLogger("reverie.models.llm")

DEFAULT_CONTEXT = 4096
"""Tokens of context asked for; clamped to what the model was trained on."""

DEFAULT_SEED = 1234
"""Fixed sampling seed: the same prompt at the same temperature gives the same text."""

DEFAULT_REPEAT_PENALTY = 1.1
"""Small models loop without it, most of all when writing JSON."""


class LlamaCppLLM:
    """A GGUF chat model run on the CPU (or offloaded to a GPU when llama-cpp can).

    Implements `reverie.models.base.LLM`. The model is loaded on first use; loading
    and generation are thread-safe and generations are serialised. The chat template
    is the one stored in the GGUF file's metadata.
    """

    def __init__(
        self,
        model_path: Path | str,
        *,
        n_ctx: int = DEFAULT_CONTEXT,
        n_threads: int | None = None,
        gpu_layers: int | None = None,
        seed: int = DEFAULT_SEED,
        repeat_penalty: float = DEFAULT_REPEAT_PENALTY,
    ) -> None:
        """Describe the model to run; nothing is read until the first use.

        `n_threads` defaults to `hardware.llm_threads()` (all processors but one).
        `gpu_layers` is how many layers to offload to the GPU: None chooses from the
        free GPU memory (`placement.plan_placement`), 0 keeps the model on the CPU and
        a negative number offloads every layer. A load that fails on the GPU is tried
        again with fewer layers, then on the CPU alone (see `notice`).
        """
        if n_ctx < 1:
            raise ValueError(f"n_ctx must be positive, not {n_ctx}")
        self._path = Path(model_path)
        self._requested_ctx = n_ctx
        self._n_threads = n_threads or hardware.llm_threads()
        self._gpu_layers = gpu_layers
        self._placement: Placement | None = None
        self._notice: str | None = None
        self._seed = seed
        self._repeat_penalty = repeat_penalty
        self._llama: Llama | None = None
        self._info: GgufInfo | None = None
        self._control_texts: tuple[str, ...] = ()
        self._load_seconds: float | None = None
        # Re-entrant: count_tokens holds it around `_loaded()`, which may load.
        self._load_lock = threading.RLock()
        self._generate_lock = threading.Lock()
        self._prefixes = PrefixStates()

    @property
    def name(self) -> str:
        """The model file's name without its extension."""
        return self._path.stem

    @property
    def path(self) -> Path:
        """The GGUF file."""
        return self._path

    @property
    def gpu_offload(self) -> bool:
        """Whether layers are offloaded to a GPU (before loading: whether they may be)."""
        if self._placement is not None:
            return self._placement.on_gpu
        return self._gpu_layers != 0 and hardware.gpu_offload_supported()

    @property
    def placement(self) -> Placement | None:
        """Where the loaded model's layers went, and why; None before loading."""
        return self._placement

    @property
    def notice(self) -> str | None:
        """What went wrong on the way to loading, when the model runs with fewer GPU
        layers than planned (or on the CPU); None when the plan held."""
        return self._notice

    @property
    def is_loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._llama is not None

    @property
    def prefix_states(self) -> PrefixStates:
        """The saved prompt-family states (their `loads` and `saves` counters)."""
        return self._prefixes

    @property
    def load_seconds(self) -> float | None:
        """How long loading took, or None before the model is loaded."""
        return self._load_seconds

    @property
    def context_size(self) -> int:
        """The context window in tokens (loads the model to learn its trained size)."""
        return self._loaded().n_ctx()

    def load(self) -> None:
        """Load the model now rather than on first use; raises `ModelError`."""
        self._loaded()

    def close(self) -> None:
        """Free the model's memory; the next use loads it again."""
        with self._generate_lock, self._load_lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None
                self._prefixes.forget()

    def import_runtime(self) -> None:
        """Import llama.cpp and read the model file's header now (`NativeRuntime`): the
        weights still load on first use. Reading the header is a Python loop over the
        whole vocabulary (about 0.1 s), which would otherwise slow the window while the
        first extraction starts."""
        _llama_log.import_llama()
        if self._path.is_file():
            self._header()

    def _header(self) -> GgufInfo:
        """The model file's header, read once."""
        if self._info is None:
            self._info = read_gguf(self._path)
        return self._info

    def count_tokens(self, text: str) -> int:
        """How many of this model's tokens `text` takes, without special tokens."""
        if not text:
            return 0
        # llama.cpp's tokenizer only reads the vocabulary, so it may run beside a
        # generation; the load lock only keeps `close` from freeing it meanwhile.
        with self._load_lock:
            tokens = self._loaded().tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return len(tokens)

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        json_schema: Mapping[str, Any] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        stop: Sequence[str] = (),
    ) -> str:
        """Generate the assistant's reply to `messages`; see `LLM.chat`.

        At temperature 0 decoding is greedy; above it, sampling uses a fixed seed, so
        a prompt always gets the same answer. A prompt longer than the context raises
        ValueError (callers budget with `count_tokens`). `cancel` is checked before
        the prompt is read and between generated pieces (reading a long prompt cannot
        be interrupted); when set, `Cancelled` is raised and the model stays usable.
        Text in the messages that spells one of the model's control tokens (such as
        "<|im_end|>") is broken up with a zero-width non-joiner, so that a document
        cannot close its own turn and speak as the system: content stays data.
        """
        if max_tokens < 1:
            # llama-cpp reads 0 or less as "until the context is full".
            raise ValueError(f"max_tokens must be positive, not {max_tokens}")
        # Key order is kept: the grammar makes the model write properties in schema order.
        with self._generate_lock:
            llama = self._loaded()
            # After the load: the grammar module comes with the library, imported there.
            grammar = _grammar_for(json.dumps(json_schema)) if json_schema else None
            if cancel is not None and cancel.is_set():
                raise Cancelled("generation cancelled before it started")
            self._prefixes.before(llama, prompt_family(messages))
            started = time.perf_counter()
            # stream=True makes the result an iterator of chunks; the declared
            # return type is the union with the non-streaming response.
            chunks = cast(
                "Iterator[CreateChatCompletionStreamResponse]",
                llama.create_chat_completion(
                    messages=self._request_messages(messages),
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_k=40,
                    top_p=0.95,
                    min_p=0.05,
                    repeat_penalty=self._repeat_penalty,
                    seed=self._seed,
                    grammar=grammar,
                    stop=list(stop),
                    stream=True,
                ),
            )
            pieces: list[str] = []
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("generation cancelled")
                    piece = chunk["choices"][0]["delta"].get("content")
                    if isinstance(piece, str) and piece:
                        pieces.append(piece)
                        if on_token is not None:
                            on_token(piece)
            finally:
                # Closing the generator unwinds llama-cpp's generate loop now rather
                # than at garbage collection, leaving its token/KV state consistent
                # for the next call (which reuses the matching prompt prefix).
                if isinstance(chunks, Generator):
                    chunks.close()
            elapsed = time.perf_counter() - started
            log.debug("%s: %d pieces in %.2f s", self.name, len(pieces), elapsed)
            return "".join(pieces)

    def _request_messages(
        self, messages: Sequence[ChatMessage]
    ) -> list[ChatCompletionRequestMessage]:
        request = []
        for message in messages:
            if message["role"] not in _ROLES:
                # The chat template would render an unknown role as text the model
                # never saw in training; better to fail loudly at the caller.
                raise ValueError(f"unknown chat role {message['role']!r}")
            request.append({"role": message["role"], "content": self._defang(message["content"])})
        return cast("list[ChatCompletionRequestMessage]", request)

    def _defang(self, content: str) -> str:
        # llama-cpp tokenizes the rendered prompt with special=True, so control-token
        # text inside content would become the real control token.
        for control in self._control_texts:
            if control in content:
                content = content.replace(control, control[0] + _ZWNJ + control[1:])
        return content

    def _loaded(self) -> Llama:
        llama = self._llama
        if llama is not None:
            return llama
        with self._load_lock:
            if self._llama is None:
                started = time.perf_counter()
                llama = self._load()
                # Set before `_llama`: the unlocked fast path above must see both.
                self._control_texts = _control_texts(llama)
                self._load_seconds = time.perf_counter() - started
                self._llama = llama
                log.info(
                    "loaded %s in %.2f s (n_ctx %d, %d threads, GPU offload %s)",
                    self._path,
                    self._load_seconds,
                    llama.n_ctx(),
                    self._n_threads,
                    "on" if self.gpu_offload else "off",
                )
            return self._llama

    def _load(self) -> Llama:
        if not self._path.is_file():
            raise ModelError(f"The language model file {self._path} does not exist")
        info = self._header()
        # Past its trained context a model degrades; llama-cpp only warns about it.
        n_ctx = min(self._requested_ctx, info.context_length or self._requested_ctx)
        found = devices.list_devices()
        supported = hardware.gpu_offload_supported()

        def place(requested: int | None) -> Placement:
            return plan_placement(info, n_ctx, found, offload_supported=supported,
                                  requested=requested)

        plan = place(self._gpu_layers)
        check_memory(plan, hardware.ram_available_bytes(), f"The language model {self.name}")
        log.info("%s: %s", self.name, plan.reason)
        return self._open_with_fallback(n_ctx, plan, place)

    def _open_with_fallback(
        self, n_ctx: int, plan: Placement, place: Callable[[int], Placement]
    ) -> Llama:
        failures: list[str] = []
        for layers in fallback_layers(plan.gpu_layers):
            try:
                llama = self._open(n_ctx, layers)
            except ModelError as error:
                if layers == 0:
                    raise
                failures.append(f"{layers} layers: {error}")
                log.warning("%s: loading with %d GPU layers failed: %s", self.name, layers, error)
                continue
            self._placement = plan
            if failures:
                where = f"{layers} layers on the GPU" if layers else "the CPU alone"
                self._notice = (f"The GPU could not load {self.name} as planned "
                                f"({failures[0]}); it runs with {where}.")
                self._placement = replace(place(layers), reason=f"{where} after a failure "
                                          f"(planned: {plan.reason})")
            return llama
        raise AssertionError("fallback_layers always ends with the CPU")  # pragma: no cover

    def _open(self, n_ctx: int, gpu_layers: int) -> Llama:
        return _llama_log.open_llama(
            f"Cannot load the language model {self._path}",
            model_path=str(self._path),
            n_ctx=n_ctx,
            n_threads=self._n_threads,
            n_threads_batch=self._n_threads,
            n_gpu_layers=gpu_layers,
            seed=self._seed,
            # chat_format=None: the template comes from the GGUF metadata.
            chat_format=None,
            verbose=False,
        )


_ROLES = frozenset({"system", "user", "assistant"})
_ZWNJ = "\u200c"


def _control_texts(llama: Llama) -> tuple[str, ...]:
    import llama_cpp  # already imported by the load

    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    texts = {
        llama_cpp.llama_vocab_get_text(vocab, token).decode("utf-8", errors="replace")
        for token in range(llama_cpp.llama_vocab_n_tokens(vocab))
        if llama_cpp.llama_vocab_is_control(vocab, token)
    }
    # Longest first, so that a control token containing another is broken up whole.
    return tuple(sorted((t for t in texts if len(t) > 1), key=len, reverse=True))


@functools.lru_cache(maxsize=64)
def _grammar_for(schema_json: str) -> LlamaGrammar:
    from llama_cpp.llama_grammar import LlamaGrammar  # on demand: see module docstring

    # We convert the schema ourselves: given it through response_format, llama-cpp
    # falls back to "any JSON" without a word when it cannot convert a schema.
    try:
        return LlamaGrammar.from_json_schema(schema_json, verbose=False)
    except Exception as error:  # the converter raises AssertionError, KeyError, ...
        raise ValueError(f"JSON schema not supported by llama-cpp's grammar: {error}") from error


def check_loadable(path: Path) -> None:
    """Have llama.cpp open `path`'s vocabulary and hyper-parameters (well under a
    second, no weights); `ModelError` with llama.cpp's reason when it cannot, such as
    an architecture this build does not know."""
    _llama_log.open_llama(f"{path}: llama.cpp cannot open it", model_path=str(path),
                          vocab_only=True, verbose=False).close()


def default_llm(*, n_ctx: int = DEFAULT_CONTEXT, gpu_layers: int | None = None) -> LlamaCppLLM:
    """The bundled SmolLM2-135M-Instruct, located and verified but not yet loaded.

    Raises `ModelError` when the bundled model is missing or damaged.
    """
    return LlamaCppLLM(BUNDLED_LLM.verify(), n_ctx=n_ctx, gpu_layers=gpu_layers)


if TYPE_CHECKING:

    def _implements_protocol(model: LlamaCppLLM) -> LLM:
        # mypy checks here that LlamaCppLLM conforms to the LLM protocol.
        return model
