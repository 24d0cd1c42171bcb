"""Question answering on the LoCoMo dev split: Reverie's chat, with any GGUF model.

    python -m bench.qa [--model PATH] [--stores DIR] [--per-category N] [--out FILE]

Each question goes to `Reverie.ask` as of the conversation's last session: the same
retrieval, support check, prompt, model and citations as the chat, storing nothing.
Scored as LoCoMo scores it:

- categories 1-4: token F1 of the answer against the gold answer (lower-cased, without
  punctuation and articles); also how often Reverie wrongly said it does not remember,
  and how often a cited item holds an evidence turn ("citation hit");
- category 5 (adversarial: the question asks about something that did not happen, or
  happened to the other person): abstention, the share answered with "I don't
  remember" or the model's own "I don't know".

`--model` defaults to the bundled SmolLM2-135M; pass a bigger GGUF to see what it buys.
`--stores DIR` uses stores kept by `bench.consolidation --keep` (memories and
summaries); without it each conversation's turns are imported fresh.

`--support-only` runs no model: it measures the support check alone, on the
answerable questions, the adversarial ones, and "unrelated" ones: the other dev
conversations' questions with their two speakers' names replaced by this
conversation's, so that they name the right people but ask about another life.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.locomo import DEV_DIR, Question, chat_lines, questions
from bench.retrieval import Run, open_store
from reverie.core.config import Settings
from reverie.models import default_embedder, default_llm
from reverie.models.base import LLM
from reverie.models.llm import LlamaCppLLM

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop",
              5: "adversarial"}
ANSWERABLE = (1, 2, 3, 4)
_ARTICLES = {"a", "an", "the", "and"}
_WORD = re.compile(r"[a-z0-9]+")
_ABSTAINS = re.compile(
    r"\b(?:don'?t|do not|doesn'?t|does not|can'?t|cannot|couldn'?t) (?:remember|know|recall"
    r"|find|say)|\bno (?:information|mention|record)|\bnot (?:mentioned|sure|known)",
    re.IGNORECASE,
)


def normalise(text: str) -> list[str]:
    """The answer's words as LoCoMo's F1 compares them."""
    return [w for w in _WORD.findall(text.lower()) if w not in _ARTICLES]


def token_f1(answer: str, gold: str) -> float:
    """Token-level F1 between an answer and the gold answer."""
    said, wanted = normalise(answer), normalise(gold)
    common = sum((Counter(said) & Counter(wanted)).values())
    if not common:
        return 0.0
    precision, recall = common / len(said), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def abstains(answer: str) -> bool:
    """True when the answer says it does not know."""
    return bool(_ABSTAINS.search(answer))


@dataclass
class Scores:
    """Per-category figures gathered over the run."""

    f1: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    abstained: dict[int, list[bool]] = field(default_factory=lambda: defaultdict(list))
    gated: dict[int, list[bool]] = field(default_factory=lambda: defaultdict(list))
    cited_evidence: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, question: Question, text: str, gated: bool, cited_refs: set[str],
            seconds: float) -> None:
        """Score one answer."""
        category = question.category
        self.abstained[category].append(gated or abstains(text))
        self.gated[category].append(gated)
        self.seconds.append(seconds)
        if category in ANSWERABLE:
            self.f1[category].append(token_f1(text, question.answer or ""))
            if not gated:
                self.cited_evidence.append(bool(cited_refs & set(question.evidence)))


def sample(path: Path, per_category: int | None) -> list[Question]:
    """The conversation's questions; with `per_category`, the first N of each."""
    taken: Counter[int] = Counter()
    chosen = []
    for question in questions(path):
        if question.category not in CATEGORIES:
            continue
        if per_category is not None and taken[question.category] >= per_category:
            continue
        taken[question.category] += 1
        chosen.append(question)
    return chosen


def run_conversation(path: Path, run: Run, llm: LLM, scores: Scores, *,
                     per_category: int | None, settings: Settings) -> int:
    """Ask the conversation's sampled questions; return how many were asked."""
    as_of = max(datetime.fromisoformat(line["time"]) for line in chat_lines(path)).astimezone()
    reverie = open_store(path, run, llm, settings)
    try:
        asked = sample(path, per_category)
        for question in asked:
            started = time.perf_counter()
            reply = reverie.ask(question.text, as_of=as_of)
            refs = {source.ref for hit in reply.cited for source in hit.sources}
            scores.add(question, reply.text, reply.abstained, refs,
                       time.perf_counter() - started)
        return len(asked)
    finally:
        reverie.close()


def speakers(path: Path) -> list[str]:
    """The conversation's speakers, in order of their first turn."""
    return list(dict.fromkeys(line["speaker"] for line in chat_lines(path)))


def swapped(text: str, names: dict[str, str]) -> str:
    """`text` with each whole-word name replaced."""
    for old, new in names.items():
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return text


