"""Extraction benchmark on the LoCoMo development split (GUIDE §6).

    python -m bench.extraction [--data DIR] [--conversations conv-30,...] [--max-turns N]
        [--model PATH] [--out FILE] [--no-raw] [--raw-sample N]

Each conversation is converted to chat JSONL (turn ids kept as locators) and imported
with extraction into a fresh store, the model (bundled SmolLM2, or any GGUF given with
`--model`) behind a recording proxy. Only the ledger is read afterwards: memories whose
status is active or superseded, the turns they cite (`memory_sources`), the turns.
Turns are matched by their LoCoMo `dia_id` (the episode's locator). Texts are compared
with the bundled embedder (L2-normalised vectors: cosine = dot). With `--max-turns N`
only the first N turns are imported, and only the gold facts all of whose evidence
turns are among them count.

- Gold-fact coverage@SIM: the share of gold facts (`session_N_observation`, each a
  text and its evidence turns) for which some memory cites one of the evidence turns
  and has cosine(fact, memory) >= SIM. The table shows SIM = 0.6; the json also 0.5
  and 0.7. Evidence-turn coverage: the share of gold facts with some memory citing an
  evidence turn, whatever it says (a ceiling for coverage).
- Unsupported rate: the share of memories that none of their cited turns supports. A
  turn supports a memory when the memory is about the turn's speaker (case-insensitive)
  and either at least half of the memory's content words occur in the turn (lower-case,
  stopwords and the speakers' names left out, words cut to 5 characters) or
  cosine(memory, turn) >= 0.5. This check is ours, independent of and looser than the
  extractor's own grounding filter; the json lists up to 50 unsupported memories per
  conversation for inspection.
- Duplicate rate: the share of active memories with an earlier active memory about the
  same person at cosine >= 0.92. Also memories per turn, kinds, and dropped statements
  (`ImportReport.memories_dropped`).
- Speed: pipeline tok/s is the tokens the LLM generated (counted with the model's
  tokenizer) over the wall time of the whole import (storing and embedding turns,
  prompting, grounding, writing memories); LLM tok/s the same tokens over the time
  spent inside LLM calls. Raw tok/s: right after each conversation the recorded
  prompts are replayed straight through llama-cpp (same GGUF, context, threads,
  sampling, grammar and max_tokens). With `--raw-sample N` only a seeded sample of N
  is replayed and its raw tok/s is scaled to all prompts by the ratio of the
  pipeline's LLM tok/s on all prompts to that on the sample. Overhead = 1 - pipeline
  tok/s / raw tok/s: the share of the import's time not spent generating (embedding,
  grounding, writing, and in the json `llm_call_overhead` = 1 - LLM tok/s / raw tok/s,
  the part lost inside the model calls). The overall row pools every conversation.
  The header gives the load average: other busy processes slow generation down.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bench._recording import RecordingLLM, pooled_speed, ratio, speed
from bench.locomo import DEV_DIR, write_jsonl
from bench.retrieval import BENCH_KEYS
from reverie.core.compose import open_reverie
from reverie.models import default_embedder, default_llm, hardware
from reverie.models.base import Embedder
from reverie.models.llm import LlamaCppLLM

SIM = 0.6
SIMS = (0.5, 0.6, 0.7)
WORD_SUPPORT = 0.5
COSINE_SUPPORT = 0.5
DUPLICATE_COSINE = 0.92
STEM_CHARS = 5
UNSUPPORTED_LISTED = 50
KEPT_STATUSES = ("active", "superseded")

Embed = Callable[[Sequence[str]], np.ndarray]
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a about after again all also am an and any are as at be been before being but by can could"
    " did do does doing for from had has have having he her here hers him his how i if in into"
    " is it its just me more most my no not now of on once only or other our out over own really"
    " same she so some such than that the their them then there these they this those to too"
    " under until up very was we were what when where which while who whom why will with would"
    " you your yours".split()
)


@dataclass(frozen=True)
class GoldFact:
    """A LoCoMo observation: who it is about, its text and its evidence turns."""

    speaker: str
    text: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Turn:
    """An imported turn (episode), by its LoCoMo `dia_id`."""

    locator: str
    speaker: str
    text: str


@dataclass(frozen=True)
class Memory:
    """An extracted memory and the locators of the turns it cites."""

    id: str
    text: str
    about: str
    kind: str
    status: str
    cites: tuple[str, ...]


def evidence_ids(raw: object) -> tuple[str, ...]:
    """Turn ids from a `dia_id` entry: "D1:2", "D1:2; D1:3", or a (nested) list."""
    if isinstance(raw, str):
        return tuple(part for part in re.split(r"[;,\s]+", raw) if part)
    if isinstance(raw, list | tuple):
        return tuple(ref for item in raw for ref in evidence_ids(item))
    return ()


def gold_facts(path: Path, turns: Collection[str] | None = None) -> list[GoldFact]:
    """The conversation's gold facts; with `turns`, only those all of whose evidence
    turns are among them (and that have any)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    facts = []
    for key in sorted(k for k in data if re.fullmatch(r"session_\d+_observation", k)):
        for speaker, entries in data[key].items():
            for text, *evidence in entries:
                refs = evidence_ids(evidence)
                if refs and (turns is None or all(ref in turns for ref in refs)):
                    facts.append(GoldFact(speaker, text, refs))
    return facts


