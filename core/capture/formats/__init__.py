"""The formats Reverie reads, and how a file is matched to one.

Each format module exposes one `FORMAT`. Detection asks the content-sniffing formats
first (a `conversations.json` may be ChatGPT's or Claude's; a `.txt` may be a WhatsApp
export), then falls back on the file's extension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reverie.core.capture.parsed import ParseContext, ParsedSource, SourceKind, Trust

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Format:
    """One file format: how to recognise it and how to parse it.

    `sniff(path, head)` gets the first `HEAD_BYTES` and says whether the file is of this
    format; it must be cheap and never raise. `parse(raw, context)` returns the sources
    in the file or raises `UnreadableFile`. An `isolated` format is parsed in a child
    process, because its parser runs native code or unpacks archives that may be
    hostile.
    """

    name: str
    kind: SourceKind
    trust: Trust
    suffixes: tuple[str, ...]
    parse: Callable[[bytes, ParseContext], list[ParsedSource]]
    sniff: Callable[[Path, bytes], bool] | None = None
    isolated: bool = False


def all_formats() -> tuple[Format, ...]:
    """Every format, content-sniffing conversation exports first."""
    from reverie.core.capture.formats import (
        chatgpt,
        chatlog,
        claude,
        docx,
        email,
        html,
        ics,
        jsonl,
        markdown,
        pdf,
        plaintext,
        telegram,
        whatsapp,
    )

    return (
        jsonl.FORMAT, chatgpt.FORMAT, claude.FORMAT, telegram.FORMAT, whatsapp.FORMAT,
        chatlog.FORMAT, email.MBOX_FORMAT, email.EML_FORMAT, ics.FORMAT, pdf.FORMAT,
        docx.FORMAT, html.FORMAT, markdown.FORMAT, plaintext.FORMAT,
    )


def detect(path: Path, head: bytes) -> Format | None:
    """The format of the file at `path` whose first bytes are `head`, or None."""
    formats = all_formats()
    suffix = path.suffix.lower()
    for candidate in formats:
        if candidate.sniff is not None and candidate.sniff(path, head):
            return candidate
    for candidate in formats:
        if candidate.sniff is None and suffix in candidate.suffixes:
            return candidate
    return None
