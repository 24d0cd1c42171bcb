"""The extraction benchmark: its measures on hand-made cases, then a short run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import extraction
from bench.extraction import GoldFact, Memory, Turn
from bench.locomo import DEV_DIR
from reverie.models import default_embedder

pytestmark = pytest.mark.slow

LOST_JOB = GoldFact("Jon", "Jon lost his job as a banker.", ("D1:2",))
STUDIO = GoldFact("Jon", "Jon is starting his own dance studio.", ("D1:4",))
TURNS = {
    "D1:2": Turn("D1:2", "Jon", "Lost my job as a banker yesterday, so I'm gonna take a shot"
                 " at starting my own business."),
    "D1:3": Turn("D1:3", "Gina", "Sorry about your job Jon! I also lost my job at Door Dash."),
    "D1:4": Turn("D1:4", "Jon", "I'm starting a dance studio, dancing is my passion."),
}


def memory(text: str, about: str = "Jon", cites: tuple[str, ...] = ("D1:2",),
           status: str = "active", name: str = "m") -> Memory:
    return Memory(name, text, about, "event", status, cites)


@pytest.fixture(scope="module")
def embed() -> extraction.Embed:
    return extraction.cached(default_embedder())


def test_coverage_needs_the_evidence_turn_and_the_meaning(embed: extraction.Embed) -> None:
    right = memory("Jon lost his banking job.", cites=("D1:2",))
    elsewhere = memory("Jon is opening a dance studio.", cites=("D1:5",))
    unrelated = memory("Jon likes pizza.", cites=("D1:4",))
    facts = [LOST_JOB, STUDIO]
    assert extraction.covered(facts, [right], embed, 0.6) == [True, False]
    # Saying the studio fact while citing another turn does not cover it ...
    assert extraction.covered(facts, [elsewhere], embed, 0.6) == [False, False]
    # ... nor does citing its turn while saying something else, except as evidence-turn
    # coverage, which looks at citations only.
    assert extraction.covered(facts, [unrelated], embed, 0.6) == [False, False]
    assert extraction.covered(facts, [unrelated], embed, -2.0) == [False, True]
    assert extraction.covered(facts, [], embed, 0.6) == [False, False]


def test_unsupported_memories(embed: extraction.Embed) -> None:
    names = {"Jon", "Gina"}
    grounded = memory("Jon lost his job as a banker.", name="grounded")
    wrong_speaker = memory("Gina lost her job as a banker.", about="Gina", name="wrong")
    invented = memory("Jon owns three horses in Texas.", name="invented")
    uncited = memory("Jon lost his job as a banker.", cites=(), name="uncited")
    gina = memory("Gina lost her job at Door Dash.", about="gina", cites=("D1:3",), name="gina")
    judged = extraction.unsupported(
        [grounded, wrong_speaker, invented, uncited, gina], TURNS, embed, names
    )
    assert [m.id for m in judged] == ["wrong", "invented", "uncited"]
    assert extraction.content_words("Jon's favourite dances!", names) == ["favou", "dance"]
    assert extraction.word_support("Jon lost his job", TURNS["D1:2"].text, names) == 1.0
    assert extraction.word_support("Jon", TURNS["D1:2"].text, names) == 0.0


def test_duplicates_are_near_copies_about_one_person(embed: extraction.Embed) -> None:
    first = memory("Jon lost his job as a banker.", name="first")
    again = memory("Jon lost his banking job.", cites=("D1:3",), name="again")
    other = memory("Jon lost his banking job.", about="Gina", name="other")
    old = memory("Jon lost his banking job.", status="superseded", name="old")
    pairs = extraction.duplicates([first, again, other, old], embed)
    assert [(a.id, b.id) for a, b in pairs] == [("first", "again")]


def test_gold_facts_and_their_evidence_ids() -> None:
    assert extraction.evidence_ids("D1:2; D1:3") == ("D1:2", "D1:3")
    assert extraction.evidence_ids(["D15:3", ["D15:5"]]) == ("D15:3", "D15:5")
    assert len(extraction.gold_facts(DEV_DIR / "conv-30.json")) == 169
    early = extraction.gold_facts(DEV_DIR / "conv-30.json", {f"D1:{i}" for i in range(1, 13)})
    assert sorted(f.evidence for f in early) == [
        ("D1:2",), ("D1:3",), ("D1:4",), ("D1:8",), ("D1:9",)
    ]
    several = [f for f in extraction.gold_facts(DEV_DIR / "conv-30.json") if len(f.evidence) > 1]
    assert [f.evidence for f in several] == [("D15:3", "D15:5")]


def test_benchmark_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "extraction.md"
    extraction.main([
        "--conversations", "conv-30", "--max-turns", "12", "--raw-sample", "4",
        "--out", str(out),
    ])
    table = out.read_text(encoding="utf-8")
    assert "| conversation | turns | gold facts | memories | coverage@0.6 |" in table
    assert "| conv-30 | 12 | 5 |" in table
    assert "| overall | 12 | 5 |" in table
    figures = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert figures["model"] == "SmolLM2-135M-Instruct.Q4_1"
    for row in [*figures["conversations"], figures["overall"]]:
        assert (row["turns"], row["gold_facts"]) == (12, 5)
        shares = [
            *row["coverage"].values(), row["evidence_turn_coverage"], row["unsupported_rate"],
            row["duplicate_rate"], row["llm_share"], row["rest_share"],
        ]
        assert all(0.0 <= share <= 1.0 for share in shares), row
        coverage = row["coverage"]
        assert coverage["0.7"] <= coverage["0.6"] <= coverage["0.5"]
        assert coverage["0.5"] <= row["evidence_turn_coverage"]
        assert row["memories"] >= 0
        assert row["dropped"] >= 0
        assert row["tokens"] > 0
        assert row["pipeline_tps"] > 0
        assert row["raw"]["tps"] > 0
        assert row["overhead"] < 1.0
    conversation = figures["conversations"][0]
    assert conversation["llm_calls"] > 4
    assert conversation["raw"]["calls"] == 4
    # Greedy decoding of the same prompts with the same settings: the same replies.
    assert conversation["raw"]["identical_replies"] * 2 > 4
    assert sum(conversation["kinds"].values()) == conversation["memories"]
    assert len(conversation["unsupported_examples"]) == conversation["unsupported"]
