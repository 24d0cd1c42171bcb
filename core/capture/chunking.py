"""Cut documents into chunks that follow their structure, and make sources of them.

Every document parser turns its file into `Block`s (a paragraph, a list, a heading, a
table row) that know which lines of the file they came from, and hands them to
`chunk_blocks`. A chunk is what becomes one episode: small enough to embed and cite,
large enough to carry a thought. So chunks never run across a heading (a heading opens
a new chunk and stays with the text under it), neighbouring small blocks of one
section are merged, and a block too long for one chunk is cut at sentence ends.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reverie.core.capture.parsed import ParseContext, ParsedSource, Piece, SourceKind
from reverie.core.capture.text import lines_locator

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A sentence ends at . ! ? or … (after any closing quotes or brackets) before a space.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")
_NEWLINE = re.compile(r"\n")
_WHITESPACE = re.compile(r"\s+")
# Below this share of the room, a cut at a sentence end leaves too small a piece and
# a cut at a line break or a space is taken instead.
_MIN_CUT_SHARE = 0.3
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})([-_.])(\d{2})\2(\d{2})(?!\d)")


@dataclass(frozen=True)
class Block:
    """One structural unit of a document, in reading order.

    `first` and `last` are 1-based positions in the file (lines, or paragraphs for a
    Word document); `level` is a heading's depth (smaller is higher), None for text.
    """

    text: str
    first: int
    last: int
    level: int | None = None


@dataclass(frozen=True)
class Chunk:
    """A run of blocks (or a part of one long block) that becomes one piece."""

    text: str
    first: int
    last: int


def paragraph_blocks(text: str, line_offset: int = 0) -> list[Block]:
    """Split plain text into blocks at blank lines, with 1-based line numbers.

    Any of ``\\r\\n``, ``\\r`` and ``\\n`` ends a line, as in an editor; trailing
    spaces are dropped from each line. `line_offset` is added to every line number.
    """
    blocks: list[Block] = []
    run: list[str] = []
    start = 0
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if line.strip():
            if not run:
                start = number
            run.append(line.rstrip())
        elif run:
            blocks.append(Block("\n".join(run), start + line_offset, number - 1 + line_offset))
            run = []
    if run:
        blocks.append(
            Block("\n".join(run), start + line_offset, start + len(run) - 1 + line_offset)
        )
    return blocks


class _Builder:
    """The chunk being filled, and the chunks already done."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.done: list[Chunk] = []
        self.parts: list[Block] = []  # the blocks of the open chunk
        self.size = 0

    def headings_only(self) -> bool:
        return bool(self.parts) and all(part.level is not None for part in self.parts)

    def room_after(self, block: Block) -> int:
        """Characters left in the open chunk once `block` would join it."""
        if not self.parts:
            return self.max_chars
        return self.max_chars - self.size - len(_separator(self.parts[-1], block))

    def add(self, block: Block) -> None:
        if self.parts:
            self.size += len(_separator(self.parts[-1], block))
        self.parts.append(block)
        self.size += len(block.text)

    def flush(self) -> None:
        if not self.parts:
            return
        text = self.parts[0].text
        for before, after in zip(self.parts, self.parts[1:], strict=False):
            text += _separator(before, after) + after.text
        first = self.parts[0].first
        last = max(part.last for part in self.parts)
        self.done.append(Chunk(text, first, last))
        self.parts = []
        self.size = 0


def _separator(before: Block, after: Block) -> str:
    # Blocks that touch in the file stay on neighbouring lines; a gap keeps a blank line.
    return "\n" if after.first <= before.last + 1 else "\n\n"


