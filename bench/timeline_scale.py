"""Scrolling the timeline at a million memories: page fetches against a frame's budget.

    python -m bench.timeline_scale [--size 1000000] [--years 10] [--store DIR]
        [--expand 200] [--out FILE.json]

The store (bench/_big_store.py) holds `--size` synthetic memories in sessions of 100
spread over `--years` of days, written with core's record writers, without vectors
(the timeline never reads the index). It is built once and kept in `--store`
(default `/tmp/reverie-bench-timeline-<size>`); a later run reuses it.

Then, offscreen, the app's own `TimelineModel` in the app's own `TimelinePane` (a
real QTreeView) on the facade, as the main window holds them:

- **page of days**: the view scrolled to its end again and again, so that it fetches
  the next page (50 days) itself, until the oldest day is loaded: every page, deep into
  the past. Every `fetchMore` that reads is timed (a subclass of the model times them,
  whoever calls), and so is each whole scroll step (the fetch, the view's layout and
  the paint);
- **expand a day**: `view.expand` on `--expand` days drawn across the whole range
  (the day's first page of items, `ITEM_PAGE`, read and inserted: that `fetchMore`
  timed too, then the view's layout), then the paint (with any further page the pane
  reads because the day's last row is in sight), then the day is closed again, which
  lets its items go;
- the same reads called straight on the ledger (`queries.timeline_days`, and
  `queries.timeline_items` for a day's first page): the baseline the model's own cost
  is measured against;
- `refresh(None)` with every day loaded (what an unspecified change, such as a
  consolidation run's, costs after a deep scroll: closed days' items are not re-read),
  and `Reverie.counts()` (the four COUNT(*) of the status bar, which the window now
  reads in a `Lane.STATUS` job: timed here on the calling thread);
- EXPLAIN QUERY PLAN of the timeline's SQL.

Figures are p50 / p95 / max in ms against a 60 Hz frame (16.7 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench._big_store import StoreNote, cached_store
from bench._synthetic import BagOfWordsEmbedder
from bench.retrieval import BENCH_KEYS

FRAME_MS = 1000 / 60
SEED = 11
Result = dict[str, Any]


def stats(values_ms: Sequence[float]) -> Result:
    """p50, p95, max and count of some milliseconds, and how many exceed a frame."""
    if not values_ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "over_frame": 0}
    array = np.asarray(values_ms, dtype=np.float64)
    p50, p95 = np.percentile(array, [50, 95])
    return {"n": len(values_ms), "p50_ms": float(p50), "p95_ms": float(p95),
            "max_ms": float(array.max()), "over_frame": int((array > FRAME_MS).sum())}


def timed(call: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    call()
    return 1000 * (time.perf_counter() - started)


def query_plans(ledger: Any) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of the timeline's reads, as `core/store/queries.py` writes them.

    The SQL is captured from the ledger's own `query` while the real functions run,
    so the plans are of exactly what the app sends.
    """
    from reverie.core.store import queries

    captured: list[tuple[str, list[Any]]] = []
    original = ledger.query

    def spy(sql: str, params: Any = ()) -> Any:
        captured.append((sql, list(params)))
        return original(sql, params)

    day = queries.timeline_days(ledger, 0, 1)[0].day
    reads: dict[str, Callable[[], object]] = {
        "timeline_days": lambda: queries.timeline_days(ledger, 500, 50),
        "timeline_items": lambda: queries.timeline_items(ledger, day),
        "timeline_page_kind": lambda: queries.timeline_page(ledger, day, 0, 200, kind="event"),
        "item_day": lambda: queries.item_day(ledger, "mem_bench_0000001_000"),
    }
    plans: dict[str, list[str]] = {}
    ledger.query = spy
    try:
        for name, read in reads.items():
            captured.clear()
            read()
            sql, params = captured[0]
            rows = original(f"EXPLAIN QUERY PLAN {sql}", params)
            plans[name] = [str(row["detail"]) for row in rows]
    finally:
        del ledger.query  # the instance attribute goes; the class's method shows again
    return plans


def uses_indexes(plan: Sequence[str]) -> bool:
    """True when no step of `plan` scans a whole table (a SCAN without an index)."""
    return not any(
        step.startswith("SCAN") and "INDEX" not in step and "SUBQUERY" not in step
        for step in plan
    )


def timed_model(page_size: int) -> Any:
    """The app's `TimelineModel`, timing every `fetchMore` that reads (whoever calls it:
    the view as it scrolls or expands, or the benchmark) in `.fetch_ms`."""
    from PySide6.QtCore import QModelIndex, QPersistentModelIndex

    from reverie.desktop.timeline_model import TimelineModel

    class TimedTimelineModel(TimelineModel):
        def __init__(self) -> None:
            super().__init__(page_size=page_size)
            self.fetch_ms: dict[str, list[float]] = {"days": [], "items": []}

        def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
            if not self.has_more(parent):
                return
            what = "items" if parent.isValid() else "days"
            self.fetch_ms[what].append(timed(lambda: super(TimedTimelineModel, self)
                                             .fetchMore(parent)))

    return TimedTimelineModel()


