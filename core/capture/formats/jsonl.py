"""Reverie's generic chat JSONL (docs/formats.md), as a capture format.

The parsing itself lives in `chat_jsonl`, which refuses a file with any bad line as a
whole; here its lines become one source per conversation.
"""

from __future__ import annotations

import json
from pathlib import Path

from reverie.core.capture.chat_jsonl import ChatLine, parse_chat_jsonl
from reverie.core.capture.formats import Format
from reverie.core.capture.parsed import ParseContext, ParsedSource, Piece, SourceKind, Trust


def sniff(path: Path, head: bytes) -> bool:
    """A `.jsonl` file whose first record has the chat fields (not a reverie export)."""
    if path.suffix.lower() != ".jsonl":
        return False
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    try:
        record = json.loads(first)
    except (ValueError, RecursionError):
        return True  # a broken chat file still gets its line-by-line report
    return isinstance(record, dict) and "format" not in record


def parse(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source per conversation, in the order they first appear."""
    grouped: dict[str, list[ChatLine]] = {}
    for line in parse_chat_jsonl(context.path, raw):
        grouped.setdefault(line.conversation, []).append(line)
    return [
        ParsedSource(
            SourceKind.CHAT,
            name,
            name,
            tuple(Piece(ln.locator, ln.text, ln.speaker, ln.time, ln.session) for ln in lines),
        )
        for name, lines in grouped.items()
    ]


FORMAT = Format(
    name="chat-jsonl",
    kind=SourceKind.CHAT,
    trust=Trust.USER_IMPORT,
    suffixes=(".jsonl",),
    parse=parse,
    sniff=sniff,
)
