"""PDF files: the text layer of each page, chunked page by page.

pypdf extracts each page's text in the order the file draws it, which keeps the
columns of a two-column page apart. Chunks never run across pages; a locator names
the page and the lines of that page's extracted text (``page 2, lines 1-14``). A PDF
is hostile input parsed by a large library, so it is read in a child process.
"""

from __future__ import annotations

import logging
import warnings
from io import BytesIO

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from reverie.core.capture.chunking import (
    chunk_blocks,
    document_source,
    document_time,
    line_pieces,
    paragraph_blocks,
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

# pypdf logs every flaw it repairs in a damaged file as a warning; what matters to the
# user is whether text came out, which the importer reports.
logging.getLogger("pypdf").setLevel(logging.ERROR)

# The end-of-file marker sits in the last kilobyte of every complete PDF.
_TAIL_BYTES = 1024
_HEAD_BYTES = 1024


def parse_pdf(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source whose pieces are chunks of each page's text, page by page.

    A PDF without a text layer (a scan) gives a source with no pieces.
    """
    if not raw.strip():
        return [document_source(context, [])]
    if b"%PDF-" not in raw[:_HEAD_BYTES]:
        raise UnreadableFile(context.path, "not a PDF (no %PDF header)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pages = _page_texts(raw, context)
        except UnreadableFile:
            raise
        # A hostile file can break the parser anywhere, with any exception.
        except Exception as error:
            raise UnreadableFile(context.path, _damage(raw, error)) from None
    speaker, time = context.path.name, document_time(context)
    pieces: list[Piece] = []
    for number, text in enumerate(pages, start=1):
        chunks = chunk_blocks(paragraph_blocks(text), context.max_chunk_chars)
        pieces.extend(line_pieces(chunks, speaker, time, prefix=f"page {number}, "))
    return [document_source(context, pieces)]


def _page_texts(raw: bytes, context: ParseContext) -> list[str]:
    reader = PdfReader(BytesIO(raw))
    if reader.is_encrypted:
        _unlock(reader, context)
    return [page.extract_text() or "" for page in reader.pages]


def _unlock(reader: PdfReader, context: ParseContext) -> None:
    """Open a PDF encrypted with an empty password (the common "no copying" kind)."""
    try:
        opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except (DependencyError, FileNotDecryptedError, NotImplementedError):
        opened = False
    if not opened:
        raise UnreadableFile(context.path, "encrypted PDF")


def _damage(raw: bytes, error: Exception) -> str:
    """What to tell the user about a PDF the parser could not read."""
    if b"%%EOF" not in raw[-_TAIL_BYTES:]:
        return "damaged PDF: cut short (no end-of-file marker)"
    detail = str(error).strip() or type(error).__name__
    if not isinstance(error, PyPdfError):
        detail = f"{type(error).__name__}: {detail}"
    detail = short_reason(detail)
    return f"damaged PDF: {detail[0].lower()}{detail[1:]}"


FORMAT = Format(
    name="pdf",
    kind=SourceKind.FILE,
    trust=Trust.USER_FILE,
    suffixes=(".pdf",),
    parse=parse_pdf,
    isolated=True,
)
