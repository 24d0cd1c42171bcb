"""The question-answering benchmark: its scoring, and a run end to end on a slice."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import qa
from reverie.core.chat.session import DONT_REMEMBER


def test_token_f1_is_locomo_s() -> None:
    assert qa.token_f1("Horseback riding.", "horseback riding") == 1.0
    assert qa.token_f1("The cat", "a dog") == 0.0
    assert qa.token_f1("She went horseback riding", "horseback riding") == pytest.approx(2 / 3)


@pytest.mark.parametrize(("answer", "says_so"), [
    (DONT_REMEMBER, True), ("I do not know who that was.", True),
    ("There is no information about a trip.", True), ("It was not mentioned.", True),
    ("Caroline went to Lisbon.", False), ("She knows the way.", False),
])
def test_abstention_is_recognised(answer: str, says_so: bool) -> None:
    assert qa.abstains(answer) is says_so


@pytest.mark.slow
def test_benchmark_answers_a_slice_with_the_bundled_model(
    tmp_path: Path, early_locomo: Path
) -> None:
    out = tmp_path / "qa.md"
    qa.main(["--data", str(early_locomo), "--per-category", "2", "--out", str(out)])
    table = out.read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1]
            for line in table.splitlines() if line.startswith("| ") and "---" not in line}
    assert {"single-hop", "adversarial", "answerable (1-4)"} <= rows.keys()
    asked, f1, abstained, gated = (cell.strip() for cell in rows["answerable (1-4)"])
    assert int(asked) >= 4
    assert 0.0 <= float(f1) <= 1.0
    # Most answerable questions reach the model: the support check is not a wall.
    assert float(gated) < 0.5
    assert float(gated) <= float(abstained)  # a refusal by the check counts as abstaining
    assert "citation hit" in table
