"""A recording LLM proxy, and a replay of what it recorded straight through llama-cpp.

`RecordingLLM` wraps any `reverie.models.base.LLM` and keeps, for every `chat` call,
the messages, the JSON schema, `max_tokens`, the text generated and the wall time of the
call. `replay_raw` then sends the same prompts to a `llama_cpp.Llama` opened on the same
GGUF file with the same context, threads and sampling settings as `LlamaCppLLM`, with
none of Reverie around it: the speed the model itself reaches on those prompts.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reverie.core.errors import Cancelled
from reverie.models import hardware
from reverie.models.base import LLM, ChatMessage, TokenCallback
from reverie.models.llm import DEFAULT_REPEAT_PENALTY, DEFAULT_SEED, LlamaCppLLM

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar

# What LlamaCppLLM.chat passes besides temperature and the repeat penalty.
_SAMPLING: dict[str, Any] = {"top_k": 40, "top_p": 0.95, "min_p": 0.05}
RAW_SEED = 1234  # which prompts `--raw-sample` replays


@dataclass(frozen=True)
class Call:
    """One recorded `chat` call.

    `cancelled` calls were stopped by the caller (the extractor's per-call deadline);
    `output` is then what had been generated until then.
    """

    messages: tuple[ChatMessage, ...]
    json_schema: Mapping[str, Any] | None
    max_tokens: int
    temperature: float
    output: str
    seconds: float
    cancelled: bool = False


class RecordingLLM:
    """An `LLM` that delegates to another and records every `chat` call.

    Thread-safe: calls may come from any thread. Recording adds one list append and a
    clock read per call; tokens are counted afterwards, outside the timed import.
    """

    def __init__(self, inner: LLM) -> None:
        """Wrap `inner`; nothing is recorded yet."""
        self._inner = inner
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self._inner.name

    @property
    def context_size(self) -> int:
        """The wrapped model's context window."""
        return self._inner.context_size

    @property
    def calls(self) -> list[Call]:
        """The calls recorded so far, in the order they finished."""
        with self._lock:
            return list(self._calls)

    def count_tokens(self, text: str) -> int:
        """Delegated to the wrapped model."""
        return self._inner.count_tokens(text)

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
        """Delegate to the wrapped model, recording the call (a cancelled one too)."""
        pieces: list[str] = []

        def heard(piece: str) -> None:
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)

        copied = tuple(ChatMessage(role=m["role"], content=m["content"]) for m in messages)
        started = time.perf_counter()
        try:
            output = self._inner.chat(
                messages, max_tokens=max_tokens, temperature=temperature,
                json_schema=json_schema, on_token=heard, cancel=cancel, stop=stop,
            )
        except Cancelled:
            self._record(Call(copied, json_schema, max_tokens, temperature, "".join(pieces),
                              time.perf_counter() - started, cancelled=True))
            raise
        self._record(Call(copied, json_schema, max_tokens, temperature, output,
                          time.perf_counter() - started))
        return output

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)


