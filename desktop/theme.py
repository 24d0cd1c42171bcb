"""Light and dark, following the system.

The app runs the Fusion style everywhere; Fusion draws from the application palette, so
the theme is a palette: the style's own light one, or a dark one made here, chosen by the
system's colour scheme (`QStyleHints.colorScheme`, followed live) unless `REVERIE_THEME`
says `light` or `dark`.

Widgets style themselves with palette roles (`palette(placeholder-text)` in style sheets),
so they follow a switch by themselves. Rich text (the chat transcript, a memory's
detail) cannot name palette roles, so its colours come from `tone(...)`, read when the
text is rendered.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEME_ENV = "REVERIE_THEME"

# Tones that are not palette roles, for each scheme: (light, dark). Chosen for at least
# 4.5:1 contrast against the window and base colours of their scheme.
_TONES = {
    "problem": ("#a33a2a", "#f08c7c"),
    "warning": ("#8a5a00", "#e0b050"),
    "accent": ("#2f5d8a", "#8fb8e8"),
    "chip": ("#e3ecf6", "#2c3e52"),
    "highlight": ("#f6d86b", "#7a6520"),
    "answer": ("#3a3a3a", "#e4e4e4"),
}


def wants_dark() -> bool:
    """Dark when `REVERIE_THEME=dark`, or when it is unset and the system is dark."""
    chosen = os.environ.get(THEME_ENV, "").strip().lower()
    if chosen in ("light", "dark"):
        return chosen == "dark"
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication) -> None:
    """Give `app` the palette of the scheme wanted now, and follow the system's changes."""
    _apply(app)
    hints = app.styleHints()
    if not app.property("reverie_follows_scheme"):
        hints.colorSchemeChanged.connect(lambda _scheme: _apply(app))
        app.setProperty("reverie_follows_scheme", True)


def is_dark() -> bool:
    """True when the palette in use is dark (its window darker than its text)."""
    palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < palette.color(
        QPalette.ColorRole.WindowText).lightness()


def tone(name: str) -> str:
    """A named colour for rich text, as `#rrggbb` for the palette in use: `muted`
    (secondary text), `problem`, `warning`, `accent`, `chip`, `highlight`, `answer`."""
    if name == "muted":
        return _muted().name()
    if name == "highlight-text":
        return QGuiApplication.palette().color(QPalette.ColorRole.Text).name()
    light, dark = _TONES[name]
    return dark if is_dark() else light


def _apply(app: QApplication) -> None:
    style = app.style()
    app.setPalette(dark_palette() if wants_dark() else style.standardPalette())


def _muted() -> QColor:
    """Secondary text: the text colour half-way to the background, as placeholders are."""
    palette = QGuiApplication.palette()
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    return QColor((text.red() + base.red()) // 2, (text.green() + base.green()) // 2,
                  (text.blue() + base.blue()) // 2)


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
        role.LinkVisited: "#b39ddb", role.PlaceholderText: "#8f8f95",
    }
    for which, value in colours.items():
        palette.setColor(which, QColor(value))
    for which in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, which, QColor("#77777c"))
    palette.setColor(group.Disabled, role.Base, QColor("#262628"))
    palette.setColor(group.Disabled, role.Button, QColor("#303033"))
    return palette


def qss(name: str) -> str:
    """A style sheet declaration colouring text with tone `name` ("muted" follows the
    palette by itself)."""
    if name == "muted":
        return "color: palette(placeholder-text)"
    return f"color: {tone(name)}"


def color(name: str) -> QColor:
    """Tone `name` as a QColor (for an item model's foreground role)."""
    return QColor(tone(name))
