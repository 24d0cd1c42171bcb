"""Parsers that misbehave as a hostile file can make a real one misbehave."""

from __future__ import annotations

import os
import time

from reverie.core.capture.parsed import ParseContext, ParsedSource


def abort(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """Die the way native code dies on a bad pointer."""
    os.abort()


def hang(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """Loop for ever, as a parser caught in a reference cycle does."""
    while True:
        time.sleep(1)


def balloon(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """Ask for far more memory than a document could need (a decompression bomb)."""
    return [bytearray(8 * 1024**3)]  # type: ignore[list-item]
