"""Reads a SQLCipher 4 file page by page, decrypted, free pages and WAL frames included.

SQL can only show live rows; a forgotten memory could still sit in a free page, a
stale FTS segment or an old WAL frame. Decrypting every page ourselves (AES-256-CBC,
SQLCipher 4's defaults: 4096-byte pages, 80 reserved bytes whose first 16 are the IV,
a 16-byte salt in front of page 1) lets a test look at every byte the ledger holds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE_SIZE = 4096
RESERVE = 80
SALT = 16
WAL_HEADER = 32
FRAME_HEADER = 24


def decrypt_page(page: bytes, key: bytes, first: bool) -> bytes:
    """The plaintext of one encrypted page."""
    start = SALT if first else 0
    end = PAGE_SIZE - RESERVE
    iv = page[end : end + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start:end]) + decryptor.finalize()


def ledger_pages(path: Path, key: bytes) -> Iterator[bytes]:
    """Every page of the main file, decrypted."""
    data = path.read_bytes()
    for number, offset in enumerate(range(0, len(data) - PAGE_SIZE + 1, PAGE_SIZE)):
        yield decrypt_page(data[offset : offset + PAGE_SIZE], key, first=number == 0)


def wal_pages(path: Path, key: bytes) -> Iterator[bytes]:
    """Every page image in the WAL file, decrypted (none when it is empty or missing)."""
    if not path.exists():
        return
    data = path.read_bytes()
    frame = FRAME_HEADER + PAGE_SIZE
    for offset in range(WAL_HEADER, len(data) - frame + 1, frame):
        (page_number,) = struct.unpack(">I", data[offset : offset + 4])
        page = data[offset + FRAME_HEADER : offset + frame]
        yield decrypt_page(page, key, first=page_number == 1)


def plaintext(ledger: Path, key: bytes) -> bytes:
    """All the decrypted bytes of a ledger and its WAL, concatenated."""
    wal = ledger.with_name(ledger.name + "-wal")
    return b"".join([*ledger_pages(ledger, key), *wal_pages(wal, key)])
