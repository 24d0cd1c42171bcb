"""Plain text files (`.txt`, `.text`, `.log`): paragraphs split at blank lines."""

from __future__ import annotations

from reverie.core.capture.chunking import (
    chunk_blocks,
    document_source,
    document_time,
    line_pieces,
    paragraph_blocks,
)
from reverie.core.capture.formats import Format
from reverie.core.capture.parsed import ParseContext, ParsedSource, SourceKind, Trust
from reverie.core.capture.text import decode_text


def parse_plaintext(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source whose pieces are the file's paragraphs, merged or cut to size."""
    text = decode_text(context.path, raw)
    chunks = chunk_blocks(paragraph_blocks(text), context.max_chunk_chars)
    pieces = line_pieces(chunks, context.path.name, document_time(context))
    return [document_source(context, pieces)]


FORMAT = Format(
    name="text",
    kind=SourceKind.FILE,
    trust=Trust.USER_FILE,
    suffixes=(".txt", ".text", ".log"),
    parse=parse_plaintext,
)
