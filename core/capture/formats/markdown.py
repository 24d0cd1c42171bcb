"""Markdown files (`.md`, `.markdown`): chunks that follow the document's headings.

markdown-it-py parses the file only to find where each top-level block (heading,
paragraph, list, code block, table, quote) starts and ends; a chunk's text is then
the file's own lines, as the user wrote them, not a rendering.
"""

from __future__ import annotations

import re
from datetime import datetime

from markdown_it import MarkdownIt

from reverie.core.capture.chunking import (
    Block,
    chunk_blocks,
    document_source,
    document_time,
    line_pieces,
)
from reverie.core.capture.formats import Format
from reverie.core.capture.parsed import ParseContext, ParsedSource, SourceKind, Trust
from reverie.core.capture.text import decode_text
from reverie.core.errors import BadInput
from reverie.core.timeutil import parse_time

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# YAML front matter closes with --- or ...; TOML (Hugo) front matter is fenced by +++.
_FRONT_MATTER_ENDS = {"---": ("---", "..."), "+++": ("+++",)}
_FRONT_MATTER_DATE = re.compile(r"^date\s*[:=]\s*(.+?)\s*$", re.IGNORECASE)
# Front matter longer than this is not front matter but a document that opens with ---.
_FRONT_MATTER_MAX_LINES = 200
# Token types that carry no text worth remembering.
_SKIPPED = frozenset({"hr"})


def parse_markdown(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source whose pieces are the file's sections, merged or cut to size."""
    lines = _LINE_BREAK.split(decode_text(context.path, raw))
    front = _front_matter_length(lines)
    date = _front_matter_date(lines[:front])
    # Blank out the front matter rather than drop it, so line numbers stay the file's.
    body = [""] * front + lines[front:]
    chunks = chunk_blocks(markdown_blocks(body), context.max_chunk_chars)
    time = date or document_time(context)
    return [document_source(context, line_pieces(chunks, context.path.name, time))]


def markdown_blocks(lines: list[str]) -> list[Block]:
    """The top-level blocks of a Markdown text given as lines, each with its lines."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    blocks: list[Block] = []
    for token in parser.parse("\n".join(lines)):
        if token.level != 0 or token.map is None or token.type in _SKIPPED:
            continue
        first, last = token.map[0] + 1, token.map[1]
        while last > first and not lines[last - 1].strip():
            last -= 1
        text = "\n".join(lines[first - 1 : last])
        if token.type == "html_block" and _is_comment(text):
            continue
        level = int(token.tag[1:]) if token.type == "heading_open" else None
        blocks.append(Block(text, first, last, level))
    return blocks


def _is_comment(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("<!--") and stripped.endswith("-->")


def _front_matter_length(lines: list[str]) -> int:
    """How many lines of front matter open the file (fences included), or 0."""
    if not lines:
        return 0
    closers = _FRONT_MATTER_ENDS.get(lines[0].strip())
    if closers is None:
        return 0
    for index, line in enumerate(lines[1:_FRONT_MATTER_MAX_LINES], start=1):
        if line.strip() in closers:
            return index + 1
    return 0


def _front_matter_date(lines: list[str]) -> datetime | None:
    for line in lines:
        match = _FRONT_MATTER_DATE.match(line)
        if match is None:
            continue
        value = match.group(1).strip("\"'")
        try:
            return parse_time(value)
        except BadInput:
            return None
    return None


FORMAT = Format(
    name="markdown",
    kind=SourceKind.FILE,
    trust=Trust.USER_FILE,
    suffixes=(".md", ".markdown"),
    parse=parse_markdown,
)