def covered(
    facts: Sequence[GoldFact], memories: Sequence[Memory], embed: Embed, threshold: float
) -> list[bool]:
    """For each fact: does a memory citing one of its evidence turns say it (cosine of
    their vectors >= `threshold`)? `threshold` <= -1 reduces this to evidence-turn
    coverage."""
    if not facts or not memories:
        return [False] * len(facts)
    similarity = embed([f.text for f in facts]) @ embed([m.text for m in memories]).T
    return [
        any(
            similarity[i, j] >= threshold and set(memory.cites) & set(fact.evidence)
            for j, memory in enumerate(memories)
        )
        for i, fact in enumerate(facts)
    ]


def content_words(text: str, names: Collection[str] = ()) -> list[str]:
    """Lower-case words, stopwords and `names` left out, each cut to its first 5 letters."""
    ignore = STOPWORDS | {part.lower() for name in names for part in name.split()}
    return [w[:STEM_CHARS] for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in ignore]


def word_support(statement: str, source: str, names: Collection[str] = ()) -> float:
    """The share of the statement's content words present in the source (0 with none)."""
    wanted = content_words(statement, names)
    present = set(content_words(source, names))
    return sum(w in present for w in wanted) / len(wanted) if wanted else 0.0


def unsupported(
    memories: Sequence[Memory], turns: dict[str, Turn], embed: Embed, names: Collection[str]
) -> list[Memory]:
    """The memories that none of their cited turns supports (see the module docstring)."""
    cited = sorted({ref for m in memories for ref in m.cites if ref in turns})
    if not memories:
        return []
    turn_vectors = dict(zip(cited, embed([turns[ref].text for ref in cited]), strict=True))
    memory_vectors = embed([m.text for m in memories])
    out = []
    for memory, vector in zip(memories, memory_vectors, strict=True):
        supported = any(
            turns[ref].speaker.casefold() == memory.about.casefold()
            and (
                word_support(memory.text, turns[ref].text, names) >= WORD_SUPPORT
                or float(vector @ turn_vectors[ref]) >= COSINE_SUPPORT
            )
            for ref in memory.cites if ref in turns
        )
        if not supported:
            out.append(memory)
    return out


def duplicates(memories: Sequence[Memory], embed: Embed) -> list[tuple[Memory, Memory]]:
    """Pairs (earlier, later) of active memories about the same person at cosine >= 0.92."""
    active = [m for m in memories if m.status == "active"]
    if not active:
        return []
    similarity = embed([m.text for m in active])
    similarity = similarity @ similarity.T
    return [
        (active[i], active[j])
        for j in range(len(active)) for i in range(j)
        if active[i].about.casefold() == active[j].about.casefold()
        and similarity[i, j] >= DUPLICATE_COSINE
    ]


