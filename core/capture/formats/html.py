"""Saved web pages (`.html`, `.htm`): the page's readable text, block by block.

Scripts, styles, navigation and the `<head>` are dropped; every block element
(paragraph, heading, list item, table row, quote, preformatted text, loose text in a
`<div>`) becomes a block whose lines are where its text sits in the file. Text is
normalised as a browser shows it: runs of spaces and newlines become one space, and
`<br>` a line break. Web pages are mostly others' words, so their trust is external.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from bs4 import (
    BeautifulSoup,
    ParserRejectedMarkup,
    UnusualUsageWarning,
    XMLParsedAsHTMLWarning,
)
from bs4.element import NavigableString, PreformattedString, Tag

from reverie.core.capture.chunking import (
    Block,
    chunk_blocks,
    document_source,
    document_time,
    line_pieces,
)
from reverie.core.capture.formats import Format
from reverie.core.capture.parsed import (
    ParseContext,
    ParsedSource,
    SourceKind,
    Trust,
    UnreadableFile,
)
from reverie.core.capture.text import decode_text

# Elements whose text is never the page's content.
DROPPED = frozenset(
    "script style nav head title noscript template svg iframe object embed canvas "
    "button select option textarea".split()
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements that hold text of their own and end the text before them; nothing inside
# them starts another block (a row's cells are joined with " | ").
_LEAVES = frozenset({"p", "pre", "tr", "dt", "caption", "figcaption", "summary", *_HEADINGS})
# Elements that break the flow of text; their loose text is a block of its own.
_CONTAINERS = frozenset(
    "html body div section article main header footer aside address blockquote ul ol li "
    "dl dd table thead tbody tfoot figure details fieldset form hr center".split()
)
_BLOCKS = _LEAVES | _CONTAINERS
_CELLS = frozenset({"td", "th"})
_CELL_SEPARATOR = " | "
_SPACES = re.compile(r"\s+")


def parse_html(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source whose pieces are the page's text blocks, merged or cut to size."""
    soup = read_html(context, decode_text(context.path, raw))
    blocks = html_blocks(soup)
    chunks = chunk_blocks(blocks, context.max_chunk_chars, newlines_are_lines=False)
    return [
        document_source(context, line_pieces(chunks, context.path.name, document_time(context)))
    ]


def read_html(context: ParseContext, text: str) -> BeautifulSoup:
    """Parse HTML text, or raise `UnreadableFile` if the parser gives up on it.

    The pure-Python parser is used because it records each element's line (bs4's
    lxml builder does not) and runs no native code on hostile pages.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # bs4 warns when markup looks like a URL or like XML; both still parse, and a
    # warning about a user's file helps no one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusualUsageWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        try:
            return BeautifulSoup(text, "html.parser")
        except (ParserRejectedMarkup, AssertionError) as error:
            raise UnreadableFile(context.path, f"damaged HTML: {error}") from None


def html_blocks(soup: BeautifulSoup) -> list[Block]:
    """The readable text blocks of a parsed page, in reading order."""
    walker = _Walker()
    walker.walk(soup)
    return walker.blocks


@dataclass
class _Segment:
    text: str
    raw: bool = False  # kept as is: a line break or a cell separator


@dataclass
class _Walker:
    """Walks the tree without recursion (pages can nest thousands deep)."""

    blocks: list[Block] = field(default_factory=list)
    segments: list[_Segment] = field(default_factory=list)
    first: int | None = None  # the line of the block's first visible character
    last: int = 0
    cursor: int = 1  # the line the walk is at in the source
    leaf: Tag | None = None  # the leaf element being read, if any
    cell_pending: bool = False  # a new table cell began: separate its text

    def walk(self, root: Tag) -> None:
        stack: list[tuple[Tag, Iterator[object]]] = [(root, iter(root.children))]
        while stack:
            tag, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                self._leave(tag)
            elif isinstance(child, Tag):
                if self._enter(child):
                    stack.append((child, iter(child.children)))
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                self._text(str(child))
        self._flush()

    def _enter(self, tag: Tag) -> bool:
        """Start reading an element; False when its content is skipped."""
        if tag.sourceline is not None:
            self.cursor = tag.sourceline
        name = tag.name
        if name in DROPPED or tag.has_attr("hidden"):
            self.cursor += sum(str(s).count("\n") for s in tag.find_all(string=True))
            return False
        if name == "br":
            self.segments.append(_Segment("\n", raw=True))
            return False
        if self.leaf is not None:
            self.cell_pending = self.cell_pending or name in _CELLS
            return True
        if name in _BLOCKS:
            self._flush()
        if name in _LEAVES:
            self.leaf = tag
        return True

    def _leave(self, tag: Tag) -> None:
        if tag is self.leaf:
            self._flush(level=_HEADINGS.get(tag.name), pre=tag.name == "pre")
            self.leaf = None
        elif self.leaf is None and tag.name in _BLOCKS:
            self._flush()

    def _text(self, text: str) -> None:
        stripped = text.strip()
        if stripped:
            if self.cell_pending and self.first is not None:
                self.segments.append(_Segment(_CELL_SEPARATOR, raw=True))
            self.cell_pending = False
            first = self.cursor + text[: len(text) - len(text.lstrip())].count("\n")
            if self.first is None:
                self.first = first
            self.last = max(self.last, first + stripped.count("\n"))
        self.segments.append(_Segment(text))
        self.cursor += text.count("\n")

    def _flush(self, level: int | None = None, pre: bool = False) -> None:
        text = _preformatted(self.segments) if pre else _normalised(self.segments)
        if text and self.first is not None:
            self.blocks.append(Block(text, self.first, max(self.first, self.last), level))
        self.segments = []
        self.cell_pending = False
        self.first = None
        self.last = 0


def _normalised(segments: list[_Segment]) -> str:
    """Text as a browser shows it: spaces collapsed, `<br>` breaks kept."""
    joined = "".join(s.text if s.raw else _SPACES.sub(" ", s.text) for s in segments)
    lines = (_SPACES.sub(" ", line).strip() for line in joined.split("\n"))
    return "\n".join(line for line in lines if line)


def _preformatted(segments: list[_Segment]) -> str:
    """Preformatted text, with only trailing spaces and blank edges removed."""
    lines = [line.rstrip() for line in "".join(s.text for s in segments).split("\n")]
    return "\n".join(lines).strip("\n")


FORMAT = Format(
    name="html",
    kind=SourceKind.FILE,
    trust=Trust.EXTERNAL,
    suffixes=(".html", ".htm"),
    parse=parse_html,
)
