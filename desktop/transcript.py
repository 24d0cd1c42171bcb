"""The chat transcript: messages written block by block as read-only rich text.

An answer is streamed into the block `begin_answer` opens, then `settle_answer` puts
the final text in its place. Under it come the source chips and the "Memories used"
list; both are links (`reverie-item:<id>`) that `item_clicked` reports.

Colours are theme tones named where the text is written (`color="muted"`); the name is
kept in the text's format, so a switch between light and dark recolours what is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from reverie.core.chat.conversations import StoredTurn
from reverie.core.chat.session import USER_SPEAKER
from reverie.core.types import Hit
from reverie.desktop.labels import plural, short_date, speaker_name
from reverie.desktop.theme import tone

ITEM_SCHEME = "reverie-item"  # links in the transcript: reverie-item:<item id>
STORED_NOTE = ("Earlier answers are shown without the memories they drew on: "
               "only their text is kept. A new question is answered with sources again.")
_EXCERPT_CHARS = 140
_LINE_BREAK = "\u2028"  # a line break inside one block
# Where a fragment's tone names are kept in its char format, to recolour it later.
_FOREGROUND_TONE = QTextFormat.Property.UserProperty + 1
_BACKGROUND_TONE = QTextFormat.Property.UserProperty + 2


def hit_heading(number: int, hit: Hit) -> str:
    """The first line of a "Memories used" entry: [n] date · source#ref."""
    where = ", ".join(f"{s.source}#{s.ref}" for s in hit.sources) or hit.kind.value
    return f"[{number}] {short_date(hit.time)} · {where}"


def chip_label(number: int, hit: Hit) -> str:
    """A source chip's text: [n] where · date."""
    where = hit.sources[0].source if hit.sources else hit.kind.value
    return f"[{number}] {where} · {short_date(hit.time)}"


def item_link(item_id: str) -> str:
    """The transcript link that opens an item in the timeline."""
    return f"{ITEM_SCHEME}:{item_id}"


def hit_excerpt(hit: Hit) -> str:
    """The second line of a "Memories used" entry: who said what, shortened."""
    text = " ".join(hit.text.split())
    if len(text) > _EXCERPT_CHARS:
        text = text[: _EXCERPT_CHARS - 1].rstrip() + "…"
    return f"{speaker_name(hit.speaker)}: {text}" if hit.speaker else text


