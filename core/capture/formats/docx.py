"""Word documents (`.docx`): paragraphs and tables of the body, in order.

Headings ("Title", "Heading 1" …) open sections as in Markdown; a table is read row
by row, its cells joined with " | ". Locators count the body's paragraphs from 1, a
table counting as one paragraph where it stands (``paragraphs 3-7``). Headers,
footers, comments, footnotes and text boxes are not read. A .docx is a zip archive
of XML from anyone, so it is opened in a child process and its size checked first.
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import docx
from docx.document import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from reverie.core.capture.chunking import (
    Block,
    chunk_blocks,
    document_source,
    document_time,
    unique_locators,
)
from reverie.core.capture.formats import Format
from reverie.core.capture.parsed import (
    ParseContext,
    ParsedSource,
    Piece,
    SourceKind,
    Trust,
    UnreadableFile,
    short_reason,
)

# A real document unpacks to a few megabytes; far more is a zip bomb.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
_HEADING_STYLE = re.compile(r"heading\s*(\d)$", re.IGNORECASE)
_TITLE_LEVEL = 0  # above "Heading 1"


def parse_docx(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source whose pieces are the document's sections, merged or cut to size."""
    if not raw.strip():
        return [document_source(context, [])]
    _check_archive(raw, context)
    try:
        blocks = _body_blocks(docx.Document(BytesIO(raw)))
    # python-docx fails on broken archives with anything from KeyError to lxml errors.
    except Exception as error:
        raise UnreadableFile(context.path, _damage(error)) from None
    chunks = chunk_blocks(blocks, context.max_chunk_chars, newlines_are_lines=False)
    locators = unique_locators([_paragraphs_locator(c.first, c.last) for c in chunks])
    speaker, time = context.path.name, document_time(context)
    pieces = [
        Piece(locator=locator, text=chunk.text, speaker=speaker, time=time)
        for locator, chunk in zip(locators, chunks, strict=True)
    ]
    return [document_source(context, pieces)]


def _check_archive(raw: bytes, context: ParseContext) -> None:
    """Refuse what is not a zip archive, or one that would unpack to too much."""
    try:
        with zipfile.ZipFile(BytesIO(raw)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        reason = "damaged Word document: not a zip archive (an old .doc, or a renamed file?)"
        raise UnreadableFile(context.path, reason) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableFile(context.path, "damaged Word document: unpacks to too much data")


def _body_blocks(document: Document) -> list[Block]:
    """Each body paragraph and table row as a block, numbered as body items from 1."""
    blocks: list[Block] = []
    for number, item in enumerate(document.iter_inner_content(), start=1):
        if isinstance(item, Table):
            blocks.extend(Block(row, number, number) for row in _table_rows(item))
        else:
            blocks.append(Block(item.text.strip(), number, number, _heading_level(item)))
    return blocks


def _table_rows(table: Table) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # A merged cell comes once per grid column it spans: read it once.
            if cell is not previous and (text := " ".join(cell.text.split())):
                cells.append(text)
            previous = cell
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _heading_level(paragraph: Paragraph) -> int | None:
    style = paragraph.style
    name = str(style.name) if style is not None and style.name else ""
    if name.lower() == "title":
        return _TITLE_LEVEL
    match = _HEADING_STYLE.match(name)
    return int(match.group(1)) if match else None


def _paragraphs_locator(first: int, last: int) -> str:
    return f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"


def _damage(error: Exception) -> str:
    if isinstance(error, KeyError):  # a zip archive, but without Word's parts
        return "damaged Word document: a zip archive, but not of a Word document"
    return f"damaged Word document: {short_reason(str(error) or type(error).__name__)}"


FORMAT = Format(
    name="docx",
    kind=SourceKind.FILE,
    trust=Trust.USER_FILE,
    suffixes=(".docx",),
    parse=parse_docx,
    isolated=True,
)