@dataclass(frozen=True)
class RawRun:
    """The replay of some recorded calls straight through llama-cpp."""

    calls: int
    tokens: int
    seconds: float
    identical: int  # replies equal to the pipeline's (greedy decoding: expect all)

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second of replay (prompt reading included)."""
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")


def replay_raw(
    model_path: Path,
    calls: Sequence[Call],
    *,
    n_ctx: int,
    n_threads: int,
    gpu_layers: int = 0,
) -> RawRun:
    """Send `calls`' prompts, in order, to a fresh `llama_cpp.Llama` and time them.

    The model is opened with the settings `LlamaCppLLM` uses (context, threads, seed,
    the chat template of the GGUF) and each prompt is generated non-streaming with the
    same sampling settings, grammar and `max_tokens`; loading is not timed. A cancelled
    call is replayed up to the tokens it had produced. Tokens are counted with the
    model's own tokenizer, as `LlamaCppLLM.count_tokens` counts them.
    """
    from llama_cpp import Llama

    llama = Llama(
        model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads,
        n_threads_batch=n_threads, n_gpu_layers=gpu_layers, seed=DEFAULT_SEED,
        chat_format=None, verbose=False,
    )
    try:
        grammars: dict[str, LlamaGrammar] = {}
        tokens = identical = 0
        seconds = 0.0
        for call in calls:
            limit = call.max_tokens
            if call.cancelled:
                limit = max(1, count_tokens(llama, call.output))
            grammar = _grammar(grammars, call.json_schema)
            started = time.perf_counter()
            reply = llama.create_chat_completion(
                messages=cast(Any, [dict(m) for m in call.messages]),
                max_tokens=limit, temperature=call.temperature, grammar=grammar,
                repeat_penalty=DEFAULT_REPEAT_PENALTY, seed=DEFAULT_SEED, **_SAMPLING,
            )
            seconds += time.perf_counter() - started
            text = cast(dict[str, Any], reply)["choices"][0]["message"]["content"] or ""
            tokens += count_tokens(llama, text)
            identical += text == call.output
        return RawRun(len(calls), tokens, seconds, identical)
    finally:
        llama.close()


def count_tokens(llama: Llama, text: str) -> int:
    """Tokens of `text` for `llama`, without special tokens (as `LlamaCppLLM` counts)."""
    if not text:
        return 0
    return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def _grammar(
    cache: dict[str, LlamaGrammar], schema: Mapping[str, Any] | None
) -> LlamaGrammar | None:
    if schema is None:
        return None
    from llama_cpp.llama_grammar import LlamaGrammar

    key = json.dumps(schema)  # key order kept, as LlamaCppLLM does
    if key not in cache:
        cache[key] = LlamaGrammar.from_json_schema(key, verbose=False)
    return cache[key]


def ratio(part: float, whole: float) -> float | None:
    """part / whole, or None when whole is 0 (json has no NaN)."""
    return part / whole if whole else None


def speed(
    llm: LlamaCppLLM, calls: Sequence[Call], wall: float, *, raw: bool, sample: int | None
) -> dict[str, Any]:
    """The speed figures of one import that made `calls` in `wall` seconds.

    With `raw`, `llm` is closed (one copy of the model in memory at a time) and the
    calls, or a seeded sample of `sample` of them in their order, are replayed raw.
    The raw tok/s (`raw.tps`) stands for every call: with a sample, the sample's raw
    tokens and seconds are scaled by the ratios of all calls' tokens and LLM time to
    the sample's (a ratio estimate; with every call replayed both ratios are 1).
    `raw.sample_tps` and `raw.pipeline_llm_tps_on_sample` compare the two on the
    sample itself.
    """
    tokens = sum(llm.count_tokens(c.output) for c in calls)
    llm_seconds = sum(c.seconds for c in calls)
    replayed: dict[str, Any] | None = None
    if raw and calls:
        chosen: Sequence[int] = range(len(calls))
        if sample is not None and sample < len(calls):
            chosen = sorted(random.Random(RAW_SEED).sample(chosen, sample))
        picked = [calls[i] for i in chosen]
        n_ctx, gpu = llm.context_size, llm.gpu_offload
        llm.close()
        run = replay_raw(llm.path, picked, n_ctx=n_ctx, n_threads=hardware.llm_threads(),
                         gpu_layers=-1 if gpu else 0)
        picked_tokens = sum(llm.count_tokens(c.output) for c in picked)
        picked_seconds = sum(c.seconds for c in picked)
        # A sample stands for every call in the proportions the pipeline saw: its
        # share of the tokens, and of the time spent in the model.
        all_tokens = run.tokens * (ratio(tokens, picked_tokens) or 1.0)
        all_seconds = run.seconds * (ratio(llm_seconds, picked_seconds) or 1.0)
        replayed = {
            "calls": run.calls, "tokens": run.tokens, "seconds": run.seconds,
            "identical_replies": run.identical, "sample_tps": run.tokens_per_second,
            "pipeline_llm_tps_on_sample": ratio(picked_tokens, picked_seconds),
            "all_tokens": all_tokens, "all_seconds": all_seconds,
            "tps": ratio(all_tokens, all_seconds),
        }
    return with_shares({
        "llm_calls": len(calls), "cancelled_calls": sum(c.cancelled for c in calls),
        "tokens": tokens, "wall_seconds": wall, "llm_seconds": llm_seconds, "raw": replayed,
    })


def pooled_speed(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The speed figures of several imports taken together."""
    raws = [r["raw"] for r in runs if r["raw"]]
    raw_tokens = sum(r["all_tokens"] for r in raws)
    raw_seconds = sum(r["all_seconds"] for r in raws)
    return with_shares({
        "llm_calls": sum(r["llm_calls"] for r in runs),
        "cancelled_calls": sum(r["cancelled_calls"] for r in runs),
        "tokens": sum(r["tokens"] for r in runs),
        "wall_seconds": sum(r["wall_seconds"] for r in runs),
        "llm_seconds": sum(r["llm_seconds"] for r in runs),
        "raw": {"calls": sum(r["calls"] for r in raws), "all_tokens": raw_tokens,
                "all_seconds": raw_seconds, "tps": ratio(raw_tokens, raw_seconds)}
        if raws else None,
    })


def with_shares(figures: dict[str, Any]) -> dict[str, Any]:
    """`figures` plus the rates and shares derived from its counts and times."""
    tokens, wall, in_llm = figures["tokens"], figures["wall_seconds"], figures["llm_seconds"]
    pipeline = ratio(tokens, wall)
    raw_tps = figures["raw"]["tps"] if figures["raw"] else None
    return figures | {
        "pipeline_tps": pipeline, "llm_tps": ratio(tokens, in_llm),
        "llm_share": ratio(in_llm, wall), "rest_share": ratio(wall - in_llm, wall),
        "overhead": 1 - pipeline / raw_tps if pipeline is not None and raw_tps else None,
        # The part of the overhead inside the model calls (streaming, the wrapper).
        "llm_call_overhead": 1 - tokens / in_llm / raw_tps if in_llm and raw_tps else None,
    }
