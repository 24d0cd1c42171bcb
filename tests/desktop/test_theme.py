"""Light and dark: every text tone readable on both palettes (WCAG AA, computed), and a
scheme change honoured by labels, style sheets, the transcript and item models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QStyle,
    QStyleFactory,
    QStyleOptionButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from reverie.core.capture.watching import SourceStatus, WatchedSource
from reverie.core.types import Hit, ItemKind, SourceRef
from reverie.desktop import theme
from reverie.desktop.care_model import InboxItem, InboxModel
from reverie.desktop.sources_model import Column, SourcesModel
from reverie.desktop.transcript import Transcript

pytestmark = pytest.mark.gui

AA_TEXT = 4.5  # WCAG 2 level AA for body text
ROLE = QPalette.ColorRole
BACKGROUNDS = (ROLE.Window, ROLE.Base, ROLE.AlternateBase)


def relative_luminance(colour: QColor) -> float:
    """WCAG 2's relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * linear(colour.red()) + 0.7152 * linear(colour.green())
            + 0.0722 * linear(colour.blue()))


def contrast(one: QColor, other: QColor) -> float:
    """WCAG 2's contrast ratio, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_gives_the_known_extremes() -> None:
    assert contrast(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast(QColor("#777777"), QColor("#777777")) == pytest.approx(1.0)
    # The WCAG reference example: #767676 is the lightest grey that passes AA on white.
    assert contrast(QColor("#767676"), QColor("#ffffff")) >= AA_TEXT
    assert contrast(QColor("#777777"), QColor("#ffffff")) < AA_TEXT


@pytest.fixture
def palettes(qapp: QApplication) -> Iterator[dict[str, QPalette]]:
    """Both of the app's palettes; the test's application palette is restored after."""
    saved = qapp.palette()
    fusion = QStyleFactory.create("Fusion")
    assert fusion is not None
    yield {"light": theme.light_palette(fusion), "dark": theme.dark_palette()}
    qapp.setPalette(saved)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_tone_passes_aa_on_every_background_of_its_palette(
    qapp: QApplication, palettes: dict[str, QPalette], scheme: str
) -> None:
    palette = palettes[scheme]
    qapp.setPalette(palette)
    assert theme.is_dark() == (scheme == "dark")
    failures = []
    texts = {name: QColor(theme.tone(name)) for name in theme.TEXT_TONES}
    texts.update({"palette text": palette.color(ROLE.Text),
                  "palette window text": palette.color(ROLE.WindowText),
                  "placeholder": palette.color(ROLE.PlaceholderText),
                  "link": palette.color(ROLE.Link)})
    for name, colour in texts.items():
        for background in BACKGROUNDS:
            ratio = contrast(colour, palette.color(background))
            if ratio < AA_TEXT:
                failures.append(f"{name} {colour.name()} on {background.name}: {ratio:.2f}")
    # Text drawn on the background tones: chips hold accent text, highlights plain text.
    pairs = {"accent on chip": ("accent", "chip"), "text on highlight": ("highlight-text",
                                                                         "highlight")}
    for label, (front, back) in pairs.items():
        ratio = contrast(QColor(theme.tone(front)), QColor(theme.tone(back)))
        if ratio < AA_TEXT:
            failures.append(f"{label}: {ratio:.2f}")
    assert not failures, failures


def test_tones_follow_the_palette_in_use(
    qapp: QApplication, palettes: dict[str, QPalette]
) -> None:
    seen = {}
    for scheme, palette in palettes.items():
        qapp.setPalette(palette)
        seen[scheme] = {name: theme.tone(name) for name in theme.TEXT_TONES}
    assert all(seen["light"][name] != seen["dark"][name] for name in theme.TEXT_TONES)
    assert theme.color("problem").name() == seen["dark"]["problem"]
    with pytest.raises(KeyError):
        theme.tone("purple")


def drawn_colours(widget: QWidget) -> set[str]:
    image = widget.grab().toImage()
    return {image.pixelColor(x, y).name() for x in range(image.width())
            for y in range(image.height())}


@pytest.fixture
def switch(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch, palettes: dict[str, QPalette]
) -> Iterator[object]:
    """A function switching the app between light and dark as the system would."""
    style = qapp.style().name() or "fusion"
    qapp.setStyle("Fusion")

    def to(scheme: str) -> None:
        monkeypatch.setenv(theme.THEME_ENV, scheme)
        theme.apply_theme(qapp)
        qapp.processEvents()

    yield to
    qapp.setStyle(style)


def test_a_scheme_change_recolours_toned_labels_and_palette_style_sheets(
    qtbot: QtBot, switch: object
) -> None:
    assert callable(switch)
    switch("light")
    toned, hinted = QLabel("Problem HHHH"), QLabel("Hint HHHH")
    for label in (toned, hinted):
        label.setFont(QFont(label.font().family(), 40, QFont.Weight.Black))
        qtbot.addWidget(label)
        label.show()
    theme.use_tone(toned, "problem")
    hinted.setStyleSheet("color: palette(placeholder-text)")
    light_problem, light_muted = theme.tone("problem"), theme.tone("muted")
    assert light_problem in drawn_colours(toned)
    assert light_muted in drawn_colours(hinted)

    switch("dark")
    dark_problem, dark_muted = theme.tone("problem"), theme.tone("muted")
    assert (dark_problem, dark_muted) != (light_problem, light_muted)
    assert dark_problem in drawn_colours(toned)
    assert light_problem not in drawn_colours(toned)
    assert dark_muted in drawn_colours(hinted)
    assert light_muted not in drawn_colours(hinted)

    theme.use_tone(toned, None)  # back to the palette's own text colour
    switch("light")
    assert toned.styleSheet() == ""
    assert light_problem not in drawn_colours(toned)


def test_the_transcript_recolours_what_it_shows(qtbot: QtBot, switch: object) -> None:
    assert callable(switch)
    switch("light")
    transcript = Transcript()
    qtbot.addWidget(transcript)
    hit = Hit("m1", ItemKind.MEMORY, "Sam moved to Lisbon", 1.0, datetime(2025, 3, 2, 9, 0),
              (SourceRef("chat with Sam", "t4"),))
    transcript.add_message("You", "Where did Sam move?", color="accent")
    transcript.begin_answer()
    transcript.settle_answer("To Lisbon [1].")
    transcript.add_sources((hit,), (hit,))
    transcript.add_note("A note", color="muted")

    def colours() -> tuple[set[str], set[str]]:
        fronts, backs = set(), set()
        block = transcript.document().begin()
        while block.isValid():
            for part in block.textFormats():
                if part.format.foreground().style() != Qt.BrushStyle.NoBrush:
                    fronts.add(part.format.foreground().color().name())
                if part.format.background().style() != Qt.BrushStyle.NoBrush:
                    backs.add(part.format.background().color().name())
            block = block.next()
        return fronts, backs

    light = {name: theme.tone(name) for name in ("accent", "answer", "muted", "chip")}
    fronts, backs = colours()
    assert {light["accent"], light["answer"], light["muted"]} <= fronts
    assert backs == {light["chip"]}
    text = transcript.toPlainText()

    switch("dark")
    dark = {name: theme.tone(name) for name in ("accent", "answer", "muted", "chip")}
    fronts, backs = colours()
    assert fronts == {dark["accent"], dark["answer"], dark["muted"]}
    assert backs == {dark["chip"]}
    assert transcript.toPlainText() == text  # recoloured, not rewritten


def test_item_models_give_the_tone_of_the_scheme_in_use(switch: object) -> None:
    assert callable(switch)
    source = WatchedSource(
        id=1, path=Path("/data/notes"), is_folder=True, include=(), exclude=(), paused=False,
        added=datetime(2026, 1, 1, tzinfo=UTC), last_scan=None, mode="native",
        error="the folder is gone",
    )
    model = SourcesModel()
    model.set_statuses([SourceStatus(source=source, state="error", done=0, total=0, files=0,
                                     skipped=0, episodes=0)])
    state = model.index(0, Column.STATE)
    seen = {}
    for scheme in ("light", "dark"):
        switch(scheme)
        seen[scheme] = model.data(state, Qt.ItemDataRole.ForegroundRole)
        assert seen[scheme] == theme.color("problem")
    assert seen["light"] != seen["dark"]


def test_the_review_inbox_gives_the_warning_tone_of_the_scheme_in_use(switch: object) -> None:
    assert callable(switch)
    model = InboxModel()
    model.set_rows([InboxItem("mem_1", "memory", "[fact] Sam likes tea", 0.4),
                    InboxItem("run_1:0", "change", 'propose: merge "a" into "b"')])
    memory, change = model.index(0, 0), model.index(1, 0)
    seen = {}
    for scheme in ("light", "dark"):
        switch(scheme)
        assert model.data(memory, Qt.ItemDataRole.ForegroundRole) is None  # plain text
        seen[scheme] = model.data(change, Qt.ItemDataRole.ForegroundRole)
        assert seen[scheme] == theme.color("warning")
    assert seen["light"] != seen["dark"]


def test_check_boxes_and_radio_buttons_stay_visible_in_the_dark(
    qtbot: QtBot, switch: object, palettes: dict[str, QPalette]
) -> None:
    assert callable(switch)
    window = palettes["dark"].color(ROLE.Window)
    assert contrast(QColor(theme.DARK_OUTLINE), window) >= 3.0  # WCAG: controls 3:1
    switch("dark")
    box, radio = QCheckBox("Pinned"), QRadioButton("Keep the key in the keyring")
    for button in (box, radio):
        qtbot.addWidget(button)
        button.show()
    qtbot.waitExposed(radio)

    def brightest_ring(button: QWidget, element: QStyle.SubElement) -> QColor:
        option = QStyleOptionButton()
        option.initFrom(button)
        indicator = button.style().subElementRect(element, option, button)
        image = button.grab().toImage()
        return max((image.pixelColor(x, y) for x in range(indicator.left(), indicator.right())
                    for y in range(indicator.top(), indicator.bottom())),
                   key=relative_luminance)

    assert theme.DARK_OUTLINE in drawn_colours(box)
    ring = brightest_ring(radio, QStyle.SubElement.SE_RadioButtonIndicator)
    assert contrast(ring, window) >= 3.0
    switch("light")  # Fusion's own ring, which is fine on a light window
    assert theme.DARK_OUTLINE not in drawn_colours(box)


def test_text_fields_are_ringed_in_the_dark_until_focused(
    qtbot: QtBot, switch: object
) -> None:
    assert callable(switch)
    switch("dark")
    field, other = QLineEdit(), QLineEdit()
    for widget in (field, other):
        qtbot.addWidget(widget)
        widget.show()
    qtbot.waitExposed(field)
    assert theme.DARK_OUTLINE in drawn_colours(field)  # found by its edge, not its fill
    field.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is field)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    assert theme.DARK_OUTLINE not in drawn_colours(field)  # Fusion's focus ring instead
    switch("light")
    assert theme.DARK_OUTLINE not in drawn_colours(other)
