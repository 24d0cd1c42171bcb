"""The timeline-at-scale benchmark runs end to end on a tiny store (the suite stays quick)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import timeline_scale
from bench._big_store import YearsCorpus
from bench._synthetic import Corpus

pytestmark = [pytest.mark.slow, pytest.mark.gui,
              pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints")]


def test_years_corpus_is_the_corpus_over_more_days() -> None:
    # Over Corpus's own three years it draws exactly Corpus's memories, without vectors.
    same = YearsCorpus(300, years=1096 / 365.25)
    assert same.span_days == 1096
    assert same.memories_only(2).memories == Corpus(300).batch(2).memories
    assert same.memories_only(2).vectors.shape == (0, 384)
    ten = YearsCorpus(20_000, years=10)
    days = ten.days()
    assert (days[-1] - days[0]).days > 8 * 365  # spread over most of the ten years


def test_benchmark_reports_every_figure_and_reuses_its_store(
    tmp_path: Path, qapp: object
) -> None:
    store, out = tmp_path / "store", tmp_path / "timeline.json"
    args = ["--size", "8000", "--years", "1", "--store", str(store), "--expand", "4",
            "--out", str(out)]
    first = timeline_scale.main(args)
    assert not first["store_reused"]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["store_note"]["size"] == 8000
    # Every day with memories was paged in, a page of 50 at a time.
    assert report["days_loaded"] == len(YearsCorpus(8000, 1).days())
    assert report["days_loaded"] > 50  # more than one page
    assert report["pages"] == report["page_of_days"]["n"] >= report["days_loaded"] // 50
    assert report["scroll_step"]["n"] <= report["pages"]  # each step brings a page
    assert report["day_items_fetch"]["n"] >= 4  # a first page for each expanded day
    assert report["expand_day"]["n"] == 4
    assert report["items_per_day"]["max"] >= report["items_per_day"]["mean"] > 0
    for key in ("page_of_days", "day_items_fetch", "expand_day", "refresh_all_loaded", "counts"):
        figure = report[key]
        assert 0 < figure["p50_ms"] <= figure["p95_ms"] <= figure["max_ms"]
    assert set(report["plans"]) == {"timeline_days", "timeline_items", "timeline_page_kind",
                                    "item_day"}
    assert all(entry["plan"] for entry in report["plans"].values())
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| read | uses indexes | plan |" in table
    again = timeline_scale.main(args)
    assert again["store_reused"]
    assert again["days_loaded"] == report["days_loaded"]


def test_a_plan_that_scans_a_table_is_flagged() -> None:
    assert timeline_scale.uses_indexes(["SEARCH memories USING INDEX memories_by_day (day=?)"])
    assert timeline_scale.uses_indexes(["SCAN day_counts USING INDEX sqlite_autoindex_1"])
    assert not timeline_scale.uses_indexes(["SCAN memories"])