def scroll(app: Any, pane: Any, model: Any) -> list[float]:
    """Scroll to the end again and again until the oldest day is loaded; ms per step
    (the scroll, the view's own fetch of the next page, the paint)."""
    from PySide6.QtCore import QModelIndex

    root = QModelIndex()
    step_ms: list[float] = []
    while model.canFetchMore(root):
        rows = model.rowCount()

        def step() -> None:
            pane.view.scrollToBottom()
            app.processEvents()

        step_ms.append(timed(step))
        if model.rowCount() == rows and model.canFetchMore(root):
            model.fetchMore(root)  # the view did not ask (not laid out yet): ask for it
    return step_ms


def expand_days(app: Any, pane: Any, model: Any, count: int) -> tuple[list[float], list[float],
                                                                     list[int]]:
    """Expand `count` days drawn across every loaded day; ms per expand (the day's first
    page of items read and inserted, the view laid out), per paint after (with any
    further page the pane reads because the day's last row is in sight), and how many
    items each day holds (not how many were read: a day is read ITEM_PAGE at a time)."""
    from reverie.desktop.timeline_model import CountRole

    picked = random.Random(SEED).sample(range(model.rowCount()), min(count, model.rowCount()))
    expand_ms: list[float] = []
    paint_ms: list[float] = []
    items: list[int] = []
    for row in picked:
        index = model.index(row, 0)
        pane.view.scrollTo(index)
        app.processEvents()
        expand_ms.append(timed(partial(pane.view.expand, index)))
        paint_ms.append(timed(app.processEvents))
        items.append(int(index.data(CountRole)))
        pane.view.collapse(index)  # its items are let go (OpenDayPager) once it closes
    return expand_ms, paint_ms, items


def direct_reads(facade: Any, days: Sequence[str], pages: int, page_size: int) -> Result:
    """The same reads straight on the ledger: the baseline of the model's cost (a page of
    days, and a day's first page of items, as the model reads them)."""
    from reverie.core.store import queries
    from reverie.desktop.timeline_model import ITEM_PAGE

    ledger = facade.store.ledger
    page_ms = [timed(partial(queries.timeline_days, ledger, i * page_size, page_size))
               for i in range(pages)]
    items_ms = [timed(partial(queries.timeline_items, ledger, d, 0, ITEM_PAGE)) for d in days]
    return {"days_page": stats(page_ms), "day_items": stats(items_ms)}


def measure(facade: Any, expand: int) -> Result:
    """Every figure of the scroll on an open facade (creates the offscreen app)."""
    from reverie.desktop.app import create_application
    from reverie.desktop.jobs import JobRunner
    from reverie.desktop.timeline_model import DEFAULT_PAGE
    from reverie.desktop.timeline_view import TimelinePane

    app = create_application()
    model = timed_model(DEFAULT_PAGE)
    runner = JobRunner()  # the pane's filters and detail read through it, as in the window
    runner.set_facade(facade)
    pane = TimelinePane(model, runner)
    pane.resize(520, 700)
    pane.show()
    model.set_facade(facade)  # the pane fetches the first page, as on opening
    app.processEvents()
    step_ms = scroll(app, pane, model)
    fetch_ms = list(model.fetch_ms["days"])
    expand_ms, expand_paint_ms, items = expand_days(app, pane, model, expand)
    loaded = model.loaded_days
    picked = random.Random(SEED).sample(loaded, min(expand, len(loaded)))
    direct = direct_reads(facade, picked, len(fetch_ms) + 1, DEFAULT_PAGE)
    refresh_ms = [timed(lambda: model.refresh(None)) for _ in range(3)]
    counts_ms = [timed(facade.counts) for _ in range(5)]
    plans = query_plans(facade.store.ledger)
    pane.close()
    model.set_facade(None)
    runner.shutdown()
    return {
        "days_loaded": len(loaded), "pages": len(fetch_ms),
        "page_of_days": stats(fetch_ms), "scroll_step": stats(step_ms),
        "day_items_fetch": stats(model.fetch_ms["items"]),
        "expand_day": stats(expand_ms), "expand_paint": stats(expand_paint_ms),
        "items_per_day": {"mean": float(np.mean(items)) if items else 0.0,
                          "max": max(items, default=0)},
        "direct": direct, "refresh_all_loaded": stats(refresh_ms),
        "counts": stats(counts_ms),
        "plans": {name: {"plan": plan, "indexed": uses_indexes(plan)}
                  for name, plan in plans.items()},
    }