def cached(embedder: Embedder) -> Embed:
    """`embedder.embed` remembering each text's vector (texts recur across metrics)."""
    memo: dict[str, np.ndarray] = {}

    def embed(texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            memo.update(zip(missing, embedder.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([memo[t] for t in texts])

    return embed


def read_ledger(ledger: Any) -> tuple[dict[str, Turn], list[Memory]]:
    """The turns by locator, and the kept memories in creation order, from the ledger."""
    episodes = {
        r["id"]: Turn(r["locator"], r["speaker"], r["text"])
        for r in ledger.query("SELECT id, locator, speaker, text FROM episodes")
    }
    cites: dict[str, list[str]] = {}
    for r in ledger.query("SELECT memory_id, episode_id FROM memory_sources"):
        if r["episode_id"] in episodes:
            cites.setdefault(r["memory_id"], []).append(episodes[r["episode_id"]].locator)
    rows = ledger.query(
        "SELECT m.id, m.text, m.about, m.kind, m.status FROM memories m"
        f" WHERE m.status IN ({','.join('?' * len(KEPT_STATUSES))}) ORDER BY m.seq",
        KEPT_STATUSES,
    )
    memories = [
        Memory(r["id"], r["text"], r["about"], r["kind"], r["status"],
               tuple(sorted(cites.get(r["id"], []))))
        for r in rows
    ]
    return {t.locator: t for t in episodes.values()}, memories


def run_conversation(
    path: Path, llm: LlamaCppLLM, embedder: Embedder, workdir: Path, *,
    max_turns: int | None = None, raw: bool = True, raw_sample: int | None = None,
) -> dict[str, Any]:
    """Import one conversation with extraction, replay its prompts raw; its figures."""
    jsonl = workdir / f"{path.stem}.jsonl"
    write_jsonl(path, jsonl)
    if max_turns is not None:
        kept = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)[: max_turns]
        jsonl.write_text("".join(kept), encoding="utf-8")
    llm.load()  # loading is not part of the pipeline's time
    recorder = RecordingLLM(llm)
    reverie = open_reverie(workdir / path.stem, llm=recorder, embedder=embedder,
                           unlocker=BENCH_KEYS)
    try:
        started = time.perf_counter()
        report = reverie.import_file(jsonl, extract=True)
        wall = time.perf_counter() - started
        turns, memories = read_ledger(reverie.store.ledger)
    finally:
        reverie.close()
    embed = cached(embedder)
    facts = gold_facts(path, turns)
    names = {t.speaker for t in turns.values()}
    loose = unsupported(memories, turns, embed, names)
    pairs = duplicates(memories, embed)
    active = sum(m.status == "active" for m in memories)
    hits = {sim: sum(covered(facts, memories, embed, sim)) for sim in SIMS}
    evidence_hits = sum(covered(facts, memories, embed, -2.0))
    return speed(llm, recorder.calls, wall, raw=raw, sample=raw_sample) | {
        "conversation": path.stem, "turns": len(turns), "gold_facts": len(facts),
        "memories": len(memories), "active_memories": active,
        "memories_per_turn": ratio(len(memories), len(turns)),
        "kinds": dict(Counter(m.kind for m in memories).most_common()),
        "dropped": report.memories_dropped,
        "covered": {str(s): n for s, n in hits.items()},
        "coverage": {str(s): ratio(n, len(facts)) for s, n in hits.items()},
        "evidence_covered": evidence_hits,
        "evidence_turn_coverage": ratio(evidence_hits, len(facts)),
        "unsupported": len(loose), "unsupported_rate": ratio(len(loose), len(memories)),
        "duplicates": len({later.id for _, later in pairs}), "duplicate_pairs": len(pairs),
        "duplicate_rate": ratio(len({later.id for _, later in pairs}), active),
        "unsupported_examples": [
            {"id": m.id, "text": m.text, "about": m.about, "cites": list(m.cites),
             "turns": [turns[ref].speaker + ": " + turns[ref].text for ref in m.cites]}
            for m in loose[:UNSUPPORTED_LISTED]
        ],
    }


def overall(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every conversation pooled: sums, and shares of the sums."""
    def total(key: str) -> int:
        return sum(int(r[key]) for r in results)

    facts, memories = total("gold_facts"), total("memories")
    return pooled_speed(results) | {
        "conversation": "overall", "turns": total("turns"), "gold_facts": facts,
        "memories": memories, "dropped": total("dropped"),
        "memories_per_turn": ratio(memories, total("turns")),
        "coverage": {str(s): ratio(sum(r["covered"][str(s)] for r in results), facts)
                     for s in SIMS},
        "evidence_turn_coverage": ratio(total("evidence_covered"), facts),
        "unsupported_rate": ratio(total("unsupported"), memories),
        "duplicate_rate": ratio(total("duplicates"), total("active_memories")),
    }


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def report(results: Sequence[dict[str, Any]], everything: dict[str, Any], header: str) -> str:
    """The markdown: a header, the main table, then time and output details."""
    lines = [
        header, "",
        f"| conversation | turns | gold facts | memories | coverage@{SIM} | evidence-turn"
        " coverage | unsupported | duplicates | pipeline tok/s | raw tok/s | overhead |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in [*results, everything]:
        lines.append(
            f"| {r['conversation']} | {r['turns']} | {r['gold_facts']} | {r['memories']} | "
            f"{_f(r['coverage'][str(SIM)])} | {_f(r['evidence_turn_coverage'])} | "
            f"{_f(r['unsupported_rate'])} | {_f(r['duplicate_rate'])} | "
            f"{_f(r['pipeline_tps'], 1)} | {_f(r['raw'] and r['raw']['tps'], 1)} | "
            f"{_f(r['overhead'])} |"
        )
    lines += [
        "", "| conversation | memories/turn | dropped | LLM calls | tokens | import s | LLM share"
        " | rest share | LLM tok/s | raw replayed | raw identical | kinds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        raw = r["raw"] or {}
        kinds = ", ".join(f"{k} {n}" for k, n in r["kinds"].items())
        lines.append(
            f"| {r['conversation']} | {_f(r['memories_per_turn'], 2)} | {r['dropped']} | "
            f"{r['llm_calls']} ({r['cancelled_calls']} cut) | {r['tokens']} | "
            f"{r['wall_seconds']:.1f} | {_f(r['llm_share'])} | {_f(r['rest_share'])} | "
            f"{_f(r['llm_tps'], 1)} | {raw.get('calls', '–')} | "
            f"{raw.get('identical_replies', '–')} | {kinds} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark; print the table (and write it with `--out`)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV_DIR, help="folder of LoCoMo json files")
    parser.add_argument("--conversations", help="comma-separated stems (default: all)")
    parser.add_argument("--max-turns", type=int, help="only the first N turns of each")
    parser.add_argument("--model", type=Path, help="a GGUF chat model (default: bundled)")
    parser.add_argument("--out", type=Path, help="write the table here and figures to .json")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw llama-cpp replay")
    parser.add_argument("--raw-sample", type=int, help="replay only N seeded-random prompts")
    args = parser.parse_args(argv)
    files = sorted(args.data.glob("*.json"))
    if args.conversations:
        wanted = args.conversations.split(",")
        files = [p for p in files if p.stem in wanted]
        if missing := set(wanted) - {p.stem for p in files}:
            raise SystemExit(f"no such conversations in {args.data}: {', '.join(sorted(missing))}")
    if not files:
        raise SystemExit(f"no LoCoMo .json files in {args.data}")
    llm = LlamaCppLLM(args.model) if args.model else default_llm()
    embedder = default_embedder()
    embedder.embed(["warm up"])  # loading is not part of the pipeline's time
    command = "python -m bench.extraction " + shlex.join(
        sys.argv[1:] if argv is None else list(argv))
    load_at_start = os.getloadavg()[0]  # another busy process slows the model down
    header = (
        f"LoCoMo dev extraction, {date.today().isoformat()}; `{command.strip()}`; model "
        f"{llm.name}; {os.cpu_count()} cores, {hardware.llm_threads()} LLM threads, load "
        f"average {load_at_start:.1f} at start; coverage at cosine >= {SIM}"
    )
    print(header, flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as tmp:
        for path in files:
            results.append(run_conversation(
                path, llm, embedder, Path(tmp), max_turns=args.max_turns,
                raw=not args.no_raw, raw_sample=args.raw_sample))
            r = results[-1]
            print(f"{path.stem}: {r['turns']} turns, {r['memories']} memories, "
                  f"{r['llm_calls']} LLM calls in {r['wall_seconds']:.0f} s", flush=True)
    everything = overall(results)
    table = report(results, everything, header)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps({
            "command": command.strip(), "date": date.today().isoformat(), "model": llm.name,
            "cores": os.cpu_count(), "llm_threads": hardware.llm_threads(), "sim": SIM,
            "load_average": {"start": load_at_start, "end": os.getloadavg()[0]},
            "conversations": results, "overall": everything,
        }, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
