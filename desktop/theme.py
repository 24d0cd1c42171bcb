"""Light and dark, following the system.

The app runs the Fusion style everywhere; Fusion draws from the application palette, so
the theme is a palette: the style's own light one, or a dark one made here, chosen by the
system's colour scheme (`QStyleHints.colorScheme`, followed live) unless `REVERIE_THEME`
says `light` or `dark`.

Colours that are not palette roles are *tones*, one name per meaning (`muted`,
`accent`, `answer`, `problem`, `warning`, `good`; `chip` and `highlight` behind text),
each a pair (light, dark) read at draw or data time with `tone`, `color` or `qss`:
item models return `color(...)` from `data()`, rich text asks `tone(...)` when it is
written. A style sheet resolves its colours once, when it is set, even
`palette(placeholder-text)`; so on a scheme change every widget's style sheet is set
again, and a label coloured with `use_tone(label, name)` gets the new scheme's tone.
Every text tone keeps WCAG AA contrast (4.5:1) on both palettes' window, base and
alternate-base colours (tests/desktop/test_theme.py computes the ratios).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

THEME_ENV = "REVERIE_THEME"

TONE_PROPERTY = "reverieTone"  # the tone a widget's text was given by `use_tone`

# Tones that are not palette roles, for each scheme: (light, dark). Text tones keep at
# least 4.5:1 contrast against the window, base and alternate-base colours of their
# scheme; `chip` and `highlight` are backgrounds, under accent and plain text.
_TONES = {
    # Secondary text: dates, notes, hints, placeholders. Cool greys (red below green):
    # the anti-aliased edges of neutral grey text on grey never match one exactly, so a
    # test reading drawn pixels can tell which scheme's muted was used.
    "muted": ("#5d6066", "#a5a8ae"),
    "accent": ("#2f5d8a", "#8fb8e8"),  # the user's words, links, citation chips' text
    "answer": ("#3a3a3a", "#e4e4e4"),  # the speaker name over Reverie's answers
    "problem": ("#a33a2a", "#f08c7c"),  # errors, refusals, broken things
    "warning": ("#8a5a00", "#e0b050"),  # waits for the user, polling, a fair passphrase
    "good": ("#2a6b2e", "#86c98a"),  # a strong passphrase, a check that passed
    "chip": ("#e3ecf6", "#2c3e52"),  # behind a citation chip (accent text)
    "highlight": ("#f6d86b", "#7a6520"),  # behind a search match (plain text)
}
DARK_OUTLINE = "#8a8a90"  # rings check boxes, radio buttons and text fields when dark
TEXT_TONES = ("muted", "accent", "answer", "problem", "warning", "good")
"""The tones drawn as text (the others are backgrounds)."""


def wants_dark() -> bool:
    """Dark when `REVERIE_THEME=dark`, or when it is unset and the system is dark."""
    chosen = os.environ.get(THEME_ENV, "").strip().lower()
    if chosen in ("light", "dark"):
        return chosen == "dark"
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication) -> None:
    """Give `app` the palette of the scheme wanted now, and follow the system's changes.

    The app's style is wrapped once in `OutlinedIndicators`.
    """
    if not isinstance(app.style(), OutlinedIndicators):
        app.setStyle(OutlinedIndicators(app.style().name()))
    _apply(app)
    hints = app.styleHints()
    if not app.property("reverie_follows_scheme"):
        hints.colorSchemeChanged.connect(lambda _scheme: _apply(app))
        app.setProperty("reverie_follows_scheme", True)


def is_dark() -> bool:
    """True when the palette in use is dark (its window darker than its text)."""
    return _dark(QGuiApplication.palette())


def tone(name: str) -> str:
    """A named colour as `#rrggbb` for the palette in use: one of `_TONES` (`muted`,
    `accent`, `answer`, `problem`, `warning`, `good`, `chip`, `highlight`), or
    `highlight-text` (the palette's text colour, drawn on `highlight`).

    Raises KeyError for a name that is none of these.
    """
    if name == "highlight-text":
        return QGuiApplication.palette().color(QPalette.ColorRole.Text).name()
    light, dark = _TONES[name]
    return dark if is_dark() else light


def use_tone(widget: QWidget, name: str | None) -> None:
    """Colour `widget`'s text (a label's) with tone `name`, now and after every scheme
    change (`apply_theme` sets it again); None gives it back the palette's text colour.

    The widget's style sheet is this one declaration. Raises KeyError for an unknown name.
    """
    declaration = "" if name is None else qss(name)
    widget.setProperty(TONE_PROPERTY, name or "")
    widget.setStyleSheet(declaration)


def _apply(app: QApplication) -> None:
    dark = wants_dark()
    app.setPalette(dark_palette() if dark else light_palette(app.style()))
    # Style sheets resolved their colours (palette roles included) when they were set:
    # set each again, so that what was drawn for the old scheme follows the new one.
    for widget in app.allWidgets():
        named = widget.property(TONE_PROPERTY)
        if isinstance(named, str) and named:
            widget.setStyleSheet(qss(named))
        elif widget.styleSheet():
            widget.setStyleSheet(widget.styleSheet())


class OutlinedIndicators(QProxyStyle):
    """The app's style, with check boxes, radio buttons and text fields ringed in
    `DARK_OUTLINE` on a dark palette.

    Fusion rings them in the window colour made darker, which on a dark window is all
    but invisible (an unchecked radio button was a black dot on black, a search field
    only a slightly darker patch): the ring drawn over it here keeps 3:1 contrast with
    the window, as WCAG asks of controls. A focused text field keeps Fusion's
    highlight ring.
    """

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,
                      painter: QPainter, widget: QWidget | None = None) -> None:
        """Draw as the base style does, then the ring when the palette is dark."""
        super().drawPrimitive(element, option, painter, widget)
        kind = _RINGED.get(element)
        if kind is None or not _dark(option.palette):
            return
        if kind == "field" and option.state & QStyle.StateFlag.State_HasFocus:
            return
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        ring = QColor(DARK_OUTLINE) if enabled else option.palette.color(
            QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
        _draw_ring(painter, QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5), ring, kind)


_RINGED = {QStyle.PrimitiveElement.PE_IndicatorRadioButton: "radio",
           QStyle.PrimitiveElement.PE_IndicatorCheckBox: "box",
           QStyle.PrimitiveElement.PE_FrameLineEdit: "field"}


def _draw_ring(painter: QPainter, box: QRectF, ring: QColor, kind: str) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(ring, 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    if kind == "radio":
        painter.drawEllipse(box.adjusted(0.5, 0.5, -0.5, -0.5))
    elif kind == "box":
        painter.drawRoundedRect(box.adjusted(0, 0, -1, -1), 1.5, 1.5)
    else:
        painter.drawRoundedRect(box, 2.0, 2.0)
    painter.restore()


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < palette.color(
        QPalette.ColorRole.WindowText).lightness()


def light_palette(style: QStyle) -> QPalette:
    """The style's own light palette, with placeholders in the muted tone: the style's
    (its text at half opacity) falls short of 4.5:1 contrast on the window colour."""
    palette = style.standardPalette()
    muted = QColor(_TONES["muted"][0])
    palette.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.PlaceholderText, muted)
    palette.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.PlaceholderText, muted)
    return palette


def dark_palette() -> QPalette:
    """A dark palette for Fusion: grey surfaces, light text, a calm blue highlight."""
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    palette = QPalette()
    colours = {
        role.Window: "#2b2b2d", role.WindowText: "#e6e6e6", role.Base: "#1f1f21",
        role.AlternateBase: "#29292c", role.ToolTipBase: "#3a3a3d", role.ToolTipText: "#f0f0f0",
        role.Text: "#e6e6e6", role.Button: "#38383b", role.ButtonText: "#e6e6e6",
        role.BrightText: "#ffffff", role.Light: "#4a4a4e", role.Midlight: "#3e3e42",
        role.Mid: "#2f2f32", role.Dark: "#161618", role.Shadow: "#0c0c0d",
        role.Highlight: "#3d6fa8", role.HighlightedText: "#ffffff", role.Link: "#8fb8e8",
        role.LinkVisited: "#b39ddb", role.PlaceholderText: _TONES["muted"][1],
    }
    for which, value in colours.items():
        palette.setColor(which, QColor(value))
    for which in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, which, QColor("#77777c"))
    palette.setColor(group.Disabled, role.Base, QColor("#262628"))
    palette.setColor(group.Disabled, role.Button, QColor("#303033"))
    return palette


def qss(name: str) -> str:
    """A style sheet declaration colouring text with tone `name`, for the scheme in use
    (`use_tone` keeps a widget's following the scheme)."""
    return f"color: {tone(name)}"


def color(name: str) -> QColor:
    """Tone `name` as a QColor (for an item model's foreground role)."""
    return QColor(tone(name))