class Transcript(QTextBrowser):
    """The conversation as read-only rich text, written block by block."""

    item_clicked = Signal(str)  # the id of a memory or turn whose link was clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chat transcript")
        self.setOpenLinks(False)
        # One short line: a text browser draws its placeholder unwrapped, and the
        # transcript is narrow beside the conversation list.
        self.setPlaceholderText("Ask about your past: plans, who said what, and when.")
        self.document().setDocumentMargin(12)
        self._answer_at = 0
        self.anchorClicked.connect(self._on_link)

    def show_turns(self, turns: tuple[StoredTurn, ...], earlier: int) -> None:
        """A stored conversation, turn by turn, in place of what was shown.

        Only the answers' text is stored, so they come without their source chips;
        each turn's time links to it in the timeline instead.
        """
        self.clear()
        if earlier:
            self.add_note(f"{plural(earlier, 'earlier turn')} not shown.", color="muted")
        day = None
        for turn in turns:
            if turn.time.date() != day:  # the date once a day, then only times
                day = turn.time.date()
                self._block(top=0 if self.document().isEmpty() else 18)
                self._write(short_date(day), bold=True, color="muted", small=True)
            user = turn.speaker == USER_SPEAKER
            self._block(top=8)
            self._write("You" if user else "Reverie", bold=True,
                        color="accent" if user else "answer")
            self._write(f"  {turn.time:%H:%M}", color="muted", small=True,
                        link=item_link(turn.episode_id))
            self._block(top=2)
            self.append_text(turn.text)
        if turns:
            self.add_note(STORED_NOTE, color="muted")

    def begin_answer(self) -> None:
        """Reverie's name, then an empty block that streamed tokens will fill."""
        self.add_message("Reverie", "", color="answer")
        self._answer_at = self._end().position()

    def settle_answer(self, text: str) -> None:
        """Replace what was streamed since `begin_answer` by the final answer."""
        cursor = self._end()
        cursor.setPosition(self._answer_at, QTextCursor.MoveMode.KeepAnchor)
        if cursor.selectedText() != text.replace("\n", _LINE_BREAK):
            cursor.removeSelectedText()
            self.append_text(text)

    def add_sources(self, cited: tuple[Hit, ...], used: tuple[Hit, ...]) -> None:
        """The chips of the items an answer drew on, numbered as in "Memories used"."""
        if not cited:
            return
        self._block(top=6)
        self._write("Sources ", bold=True, color="muted", small=True)
        numbers = {hit.id: number for number, hit in enumerate(used, 1)}
        for hit in cited:
            self._write(" ", small=True)
            self._write(
                f"\u2009{chip_label(numbers.get(hit.id, 0), hit)}\u2009", color="accent",
                small=True, link=item_link(hit.id), background="chip",
            )

    def add_note(self, text: str, *, color: str) -> None:
        """A small line under an answer, in tone `color`."""
        self._block(top=4)
        self._write(text, color=color, small=True)

    def add_message(self, who: str, text: str, *, color: str) -> None:
        """A speaker's name on its own line in tone `color`, then the text (possibly
        empty, to stream)."""
        self._block(top=0 if self.document().isEmpty() else 14)
        self._write(who, bold=True, color=color)
        self._block(top=2)
        self.append_text(text)

    def append_text(self, text: str, *, color: str | None = None) -> None:
        """Add text to the last block (in tone `color`, or the palette's text colour):
        streamed tokens land here."""
        self._write(text.replace("\n", _LINE_BREAK), color=color)

    def add_memories(self, used: tuple[Hit, ...], cited: tuple[Hit, ...]) -> None:
        """The "Memories used" list under an answer, cited ones marked."""
        self._block(top=8)
        if not used:
            self._write("No memories were found for this message.", color="muted", small=True)
            return
        self._write("Memories used", bold=True, color="muted", small=True)
        cited_ids = {hit.id for hit in cited}
        for number, hit in enumerate(used, 1):
            self._block(top=3, left=12)
            self._write(hit_heading(number, hit), color="accent", small=True,
                        link=item_link(hit.id))
            if hit.id in cited_ids:
                self._write("  · cited", bold=True, color="accent", small=True)
            self._write(_LINE_BREAK + hit_excerpt(hit), color="muted", small=True)

    def _end(self) -> QTextCursor:
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _block(self, *, top: float = 0, left: float = 0) -> None:
        block = QTextBlockFormat()
        block.setTopMargin(top)
        block.setLeftMargin(left)
        cursor = self._end()
        if self.document().isEmpty():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block, QTextCharFormat())

    def changeEvent(self, event: QEvent) -> None:
        """Recolour the text written so far when the palette (light or dark) changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            recolour(self.document())

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == ITEM_SCHEME:
            self.item_clicked.emit(url.path())

    def _write(
        self, text: str, *, bold: bool = False, color: str | None = None, small: bool = False,
        link: str | None = None, background: str | None = None,
    ) -> None:
        if not text:
            return
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
        if color is not None:
            fmt.setForeground(QBrush(QColor(tone(color))))
            fmt.setProperty(_FOREGROUND_TONE, color)
        if background is not None:
            fmt.setBackground(QBrush(QColor(tone(background))))
            fmt.setProperty(_BACKGROUND_TONE, background)
        if link is not None:
            fmt.setAnchor(True)
            fmt.setAnchorHref(link)
            fmt.setToolTip("Open in the timeline")
        if small:
            fmt.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.88))
        self._end().insertText(text, fmt)
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())


def recolour(document: QTextDocument) -> None:
    """Give every fragment written with a tone that tone's colour in the palette in use."""
    changes: list[tuple[int, int, QTextCharFormat]] = []
    block = document.begin()
    while block.isValid():
        for part in block.textFormats():
            change = QTextCharFormat()
            for key, apply in ((_FOREGROUND_TONE, change.setForeground),
                               (_BACKGROUND_TONE, change.setBackground)):
                name = part.format.property(key)
                if isinstance(name, str):
                    apply(QBrush(QColor(tone(name))))
            if change.properties():
                changes.append((block.position() + part.start, part.length, change))
        block = block.next()
    for start, length, change in changes:  # after the walk: merging splits fragments
        cursor = QTextCursor(document)
        cursor.setPosition(start)
        cursor.setPosition(start + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(change)
