"""Bytes to text for every text-based format: encodings, binary data and line spans.

Files on a real disk are messy: UTF-8 with a BOM, old Windows-1252 notes, a log that
switched encoding halfway, a `.txt` that is really a JPEG. UTF-8 is tried first and
line by line, so one stray byte does not turn a whole file into mojibake; only the
lines that are not UTF-8 are decoded with the legacy encoding charset-normalizer
detects for them.
"""

from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from reverie.core.capture.parsed import UnreadableFile

SNIFF_BYTES = 8192
# Share of control characters (other than tab, newline, carriage return, form feed)
# above which a file is taken as binary: real text has almost none.
BINARY_SHARE = 0.02
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13, 27}


def looks_binary(raw: bytes) -> bool:
    """True when the start of `raw` holds a NUL or too many control bytes for text."""
    head = raw[:SNIFF_BYTES]
    if not head:
        return False
    if b"\0" in head and not _is_utf16(head):
        return True
    controls = sum(1 for byte in head if byte in _CONTROL)
    return controls / len(head) > BINARY_SHARE


def decode_text(path: Path, raw: bytes) -> str:
    """Decode a text file's bytes, or raise `UnreadableFile` saying why not.

    Newlines are kept as they are, so line numbers match what an editor shows.
    """
    if _is_utf16(raw[:4]):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableFile(path, "broken UTF-16 text") from None
    if looks_binary(raw):
        raise UnreadableFile(path, "binary data, not text (wrong file extension?)")
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_mixed(path, body)


def _decode_mixed(path: Path, body: bytes) -> str:
    lines = body.splitlines(keepends=True)
    foreign = [line for line in lines if not _is_utf8(line)]
    guess = from_bytes(b"".join(foreign)).best()
    if guess is None:
        raise UnreadableFile(path, "not text in any encoding Reverie recognises")
    encoding = guess.encoding
    return "".join(
        line.decode("utf-8") if _is_utf8(line) else line.decode(encoding, errors="replace")
        for line in lines
    )


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


def lines_locator(first: int, last: int) -> str:
    """The locator of a span of 1-based lines: ``line 4`` or ``lines 4-9``."""
    return f"line {first}" if first == last else f"lines {first}-{last}"
