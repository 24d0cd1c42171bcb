"""Timeline rows people love: people chips and source glyphs, summary cards on days and
weeks, the search's words lit in place, and the density strip to jump by; on a real
store in a real window (offscreen)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QPoint, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage
from PySide6.QtWidgets import QToolTip
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.core.service import Reverie
from reverie.core.store import records
from reverie.core.types import Actor, DayCount, MemoryKind
from reverie.desktop.labels import plural, short_date
from reverie.desktop.main_window import MainWindow
from reverie.desktop.theme import color
from reverie.desktop.timeline_delegate import highlight_spans, query_words, segments
from reverie.desktop.timeline_density import DensityStrip
from reverie.desktop.timeline_icons import source_icon
from reverie.desktop.timeline_model import (
    CountRole,
    DayRole,
    KindRole,
    PeopleRole,
    SourceRole,
    SummaryRole,
)
from reverie.desktop.timeline_nodes import Zoom
from reverie.models.base import Embedder
from tests.desktop.conftest import MemoryLLM, write_chat

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30_000
FIRST = datetime(2025, 1, 1, 9, 0)  # a Wednesday; write_chat's first day
DAYS = 40
MONDAY = "2025-01-06"
DAY_CARD = "6 January 2025: we talked about the garden."
WEEK_CARD = "the week of 6 January 2025: the garden, day after day."


def lit(text: str, query: str) -> list[str]:
    return [text[start:end] for start, end in highlight_spans(text, query_words(query))]


# --- highlight spans ---------------------------------------------------------------


def test_every_word_lights_whole_words_and_the_last_also_as_a_prefix() -> None:
    text = "Café trip: we walked to the cafeteria. Walking again, Caff!"
    # "walk" matches its forms (FTS stems), "caf" as typed so far: any word it starts.
    assert lit(text, "walk caf") == ["Café", "walked", "cafeteria", "Walking", "Caff"]
    # Only the last word is a prefix: "caf" before another word must be whole.
    assert lit(text, "caf trip") == ["trip"]
    assert lit(text, "CAFE") == ["Café", "cafeteria"]  # case and accents fold
    assert lit(text, "!?") == []
    assert lit(text, "") == []


def test_words_light_as_the_index_stems_them() -> None:
    # Porter's stems, as SQLite's tokenizer gives them: a suffix rule missed these.
    text = "Such happiness after the studies; the happy student studied."
    assert lit(text, "happy") == ["happiness", "happy"]
    assert lit(text, "study") == ["studies", "studied"]
    assert lit(text, "students") == ["student"]


def test_segments_rebuild_the_visible_text_with_the_lit_parts() -> None:
    text = "We walked to the cafeteria"
    spans = highlight_spans(text, query_words("walk caf"))
    whole = segments(text, spans, len(text))
    assert "".join(piece for piece, _ in whole) == text
    assert [piece for piece, on in whole if on] == ["walked", "cafeteria"]
    # Elided after "We walked to the ca": the lit part stops where the text does.
    cut = segments(text, spans, 19)
    assert "".join(piece for piece, _ in cut) == text[:19]
    assert [piece for piece, on in cut if on] == ["walked", "ca"]


# --- the density strip -------------------------------------------------------------


def days_back(start: date, counts: list[int]) -> list[DayCount]:
    """One day each for `counts`, newest (`start`) first."""
    return [DayCount((start - timedelta(days=n)).isoformat(), count)
            for n, count in enumerate(counts)]


def test_density_gathers_days_into_pixel_rows(qtbot: QtBot) -> None:
    strip = DensityStrip()
    qtbot.addWidget(strip)
    strip.show()
    strip.resize(strip.width(), 100)
    counts = [n % 7 + 1 for n in range(1000)]
    strip.set_days(days_back(date(2026, 3, 8), counts))
    # 1,000 days on 100 rows: every row holds ten consecutive days, newest at the top.
    assert len(strip.bins) == 100
    assert strip.bins == [sum(counts[row * 10:row * 10 + 10]) for row in range(100)]
    assert strip.total == sum(counts)
    assert strip.accessibleDescription().startswith(f"{plural(sum(counts), 'item')} on 1000 days")
    # A resize gathers them again, still every item once.
    strip.resize(strip.width(), 53)
    assert len(strip.bins) == 53
    assert sum(strip.bins) == sum(counts)


def test_density_at_ten_years_of_a_million_memories(qtbot: QtBot) -> None:
    strip = DensityStrip()
    qtbot.addWidget(strip)
    strip.show()
    strip.resize(strip.width(), 600)
    counts = [274 + n % 50 for n in range(3650)]  # about a million items
    strip.set_days(days_back(date(2026, 3, 8), counts))
    assert strip.total == sum(counts)
    assert len(strip.bins) == 600  # what a paint walks: pixel rows, never days
    assert strip.grab().width() == strip.width()


@pytest.mark.qt_log_ignore(r"^This plugin does not support raise\(\)$")  # offscreen tooltips
def test_density_says_the_date_and_count_under_the_pointer(qtbot: QtBot) -> None:
    strip = DensityStrip()
    qtbot.addWidget(strip)
    strip.resize(strip.width(), 200)
    strip.show()
    newest = date(2026, 3, 8)
    strip.set_days(days_back(newest, [5, 0, 3]))
    row = strip.row_of(newest)
    assert strip.describe(row) == f"{short_date(newest)}: {plural(5, 'item')}"
    event = QHelpEvent(QEvent.Type.ToolTip, QPoint(4, row), strip.mapToGlobal(QPoint(4, row)))
    strip.event(event)
    assert QToolTip.text() == f"{short_date(newest)}: 5 items"
    # Squeezed into few rows, a row says which days it covers.
    strip.resize(strip.width(), 40)
    strip.set_days(days_back(newest, [1] * 400))
    assert " – " in strip.describe(0)
    assert strip.describe(0).endswith(plural(strip.bins[0], "item"))


# --- in the window -----------------------------------------------------------------


def insert_memory(facade: Reverie, memory_id: str, text: str, *, when: datetime,
                  about: str = "me", kind: MemoryKind = MemoryKind.EVENT,
                  cites: tuple[str, ...] = (), summarises: tuple[str, ...] = ()) -> None:
    """A memory as extraction or consolidation writes one (a summary links what it
    summarises)."""
    memory = records.NewMemory(id=memory_id, kind=kind, text=text, about=about,
                               valid_from=when, confidence=0.9, trust="user-import",
                               episode_ids=cites)
    batch = records.new_batch_id()
    with facade.store.ledger.transaction() as conn:
        records.ensure_batch(conn, batch, Actor.CONSOLIDATOR, "test")
        records.insert_memory(conn, memory, batch, Actor.CONSOLIDATOR)
        conn.executemany(
            "INSERT INTO memory_links (from_id, relation, to_id) VALUES (?, 'summarises', ?)",
            [(memory_id, other) for other in summarises])


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path,
           bundled_embedder: Embedder) -> MainWindow:
    """Forty days of garden talk, a memory about Sam citing a turn, and a day and a
    week summary on Monday 6 January 2025."""
    data = tmp_path / "data"
    llm = MemoryLLM()
    facade = open_reverie(data, llm=llm, embedder=bundled_embedder)
    facade.import_file(write_chat(tmp_path / "chat.jsonl", DAYS, start=FIRST), extract=False)
    turns = [row["id"] for row in facade.store.ledger.query(
        "SELECT id FROM episodes WHERE day IN (?, ?) ORDER BY ts", (MONDAY, "2025-01-07"))]
    insert_memory(facade, "mem_sam", "Sam planted the tulips by the shed", about="Sam",
                  when=datetime(2025, 1, 6, 9, 30), cites=(turns[0],))
    insert_memory(facade, "mem_tue", "The garden needs mulch", when=datetime(2025, 1, 7, 9, 5),
                  cites=(turns[-1],))
    insert_memory(facade, "mem_day", DAY_CARD, about="summary", kind=MemoryKind.SUMMARY,
                  when=datetime(2025, 1, 6), summarises=("mem_sam",))
    insert_memory(facade, "mem_week", WEEK_CARD, about="summary", kind=MemoryKind.SUMMARY,
                  when=datetime(2025, 1, 6), summarises=("mem_sam", "mem_tue"))
    facade.close()
    made = make_window(llm=llm, data_dir=data)
    made.resize(1000, 700)
    return made


def facade_of(window: MainWindow) -> Reverie:
    facade = window.runner.facade
    assert facade is not None
    return facade


def all_items(window: MainWindow) -> int:
    return sum(day.count for day in facade_of(window).timeline_days(0, 1000))


def settle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.wait(250)
    qtbot.waitUntil(lambda: not window.timeline.browser.reading, timeout=TIMEOUT_MS)


def item_rows(window: MainWindow, day: str) -> list[QModelIndex]:
    model = window.timeline_model
    parent = model.locate(day)
    window.timeline.view.expand(parent)
    if model.canFetchMore(parent):
        model.fetchMore(parent)
    return [model.index(row, 0, parent) for row in range(model.rowCount(parent))]


def pixels_of(image: QImage, tone: QColor) -> int:
    """How many pixels of `image` have exactly the colour `tone`."""
    wanted = tone.rgb()
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if image.pixel(x, y) == wanted)


def test_rows_carry_people_source_and_summary_cards(
    qtbot: QtBot, window: MainWindow,
) -> None:
    rows = {str(index.data(Qt.ItemDataRole.DisplayRole)): index
            for index in item_rows(window, MONDAY)}
    sam = next(index for text, index in rows.items() if "tulips" in text)
    assert sam.data(PeopleRole) == ("Sam",)
    assert sam.data(SourceRole) == "import"  # it cites a turn of the imported chat
    spoken = str(sam.data(Qt.ItemDataRole.AccessibleTextRole))
    assert "with Sam" in spoken
    assert "from imported conversation" in spoken
    day = window.timeline_model.locate(MONDAY)
    assert day.data(SummaryRole) == DAY_CARD
    assert DAY_CARD in str(day.data(Qt.ItemDataRole.ToolTipRole))
    # At week zoom the week's row carries the week's card.
    window.timeline.set_zoom(Zoom.WEEK)
    week = window.timeline_model.day_index(MONDAY).parent()
    assert week.data(KindRole) == "period"
    assert week.data(SummaryRole) == WEEK_CARD
    assert week.data(CountRole) == sum(
        window.timeline_model.index(r, 0, week).data(CountRole)
        for r in range(window.timeline_model.rowCount(week)))


def test_the_delegate_paints_chips_cards_and_lit_words(
    qtbot: QtBot, window: MainWindow,
) -> None:
    pane = window.timeline
    pane.go_to_day(date.fromisoformat(MONDAY))
    qtbot.wait(50)
    view, model = pane.view, window.timeline_model
    shot = view.viewport().grab().toImage()

    def chip_pixels(index: QModelIndex) -> int:
        return pixels_of(shot.copy(view.visualRect(index)), color("chip"))

    sam = next(i for i in item_rows(window, MONDAY) if "tulips" in str(i.data()))
    turn = next(i for i in item_rows(window, MONDAY) if i.data(KindRole) == "episode")
    assert chip_pixels(sam) > 20  # Sam's chip
    assert chip_pixels(turn) == 0  # a turn names no one beyond its speaker
    assert chip_pixels(model.locate(MONDAY)) > 100  # the day's summary card
    pane.go_to_day(date.fromisoformat("2025-01-07"))
    qtbot.wait(50)
    shot = view.viewport().grab().toImage()
    assert chip_pixels(model.locate("2025-01-07")) == 0  # no summary: no card
    assert pixels_of(pane.view.viewport().grab().toImage(), color("highlight")) == 0
    qtbot.keyClicks(pane.filters.search, "tulip")
    settle(qtbot, window)
    image = pane.view.viewport().grab().toImage()
    assert pixels_of(image, color("highlight")) > 20
    pane.filters.search.clear()
    settle(qtbot, window)
    assert pixels_of(pane.view.viewport().grab().toImage(), color("highlight")) == 0


def test_every_hit_of_a_search_has_a_lit_word(qtbot: QtBot, window: MainWindow) -> None:
    for query in ("garden ag", "tulips", "turn 1", "Sam plan"):
        window.timeline.filters.search.setText(query)
        settle(qtbot, window)
        model = window.timeline_model
        hits = [model.index(r, 0, model.index(d, 0)) for d in range(model.rowCount())
                for r in range(model.rowCount(model.index(d, 0)))]
        assert hits, query
        for hit in hits:
            text = str(hit.data(Qt.ItemDataRole.DisplayRole))
            assert highlight_spans(text, window.timeline.delegate.words), (query, text)


def test_the_strip_reads_every_day_then_follows_filters_and_changes(
    qtbot: QtBot, window: MainWindow,
) -> None:
    strip = window.timeline.density
    qtbot.waitUntil(lambda: strip.total == all_items(window), timeout=TIMEOUT_MS)
    window.timeline.filters.search.setText("tulips")
    settle(qtbot, window)
    assert strip.total == window.timeline_model.matches
    assert strip.isVisible()
    window.timeline.filters.search.setText("zebra crossing")
    settle(qtbot, window)
    assert not strip.isVisible()  # "nothing matches" shows alone
    window.timeline.filters.search.clear()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: strip.total == all_items(window), timeout=TIMEOUT_MS)
    assert strip.isVisible()
    _id, changes = facade_of(window).memories.add(
        "Planted garlic", when=datetime(2025, 1, 20, 10, 0))
    before = strip.total
    window.runner.changed.emit(changes)
    qtbot.waitUntil(lambda: strip.total == all_items(window), timeout=TIMEOUT_MS)
    assert strip.total == before + 1


def test_clicking_or_keying_the_strip_jumps_the_timeline(
    qtbot: QtBot, window: MainWindow,
) -> None:
    pane, strip = window.timeline, window.timeline.density
    qtbot.waitUntil(lambda: strip.total == all_items(window), timeout=TIMEOUT_MS)
    target = date(2025, 1, 9)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(5, strip.row_of(target)))
    assert pane.view.currentIndex().data(DayRole) == target.isoformat()
    assert strip.hasFocus()  # the strip keeps the keys
    top, bottom = strip.shown_rows or (-1, -1)
    assert top <= strip.row_of(target) <= bottom
    qtbot.keyClick(strip, Qt.Key.Key_Down)  # down the strip: back in time
    assert pane.view.currentIndex().data(DayRole) == (target - timedelta(days=1)).isoformat()
    qtbot.keyClick(strip, Qt.Key.Key_Home)
    newest = facade_of(window).timeline_days(0, 1)[0].day
    assert pane.view.currentIndex().data(DayRole) == newest


def test_source_glyphs_are_sharp_at_twice_the_pixels(qtbot: QtBot) -> None:
    ink = QColor("#777777")
    drawn = []
    for source in ("chat", "import", "file"):
        sharp = source_icon(source, ink).pixmap(QSize(14, 14), 2.0)
        assert (sharp.width(), sharp.devicePixelRatio()) == (28, 2.0)
        drawn.append(sharp.toImage())
    assert drawn[0] != drawn[1] != drawn[2]  # three different glyphs
    assert source_icon("", ink).isNull()  # nothing for a row without a source