def chunk_blocks(
    blocks: Iterable[Block], max_chars: int, *, newlines_are_lines: bool = True
) -> list[Chunk]:
    """Group blocks into chunks of at most `max_chars`, never across a heading.

    A heading starts a new chunk, unless the open chunk holds only higher headings
    (a title straight above a section heading): those stay together, so that no
    chunk is a lone heading when text follows. Consecutive blocks of one section are
    merged while they fit; a block longer than `max_chars` is cut at sentence ends
    (else at line breaks, else at spaces). With `newlines_are_lines`, each newline
    in a block's text is a line of the file, so the parts of a cut block get their
    own line spans; otherwise every part keeps the whole block's span.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    builder = _Builder(max_chars)
    for block in blocks:
        if not block.text.strip():
            continue
        if block.level is not None:
            _add_heading(builder, block, newlines_are_lines)
        elif builder.room_after(block) >= len(block.text):
            builder.add(block)
        else:
            _add_long(builder, block, newlines_are_lines)
    builder.flush()
    return builder.done


def _add_heading(builder: _Builder, heading: Block, newlines_are_lines: bool) -> None:
    level = heading.level if heading.level is not None else 0
    trail = builder.headings_only() and all(
        part.level is not None and part.level < level for part in builder.parts
    )
    if not (trail and builder.room_after(heading) >= len(heading.text)):
        builder.flush()
    if len(heading.text) > builder.max_chars:
        _add_long(builder, heading, newlines_are_lines)
    else:
        builder.add(heading)


def _add_long(builder: _Builder, block: Block, newlines_are_lines: bool) -> None:
    """Add a block that does not fit the open chunk, cutting it if it must be."""
    room = builder.room_after(block)
    # Only a heading keeps its chunk open for the start of a long block: plain text
    # already in the chunk is a thought of its own.
    keep_open = builder.headings_only() and room >= builder.max_chars * _MIN_CUT_SHARE
    if not keep_open:
        builder.flush()
        room = builder.max_chars
    parts = split_block(
        block, builder.max_chars, first_room=room, newlines_are_lines=newlines_are_lines
    )
    for index, part in enumerate(parts):
        # A first part the cutter could not fit into the room (no break in reach)
        # starts a chunk of its own rather than overfilling the open one.
        if index > 0 or not keep_open or builder.room_after(part) < len(part.text):
            builder.flush()
        builder.add(part)
    if len(parts) > 1:
        builder.flush()


def split_block(
    block: Block, max_chars: int, *, first_room: int | None = None, newlines_are_lines: bool = True
) -> list[Block]:
    """Cut a block into parts of at most `max_chars` (the first of `first_room`).

    Cuts fall after a sentence end when one lies in the last 70% of the room, else at
    the last line break, else at the last space, else exactly at the limit.
    """
    text = block.text
    parts: list[Block] = []
    start = 0
    room = max(1, first_room if first_room is not None else max_chars)
    while start < len(text):
        end = len(text) if len(text) - start <= room else _cut(text, start, room)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            span_start, span_end = start + lead, start + len(piece.rstrip())
            if newlines_are_lines:
                first = block.first + text.count("\n", 0, span_start)
                last = block.first + text.count("\n", 0, span_end)
            else:
                first, last = block.first, block.last
            parts.append(Block(text[span_start:span_end], first, last, block.level))
        start = end
        room = max_chars
    return parts


def _cut(text: str, start: int, room: int) -> int:
    """Where to end the part that starts at `start` and may hold `room` characters."""
    limit = start + room
    floor = start + int(room * _MIN_CUT_SHARE)
    window = text[start : limit + 1]  # one more, so a space right at the limit counts
    for pattern, lowest in ((_SENTENCE_END, floor), (_NEWLINE, floor), (_WHITESPACE, start)):
        cuts = [start + match.end() for match in pattern.finditer(window)]
        cuts = [cut for cut in cuts if lowest < cut <= limit + 1]
        if cuts:
            return min(cuts[-1], limit)
    return limit


def unique_locators(locators: Sequence[str]) -> list[str]:
    """Make locators unique: every repeated one gets ``, part N`` in order.

    Several chunks can share a span: the parts of one long line, or blocks of an
    HTML page written on one line.
    """
    counts = Counter(locators)
    seen: Counter[str] = Counter()
    unique: list[str] = []
    for locator in locators:
        if counts[locator] == 1:
            unique.append(locator)
            continue
        seen[locator] += 1
        unique.append(f"{locator}, part {seen[locator]}")
    return unique


def date_in_name(path: Path) -> datetime | None:
    """The day a file's name gives (``2024-03-12 journal.md``), at midnight, or None."""
    for match in _DATE_IN_NAME.finditer(path.stem):
        year, _, month, day = match.groups()
        try:
            return datetime(int(year), int(month), int(day))
        except ValueError:
            continue
    return None


def document_time(context: ParseContext) -> datetime:
    """When a document's text was written: the day in its name, else its mtime."""
    return date_in_name(context.path) or context.modified


def line_pieces(
    chunks: Sequence[Chunk],
    speaker: str,
    time: datetime,
    *,
    prefix: str = "",
    session: str | None = None,
) -> list[Piece]:
    """Pieces located by line spans (``lines 4-9``, after `prefix` if given)."""
    locators = unique_locators([prefix + lines_locator(c.first, c.last) for c in chunks])
    return [
        Piece(locator=locator, text=chunk.text, speaker=speaker, time=time, session=session)
        for locator, chunk in zip(locators, chunks, strict=True)
    ]


def document_source(context: ParseContext, pieces: Sequence[Piece]) -> ParsedSource:
    """The one source a document file makes: keyed by its path, titled by its name."""
    return ParsedSource(
        kind=SourceKind.FILE,
        key=str(context.path.resolve()),
        title=context.path.name,
        pieces=tuple(pieces),
    )
