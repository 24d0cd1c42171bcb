"""Every sample file imported through the facade, as `reverie import` and the app do."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core.capture.reading import format_of, parse_bytes, read_file
from reverie.core.capture.sync import piece_digest
from reverie.core.service import Reverie

DATA = Path(__file__).parents[2] / "data" / "capture"
SAMPLES = sorted(
    p for p in (DATA / "chats").rglob("*") if p.is_file()
) + sorted(p for p in (DATA / "docs").iterdir() if p.suffix != ".py")
EXPECTED_FORMATS = {
    "conversations.json": {"chatgpt", "claude"}, "2024-03-standup.md": {"chatlog"},
    "irc.log": {"chatlog"}, "lisbon-ideas.md": {"markdown"}, "shopping.txt": {"text"},
    "result.json": {"telegram"}, "_chat.txt": {"whatsapp"},
    "WhatsApp Chat with Sam.txt": {"whatsapp"}, "2024-03-12 journal.md": {"markdown"},
    "book-club.mbox": {"mbox"}, "family-calendar.ics": {"ics"},
    "garden-log.txt": {"text"}, "house-move.docx": {"docx"}, "letter-from-oma.pdf": {"pdf"},
    "re-dinner-saturday.eml": {"eml"}, "recipe-shakshuka.html": {"html"},
    "scanned-receipt.pdf": {"pdf"}, "trip-notes.md": {"markdown"},
}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_imports_with_its_times_speakers_and_locators(
    open_store: Callable[..., Reverie], tmp_path: Path, sample: Path
) -> None:
    content = read_file(sample, 1 << 30)
    fmt = format_of(sample, content.raw)
    assert fmt.name in EXPECTED_FORMATS[sample.name]
    parsed = parse_bytes(content, fmt)
    expected = sorted(
        (p.locator, p.speaker, p.time.isoformat(), piece_digest(p))
        for source in parsed.sources for p in source.pieces
    )
    reverie = open_store()
    report = reverie.import_file(sample, extract=False)
    assert report.episodes_added == len(expected)
    rows = reverie.store.ledger.query("SELECT locator, speaker, time, text_sha256 FROM episodes")
    assert sorted(tuple(r) for r in rows) == expected
    sources = reverie.store.ledger.query("SELECT kind, trust FROM sources")
    assert {(r["kind"], r["trust"]) for r in sources} <= {(fmt.kind.value, fmt.trust.value)}
    again = reverie.import_file(sample, extract=False)
    assert (again.episodes_added, again.episodes_skipped) == (0, len(expected))


def test_a_watched_export_only_grows(open_store: Callable[..., Reverie], tmp_path: Path) -> None:
    export = tmp_path / "WhatsApp Chat with Sam.txt"
    shutil.copy(DATA / "chats" / "whatsapp" / "WhatsApp Chat with Sam.txt", export)
    reverie = open_store()
    reverie.capture.add(export)
    (first,) = reverie.capture.scan()
    turns = first.changes.episodes_added
    assert turns > 5
    with export.open("a", encoding="utf-8") as handle:
        handle.write("14/03/2024, 09:12 - Sam: Booked the ferry for Saturday!\n")
    (second,) = reverie.capture.scan()
    assert (second.changes.episodes_added, second.changes.episodes_removed) == (1, 0)
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    export.write_text("".join(lines[-2:]), encoding="utf-8")  # a shorter re-export
    (third,) = reverie.capture.scan()
    assert (third.changes.episodes_added, third.changes.episodes_removed) == (0, 0)
    assert reverie.counts()["episodes"] == turns + 1
    export.unlink()  # a watched root that vanishes may be on a drive unplugged: keep all
    (fourth,) = reverie.capture.scan()
    assert fourth.changes.episodes_removed == 0
    assert "not found" in fourth.problems[0][1]
    assert reverie.counts()["episodes"] == turns + 1