def support_rates(
    path: Path, others: Sequence[Path], run: Run, settings: Settings
) -> dict[str, list[bool]]:
    """Whether the support check lets each kind of question through to the model."""
    as_of = max(datetime.fromisoformat(line["time"]) for line in chat_lines(path)).astimezone()
    reverie = open_store(path, run, settings=settings)
    passed: dict[str, list[bool]] = defaultdict(list)
    try:
        for question in questions(path):
            kind = "adversarial" if question.category == 5 else "answerable"
            passed[kind].append(reverie.memories_for(question.text, as_of=as_of)[1])
        for other in others:
            names = dict(zip(speakers(other), speakers(path), strict=False))
            for question in questions(other):
                if question.category in ANSWERABLE:
                    text = swapped(question.text, names)
                    passed["unrelated"].append(reverie.memories_for(text, as_of=as_of)[1])
    finally:
        reverie.close()
    return passed


def support_report(passed: dict[str, list[bool]], stores: str, minimum: float) -> str:
    """The support check's pass rates as a Markdown table."""
    lines = [f"support check alone, chat_min_support {minimum}; stores: {stores}", "",
             "| questions | asked | reach the model |", "|---|---|---|"]
    for kind in ("answerable", "adversarial", "unrelated"):
        lines.append(f"| {kind} | {len(passed[kind])} | {_mean(passed[kind])} |")
    return "\n".join(lines)


def _mean(values: Sequence[float | bool]) -> str:
    return f"{statistics.fmean(values):.3f}" if values else "-"


def report(scores: Scores, model: str, stores: str, seconds: float) -> str:
    """The run as a Markdown table."""
    answerable = [f for c in ANSWERABLE for f in scores.f1[c]]
    wrongly = [a for c in ANSWERABLE for a in scores.abstained[c]]
    lines = [
        f"model: {model}; stores: {stores}; {len(scores.seconds)} questions in "
        f"{seconds / 60:.1f} min ({statistics.fmean(scores.seconds):.2f} s per question)",
        "",
        "| category | questions | token F1 | abstained | by the support check |",
        "|---|---|---|---|---|",
    ]
    for category, name in CATEGORIES.items():
        f1 = _mean(scores.f1[category]) if category in ANSWERABLE else "-"
        lines.append(
            f"| {name} | {len(scores.abstained[category])} | {f1} | "
            f"{_mean(scores.abstained[category])} | {_mean(scores.gated[category])} |")
    lines.append(f"| answerable (1-4) | {len(answerable)} | {_mean(answerable)} | "
                 f"{_mean(wrongly)} | "
                 f"{_mean([g for c in ANSWERABLE for g in scores.gated[c]])} |")
    lines += ["", f"citation hit (answered 1-4: a cited item holds an evidence turn): "
                  f"{_mean(scores.cited_evidence)} of {len(scores.cited_evidence)}"]
    return "\n".join(lines)


def answer_all(
    files: Sequence[Path], run: Run, args: argparse.Namespace, stores: str, settings: Settings
) -> str:
    """Put every sampled question to the model; the report."""
    llm = LlamaCppLLM(args.model) if args.model else default_llm()
    scores = Scores()
    started = time.perf_counter()
    for path in files:
        asked = run_conversation(path, run, llm, scores, per_category=args.per_category,
                                 settings=settings)
        print(f"{path.stem}: {asked} questions", flush=True)
    return report(scores, llm.name, stores, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print (and optionally write) its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a GGUF chat model (default: bundled)")
    parser.add_argument("--data", type=Path, default=DEV_DIR, help="folder of LoCoMo json files")
    parser.add_argument("--stores", type=Path,
                        help="use (or keep) each conversation's store in DIR/<stem>")
    parser.add_argument("--per-category", type=int,
                        help="ask only the first N questions of each category")
    parser.add_argument("--support-only", action="store_true",
                        help="measure the support check alone (no model runs)")
    parser.add_argument("--min-support", type=float,
                        help="the support check's threshold (default: the product's)")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.model is not None and not args.model.is_file():
        raise SystemExit(f"no model file at {args.model}")
    files = sorted(args.data.glob("*.json"))
    if not files:
        raise SystemExit(f"no LoCoMo .json files in {args.data}")
    stores = f"kept in {args.stores}" if args.stores else "fresh imports, turns only"
    settings = Settings() if args.min_support is None else Settings(
        chat_min_support=args.min_support)
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as tmp:
        run = Run(default_embedder(), False, Path(tmp), args.stores, ablations=False)
        if args.support_only:
            passed: dict[str, list[bool]] = defaultdict(list)
            for path in files:
                others = [other for other in files if other != path]
                for kind, values in support_rates(path, others, run, settings).items():
                    passed[kind] += values
            table = support_report(passed, stores, settings.chat_min_support)
        else:
            table = answer_all(files, run, args, stores, settings)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