def _ms(figure: Result) -> str:
    if not figure["n"]:
        return "– | – | – | 0"
    return (f"{figure['p50_ms']:.2f} | {figure['p95_ms']:.2f} | {figure['max_ms']:.2f} |"
            f" {figure['n']}")


def report(result: Result, header: str) -> str:
    """The markdown table and the query plans."""
    direct = result["direct"]
    ratio_page = _ratio(result["page_of_days"], direct["days_page"])
    ratio_day = _ratio(result["day_items_fetch"], direct["day_items"])
    ratio_expand = _ratio(result["expand_day"], direct["day_items"])
    lines = [
        header, "",
        f"{result['days_loaded']} days loaded in {result['pages']} pages; a day holds"
        f" {result['items_per_day']['mean']:.0f} items on average, at most"
        f" {result['items_per_day']['max']}. Frame budget {FRAME_MS:.1f} ms.", "",
        "| main-thread step | p50 ms | p95 ms | max ms | n | over a frame |",
        "|---|---|---|---|---|---|",
    ]
    for label, key in (("page of 50 days: fetchMore (read + rows inserted)", "page_of_days"),
                       ("scroll step: to the end, the view fetches, paints", "scroll_step"),
                       ("a day's items: fetchMore (read + rows inserted)", "day_items_fetch"),
                       ("expand a day: view.expand (fetch + layout)", "expand_day"),
                       ("… the paint after it", "expand_paint"),
                       ("refresh(None), every day loaded", "refresh_all_loaded"),
                       ("counts() after a change (4 × COUNT(*))", "counts")):
        figure = result[key]
        lines.append(f"| {label} | {_ms(figure)} | {figure['over_frame']} |")
    for label, key in (("baseline: timeline_days page on the ledger", "days_page"),
                       ("baseline: timeline_items on the ledger", "day_items")):
        figure = direct[key]
        lines.append(f"| {label} | {_ms(figure)} | {figure['over_frame']} |")
    lines += ["", f"p50 against the ledger's own read: page of days {ratio_page}, a day's items"
              f" {ratio_day}, the whole expand {ratio_expand}", "",
              "| read | uses indexes | plan |", "|---|---|---|"]
    for name, entry in result["plans"].items():
        lines.append(f"| {name} | {'yes' if entry['indexed'] else 'NO'} |"
                     f" {'; '.join(entry['plan'])} |")
    return "\n".join(lines)


def _ratio(figure: Result, baseline: Result) -> str:
    if not figure["n"] or not baseline["n"] or not baseline["p50_ms"]:
        return "–"
    return f"{figure['p50_ms'] / baseline['p50_ms']:.2f}"


def main(argv: Sequence[str] | None = None) -> Result:
    """Build or reuse the store, measure, print the table; return the figures."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="memories in the store")
    parser.add_argument("--years", type=float, default=10.0, help="years the days span")
    parser.add_argument("--store", type=Path, help="where the store is kept and reused")
    parser.add_argument("--expand", type=int, default=200, help="days to expand")
    parser.add_argument("--out", type=Path, help="write the figures (.json) and table (.md)")
    args = parser.parse_args(argv)
    from reverie.core.compose import open_reverie
    from reverie.models import default_llm

    embedder = BagOfWordsEmbedder()
    directory = args.store or Path(f"/tmp/reverie-bench-timeline-{args.size}")
    wanted = StoreNote(size=args.size, years=args.years, batch_size=100, seed=2026,
                       embedding_model=embedder.name, vectors=False)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 30 or done == total:
            last[0] = time.monotonic()
            print(f"building {directory}: {done:,}/{total:,} memories", file=sys.stderr)

    note, reused = cached_store(directory, wanted, BENCH_KEYS, progress=progress)
    started = time.perf_counter()
    facade = open_reverie(directory, llm=default_llm(), embedder=embedder, unlocker=BENCH_KEYS)
    open_s = time.perf_counter() - started
    try:
        result = measure(facade, args.expand)
    finally:
        facade.close()
    command = "python -m bench.timeline_scale " + " ".join(
        sys.argv[1:] if argv is None else list(argv))
    result |= {"command": command.strip(), "store": str(directory), "store_note": asdict(note),
               "store_reused": reused, "open_s": open_s, "date": date.today().isoformat(),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "load_avg": os.getloadavg()}
    header = (f"Timeline at {args.size:,} memories over {args.years:g} years,"
              f" {result['date']}; `{result['command']}`; store"
              f" {'reused' if reused else 'built'} (build {note.build_seconds:.0f} s), opened in"
              f" {open_s:.1f} s; load average {result['load_avg'][0]:.1f}")
    table = report(result, header)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
        args.out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
