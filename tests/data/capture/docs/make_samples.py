"""Write the binary and oddly encoded sample files of the document parsers' tests.

Run once from the repository root (`.venv/bin/python tests/data/capture/docs/make_samples.py`);
the files it writes are committed beside it. The text samples (Markdown, HTML, e-mail,
calendar) are written by hand. PDFs are written here byte by byte, so that the tests
depend on no PDF-writing library and every offset in them is known.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import docx
from pypdf import PdfReader, PdfWriter

DOCS = Path(__file__).resolve().parent
HOSTILE = DOCS.parent / "hostile"

LETTER_PAGES = [
    [
        "Oakfield, 14 February 2024",
        "",
        "Dear Lena,",
        "",
        "Thank you for the photographs from your birthday. The one of you and Tom",
        "by the lake is now on the fridge, next to the calendar from the café.",
        "",
        "The doctor says my blood pressure is better since I stopped the salt, so",
        "your nagging worked. I still walk to the market every Saturday morning.",
    ],
    [
        "Your cousin Peter is getting married in September, in Graz. I hope you",
        "can come; I will need someone to dance with.",
        "",
        "Please send me the recipe for the lemon cake you made at Christmas.",
        "",
        "All my love,",
        "Oma",
    ],
]


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A minimal PDF 1.4: one Helvetica text column per page, a correct xref table."""
    kids = " ".join(f"{4 + 2 * index} 0 R" for index in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for index, lines in enumerate(pages):
        stream = _page_stream(lines)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * index)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _page_stream(lines: list[str]) -> bytes:
    operations = ["BT", "/F1 12 Tf", "16 TL", "72 770 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        operations.append(f"({escaped}) Tj T*" if line else "T*")
    operations.append("ET")
    if not lines:  # a "scanned" page: a grey box where the image would be, no text
        operations = ["0.8 g", "72 400 451 370 re f"]
    return "\n".join(operations).encode("cp1252")


def write_docx(path: Path) -> None:
    """A Word document with a title, headings, paragraphs and a table."""
    document = docx.Document()
    document.add_heading("Moving to Utrecht", level=0)
    document.add_paragraph(
        "We sign the lease for the flat on the Oudegracht on 1 June 2024. Keys on 15 June."
    )
    document.add_heading("Before the move", level=1)
    document.add_paragraph("Give notice to the landlord in Berlin by 31 March (three months).")
    document.add_paragraph("Ask Sven whether we can borrow his van on the weekend of 22 June.")
    document.add_heading("Costs so far", level=1)
    table = document.add_table(rows=4, cols=3)
    rows = [
        ("Item", "Amount", "Paid by"),
        ("Deposit", "€2,400", "both"),
        ("Movers (quote)", "€650", "Lena"),
        ("New fridge", "€480", "Tom"),
    ]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("We agreed to split everything 50/50 and settle up in July.")
    document.save(str(path))


def png_bytes() -> bytes:
    """A real 2x2 grey PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80\x80\x00\x80\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def write_locked_pdf(letter: Path, target: Path) -> None:
    """The letter, encrypted with a user password (RC4, so no crypto library is needed)."""
    writer = PdfWriter(clone_from=PdfReader(letter))
    writer.encrypt(user_password="oma-secret", owner_password="owner", algorithm="RC4-128")
    writer.write(target)


def main() -> None:
    """Write every generated sample."""
    HOSTILE.mkdir(exist_ok=True)
    letter = DOCS / "letter-from-oma.pdf"
    letter.write_bytes(pdf_bytes(LETTER_PAGES))
    (DOCS / "scanned-receipt.pdf").write_bytes(pdf_bytes([[]]))
    write_docx(DOCS / "house-move.docx")
    raw = letter.read_bytes()
    (HOSTILE / "truncated.pdf").write_bytes(raw[: len(raw) // 2])
    write_locked_pdf(letter, HOSTILE / "locked.pdf")
    (HOSTILE / "photo.txt").write_bytes(png_bytes())
    (HOSTILE / "latin1-notes.txt").write_bytes(
        "Notizen für Dienstag\n\n"
        "Café mit Jürgen um 10 — kostet 4,50 €.\n"
        "“Bring das Buch mit”, sagte er.\n".encode("cp1252")
    )
    (HOSTILE / "mixed-encoding.txt").write_bytes(
        "Shopping list, Saturday\n- Crème fraîche for the soup\n- Äpfel, Birnen, Möhren\n".encode()
        + "- 2 € for the market trolley — don’t forget\n".encode("cp1252")
        + "- Jalapeños for Tom\n".encode()
    )
    (HOSTILE / "empty.md").write_bytes(b"")
    (HOSTILE / "not-really.docx").write_bytes(
        b"This is a plain text note that someone saved with a .docx name.\n"
    )
    calendar = (DOCS / "family-calendar.ics").read_bytes()
    (HOSTILE / "broken.ics").write_bytes(calendar[: calendar.index(b"SUMMARY:Dentist")])


if __name__ == "__main__":
    main()
