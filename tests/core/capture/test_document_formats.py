"""Document parsers: text, Markdown, HTML, PDF, Word, e-mail and calendars.

Each sample in tests/data/capture/docs is a slice of one person's life; the hostile
samples next to them are the files a real disk holds by mistake.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reverie.core.capture.formats import Format
from reverie.core.capture.formats.docx import FORMAT as DOCX
from reverie.core.capture.formats.email import EML_FORMAT as EML
from reverie.core.capture.formats.email import MBOX_FORMAT as MBOX
from reverie.core.capture.formats.html import FORMAT as HTML
from reverie.core.capture.formats.ics import FORMAT as ICS
from reverie.core.capture.formats.markdown import FORMAT as MARKDOWN
from reverie.core.capture.formats.pdf import FORMAT as PDF
from reverie.core.capture.formats.plaintext import FORMAT as TEXT
from reverie.core.capture.parsed import (
    ParseContext,
    ParsedSource,
    SourceKind,
    Trust,
    UnreadableFile,
)

DATA = Path(__file__).parents[2] / "data" / "capture"
DOCS = DATA / "docs"
HOSTILE = DATA / "hostile"
MTIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ALL_FORMATS = [TEXT, MARKDOWN, HTML, PDF, DOCX, EML, MBOX, ICS]


def parse(fmt: Format, path: Path, raw: bytes | None = None, max_chars: int = 1200) -> ParsedSource:
    """Parse one file with one format and return its only source."""
    context = ParseContext(path, MTIME, max_chunk_chars=max_chars)
    sources = fmt.parse(path.read_bytes() if raw is None else raw, context)
    assert len(sources) == 1
    (source,) = sources
    assert source.kind is SourceKind.FILE
    assert source.key == str(path.resolve())
    assert source.title == path.name
    return source


def unreadable(fmt: Format, path: Path, raw: bytes | None = None) -> str:
    """The reason a format gives for refusing a file."""
    with pytest.raises(UnreadableFile) as caught:
        parse(fmt, path, raw)
    assert caught.value.path == path
    return caught.value.reason


# ---------------------------------------------------------------- the formats


def test_each_format_says_what_it_reads_and_how_far_it_trusts_it() -> None:
    table = {f.name: (f.suffixes, f.trust, f.isolated, f.sniff is None) for f in ALL_FORMATS}
    assert table == {
        "text": ((".txt", ".text", ".log"), Trust.USER_FILE, False, True),
        "markdown": ((".md", ".markdown"), Trust.USER_FILE, False, True),
        "html": ((".html", ".htm"), Trust.EXTERNAL, False, True),
        "pdf": ((".pdf",), Trust.USER_FILE, True, True),
        "docx": ((".docx",), Trust.USER_FILE, True, True),
        "eml": ((".eml",), Trust.EXTERNAL, False, True),
        "mbox": ((".mbox",), Trust.EXTERNAL, False, False),
        "ics": ((".ics",), Trust.USER_FILE, False, True),
    }
    assert all(f.kind is SourceKind.FILE for f in ALL_FORMATS)


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("raw", [b"", b"  \n\n\t\n"], ids=["empty", "blank"])
def test_an_empty_file_is_a_source_without_pieces(fmt: Format, raw: bytes) -> None:
    assert parse(fmt, HOSTILE / f"empty{fmt.suffixes[0]}", raw).pieces == ()


# ---------------------------------------------------------------- plain text


def test_a_text_file_is_its_paragraphs_merged_to_size() -> None:
    source = parse(TEXT, DOCS / "garden-log.txt")
    (piece,) = source.pieces
    assert piece.locator == "lines 1-10"
    assert piece.speaker == "garden-log.txt"
    assert piece.time == MTIME
    assert piece.text.startswith("Garden log, spring 2024\n\nMarch 3. Sowed tomatoes")
    assert piece.text.endswith("a vegetable bed this year.")


def test_a_smaller_chunk_size_gives_one_piece_per_paragraph() -> None:
    source = parse(TEXT, DOCS / "garden-log.txt", max_chars=130)
    assert [p.locator for p in source.pieces] == ["line 1", "lines 3-4", "line 6", "lines 9-10"]
    assert source.pieces[2].text == "March 17. First seedlings up. Moved them under the grow light."


def test_a_day_in_the_file_name_dates_a_text_file() -> None:
    source = parse(TEXT, DOCS / "2024-03-12 journal.txt", b"Rain all day.\n")
    assert source.pieces[0].time == datetime(2024, 3, 12)


def test_a_png_named_txt_is_refused_as_binary() -> None:
    reason = unreadable(TEXT, HOSTILE / "photo.txt")
    assert reason == "binary data, not text (wrong file extension?)"


def test_a_windows_1252_file_is_decoded() -> None:
    (piece,) = parse(TEXT, HOSTILE / "latin1-notes.txt").pieces
    assert piece.text == (
        "Notizen für Dienstag\n\nCafé mit Jürgen um 10 — kostet 4,50 €.\n"
        "“Bring das Buch mit”, sagte er."
    )


def test_a_file_mixing_utf8_and_windows_1252_lines_decodes_both() -> None:
    (piece,) = parse(TEXT, HOSTILE / "mixed-encoding.txt").pieces
    lines = piece.text.split("\n")
    assert lines[1] == "- Crème fraîche for the soup"  # UTF-8
    assert lines[3] == "- 2 € for the market trolley — don’t forget"  # Windows-1252
    assert lines[4] == "- Jalapeños for Tom"  # UTF-8 again
    assert piece.locator == "lines 1-5"


# ---------------------------------------------------------------- Markdown


def test_markdown_is_chunked_on_its_headings() -> None:
    source = parse(MARKDOWN, DOCS / "trip-notes.md")
    assert [p.locator for p in source.pieces] == [
        "lines 7-10",
        "lines 12-17",
        "lines 19-22",
        "lines 24-28",
        "lines 30-38",
        "lines 40-45",
    ]
    firsts = [p.text.split("\n")[0] for p in source.pieces]
    assert firsts == [
        "# Lisbon, May 2024",
        "## Getting there",
        "## Day 1: Alfama",
        "### Where we ate",
        "## Day 2: Sintra",
        "## To remember",
    ]
    assert {p.speaker for p in source.pieces} == {"trip-notes.md"}


def test_markdown_chunks_are_the_lines_as_written() -> None:
    pieces = parse(MARKDOWN, DOCS / "trip-notes.md").pieces
    lines = (DOCS / "trip-notes.md").read_text(encoding="utf-8").split("\n")
    assert pieces[4].text == "\n".join(lines[29:38])  # heading, table and text, unrendered
    assert "| Pena Palace, two tickets | €40 |" in pieces[4].text
    assert pieces[5].text.endswith(
        "```\nFlat door code: 4471\nHost: Dona Amélia, +351 912 000 000\n```"
    )
    assert pieces[1].text.count("*The Book of Disquiet*") == 1


def test_markdown_front_matter_is_skipped_but_dates_the_file() -> None:
    pieces = parse(MARKDOWN, DOCS / "trip-notes.md").pieces
    assert all("tags:" not in p.text and "title:" not in p.text for p in pieces)
    assert {p.time for p in pieces} == {datetime(2024, 5, 2)}


def test_a_journal_named_by_its_day_is_dated_that_day() -> None:
    (piece,) = parse(MARKDOWN, DOCS / "2024-03-12 journal.md").pieces
    assert piece.time == datetime(2024, 3, 12)
    assert piece.locator == "lines 1-8"
    assert piece.text.startswith("# Tuesday\n\nWoke up at six")
    assert piece.speaker == "2024-03-12 journal.md"


def test_a_long_markdown_section_is_cut_at_sentences_with_its_lines() -> None:
    sentence = "We walked along the river and talked about the move. "
    raw = f"# Walk\n\n{sentence * 3}\n{sentence * 3}\n\n## After\n\nTea.\n".encode()
    pieces = parse(MARKDOWN, Path("/notes/walk.md"), raw, max_chars=200).pieces
    # Line 3 ends with a sentence: the cut falls there, and line 4 fits whole.
    assert [p.locator for p in pieces] == ["lines 1-3", "line 4", "lines 6-8"]
    assert pieces[0].text == "# Walk\n\n" + (sentence * 3).strip()
    assert pieces[1].text == (sentence * 3).strip()
    assert all(len(p.text) <= 200 for p in pieces)
    assert pieces[2].text == "## After\n\nTea."


def test_a_markdown_list_and_code_block_stay_whole() -> None:
    raw = b"Intro.\n\n- one\n- two\n\n  more of two\n\n```\ncode\n\nmore code\n```\n"
    (piece,) = parse(MARKDOWN, Path("/notes/list.md"), raw).pieces
    assert piece.text == raw.decode().strip()
    assert piece.locator == "lines 1-12"
    pieces = parse(MARKDOWN, Path("/notes/list.md"), raw, max_chars=30).pieces
    assert [p.locator for p in pieces] == ["line 1", "lines 3-6", "lines 8-12"]


def test_setext_headings_count_and_comments_and_rules_are_skipped() -> None:
    raw = b"Title\n=====\n\nIntro text.\n\n<!-- private note -->\n\n---\n\nSub\n---\n\nMore.\n"
    pieces = parse(MARKDOWN, Path("/notes/setext.md"), raw).pieces
    assert [(p.locator, p.text) for p in pieces] == [
        ("lines 1-4", "Title\n=====\n\nIntro text."),
        ("lines 10-13", "Sub\n---\n\nMore."),
    ]


def test_an_empty_markdown_file_gives_no_pieces() -> None:
    assert parse(MARKDOWN, HOSTILE / "empty.md").pieces == ()


# ---------------------------------------------------------------- HTML


def test_a_saved_page_is_its_readable_text_by_section() -> None:
    source = parse(HTML, DOCS / "recipe-shakshuka.html")
    assert [p.locator for p in source.pieces] == ["lines 14-17", "lines 18-25", "lines 27-35"]
    assert [p.text.split("\n")[0] for p in source.pieces] == [
        "Weeknight Shakshuka",
        "Ingredients",
        "Method",
    ]
    assert source.pieces[0].text.split("\n")[2] == (
        "Eggs poached in a spiced tomato and pepper sauce. My partner's favourite "
        "Sunday breakfast, but fast enough for a Tuesday."
    )
    assert "6–8 minutes" in source.pieces[2].text
    assert source.pieces[2].text.endswith(
        "Tip: crumble feta over the top and serve with warm flatbread."
    )
    assert {p.time for p in source.pieces} == {MTIME}


def test_scripts_styles_navigation_and_head_are_not_read() -> None:
    text = "\n".join(p.text for p in parse(HTML, DOCS / "recipe-shakshuka.html").pieces)
    for absent in ("method-viewed", "dataLayer", "font-family", "Subscribe", "Home", "Hedgehog"):
        assert absent not in text


def test_html_on_one_line_still_gets_unique_locators() -> None:
    raw = b"<h1>A</h1><p>one</p><h2>B</h2><p>two</p><table><tr><td>x</td><td>y</td></tr></table>"
    pieces = parse(HTML, Path("/web/min.html"), raw).pieces
    assert [(p.locator, p.text) for p in pieces] == [
        ("line 1, part 1", "A\none"),
        ("line 1, part 2", "B\ntwo\nx | y"),
    ]


# ---------------------------------------------------------------- PDF


def test_a_pdf_is_read_page_by_page() -> None:
    source = parse(PDF, DOCS / "letter-from-oma.pdf")
    assert [p.locator for p in source.pieces] == ["page 1, lines 1-6", "page 2, lines 1-5"]
    first, second = source.pieces
    assert first.text.startswith("Oakfield, 14 February 2024\nDear Lena,\n")
    assert "next to the calendar from the café." in first.text
    assert second.text.endswith("All my love,\nOma")
    assert {p.speaker for p in source.pieces} == {"letter-from-oma.pdf"}
    assert {p.time for p in source.pieces} == {MTIME}


def test_pdf_chunks_never_run_across_pages() -> None:
    pieces = parse(PDF, DOCS / "letter-from-oma.pdf", max_chars=150).pieces
    # pypdf gives no blank lines between paragraphs: a page is cut at sentence ends.
    assert [p.locator for p in pieces] == [
        "page 1, lines 1-3",
        "page 1, lines 3-4",
        "page 1, lines 5-6",
        "page 2, lines 1-2",
        "page 2, lines 3-5",
    ]
    assert pieces[0].text.endswith("Thank you for the photographs from your birthday.")
    assert pieces[1].text.startswith("The one of you and Tom\nby the lake")
    assert all(len(p.text) <= 150 for p in pieces)


def test_a_pdf_without_text_is_a_source_without_pieces() -> None:
    assert parse(PDF, DOCS / "scanned-receipt.pdf").pieces == ()


def test_a_truncated_pdf_is_refused_as_damaged() -> None:
    reason = unreadable(PDF, HOSTILE / "truncated.pdf")
    assert reason == "damaged PDF: cut short (no end-of-file marker)"


def test_a_pdf_with_a_password_is_refused_as_encrypted() -> None:
    assert unreadable(PDF, HOSTILE / "locked.pdf") == "encrypted PDF"


def test_damaged_pdfs_say_what_is_wrong() -> None:
    letter = (DOCS / "letter-from-oma.pdf").read_bytes()
    path = Path("/docs/bad.pdf")
    assert unreadable(PDF, path, b"Just some text\n") == "not a PDF (no %PDF header)"
    garbage = b"%PDF-1.4\n" + b"\x00noise " * 50 + b"\n%%EOF\n"
    assert unreadable(PDF, path, garbage) == "damaged PDF: startxref not found"
    broken_tree = letter.replace(b"/Kids [4 0 R 6 0 R]", b"/Kids 5")
    assert unreadable(PDF, path, broken_tree).startswith("damaged PDF: expected /Kids")


# ---------------------------------------------------------------- Word


def test_a_word_document_is_read_in_body_order_with_its_table() -> None:
    source = parse(DOCX, DOCS / "house-move.docx")
    assert [p.locator for p in source.pieces] == [
        "paragraphs 1-2",
        "paragraphs 3-5",
        "paragraphs 6-8",
    ]
    assert [p.text.split("\n")[0] for p in source.pieces] == [
        "Moving to Utrecht",
        "Before the move",
        "Costs so far",
    ]
    assert source.pieces[2].text == (
        "Costs so far\n"
        "Item | Amount | Paid by\n"
        "Deposit | €2,400 | both\n"
        "Movers (quote) | €650 | Lena\n"
        "New fridge | €480 | Tom\n"
        "We agreed to split everything 50/50 and settle up in July."
    )
    assert {p.speaker for p in source.pieces} == {"house-move.docx"}
    assert {p.time for p in source.pieces} == {MTIME}


def test_small_word_chunks_cut_tables_between_rows_and_name_their_parts() -> None:
    pieces = parse(DOCX, DOCS / "house-move.docx", max_chars=60).pieces
    assert [p.locator for p in pieces] == [
        "paragraphs 1-2",  # the title keeps the start of the paragraph under it
        "paragraph 2",
        "paragraphs 3-4",
        "paragraph 4",
        "paragraph 5, part 1",  # a 64-character paragraph, cut in two
        "paragraph 5, part 2",
        "paragraphs 6-7",
        "paragraph 7",
        "paragraph 8",
    ]
    assert pieces[0].text == "Moving to Utrecht\nWe sign the lease for the flat on the"
    assert pieces[6].text == "Costs so far\nItem | Amount | Paid by\nDeposit | €2,400 | both"
    assert pieces[7].text == "Movers (quote) | €650 | Lena\nNew fridge | €480 | Tom"
    assert all(len(p.text) <= 60 for p in pieces)


def test_a_text_file_named_docx_is_refused() -> None:
    reason = unreadable(DOCX, HOSTILE / "not-really.docx")
    assert reason == "damaged Word document: not a zip archive (an old .doc, or a renamed file?)"


def test_a_zip_that_is_not_a_word_document_is_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("holiday.txt", "not Word")
    reason = unreadable(DOCX, Path("/docs/zip.docx"), archive.getvalue())
    assert reason == "damaged Word document: a zip archive, but not of a Word document"


def test_a_zip_bomb_named_docx_is_refused_before_it_is_unpacked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reverie.core.capture.formats import docx as docx_format

    monkeypatch.setattr(docx_format, "MAX_UNPACKED_BYTES", 10_000)
    reason = unreadable(DOCX, DOCS / "house-move.docx")
    assert reason == "damaged Word document: unpacks to too much data"


# ---------------------------------------------------------------- e-mail


def test_an_email_is_the_senders_own_words_under_its_subject() -> None:
    (piece,) = parse(EML, DOCS / "re-dinner-saturday.eml").pieces
    assert piece.locator == "message <20240307184210.4471@example.org>, lines 1-5"
    assert piece.speaker == "Tom Becker"
    assert piece.time == datetime(2024, 3, 7, 18, 42, 10, tzinfo=timezone(timedelta(hours=1)))
    assert piece.text == (
        "Subject: Re: Dinner on Saturday?\n\n"
        "Hi Lena,\n\n"
        "Saturday works. We'll bring dessert – Anja is making her plum cake.\n\n"
        "Is 7 too early? Jonas has football until 5, so we could be there by half past six "
        "at the earliest."
    )


def test_quotes_signature_html_twin_and_attachments_are_left_out() -> None:
    (piece,) = parse(EML, DOCS / "re-dinner-saturday.eml").pieces
    for absent in ("Would you two", "wrote:", "Tischlerei", "+49", "HTML version", "0815"):
        assert absent not in piece.text


def test_an_html_only_email_is_read_as_text_without_its_quote() -> None:
    raw = (
        b"From: Sam <sam@example.com>\nSubject: Photos\nContent-Type: text/html; charset=utf-8\n\n"
        b"<html><body><p>Here are the photos from <b>Sunday</b>.</p><p>Sam</p>"
        b"<div class='gmail_quote'>On Monday you wrote:<blockquote>Send them!</blockquote>"
        b"</div><script>x()</script></body></html>\n"
    )
    (piece,) = parse(EML, Path("/mail/photos.eml"), raw).pieces
    assert piece.text == "Subject: Photos\n\nHere are the photos from Sunday.\n\nSam"
    assert piece.locator == "message 1, lines 1-3"
    assert piece.time == MTIME  # no Date header
    assert piece.speaker == "Sam"


def test_an_email_without_a_body_is_its_subject() -> None:
    raw = b"From: a@example.com\nSubject: Call me\nMessage-ID: <x1@example.com>\n\n"
    (piece,) = parse(EML, Path("/mail/empty-body.eml"), raw).pieces
    assert (piece.locator, piece.text) == ("message <x1@example.com>", "Subject: Call me")


def test_an_email_with_an_unknown_charset_is_still_read() -> None:
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=x-unheard-of\n\nplain words\n"
    (piece,) = parse(EML, Path("/mail/odd.eml"), raw).pieces
    assert piece.text == "plain words"


def test_an_email_from_nobody_readable_is_spoken_by_its_file() -> None:
    raw = b'From: "" <>\nDate: someday\n\nwho sent this?\n'
    (piece,) = parse(EML, Path("/mail/anon.eml"), raw).pieces
    assert (piece.speaker, piece.time) == ("anon.eml", MTIME)


def test_text_without_mail_headers_is_not_an_email() -> None:
    reason = unreadable(EML, Path("/mail/note.eml"), b"Just a note to self.\n\nNothing more.\n")
    assert reason == "not an e-mail message: it has no mail headers"
    assert unreadable(EML, HOSTILE / "photo.eml", (HOSTILE / "photo.txt").read_bytes()) == (
        "binary data, not an e-mail message"
    )


def test_a_mailbox_is_one_source_of_every_message() -> None:
    source = parse(MBOX, DOCS / "book-club.mbox")
    assert [p.locator for p in source.pieces] == [
        "message 1 <apr-1@example.org>, lines 1-7",
        "message 2 <apr-2@example.net>, line 1",
        "message 3, lines 1-2",
    ]
    assert [p.speaker for p in source.pieces] == ["Anja Becker", "lena@example.net", "Priya Raman"]
    assert [p.time for p in source.pieces] == [
        datetime(2024, 4, 1, 9, 15, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 4, 1, 12, 2, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 4, 2, 20, 45, tzinfo=timezone(timedelta(hours=1))),
    ]
    assert [p.session for p in source.pieces] == [
        "message 1 <apr-1@example.org>",
        "message 2 <apr-2@example.net>",
        "message 3",
    ]
    assert all(p.text.startswith("Subject: ") for p in source.pieces)


def test_mailbox_messages_lose_quotes_and_signatures_but_keep_escaped_from_lines() -> None:
    pieces = parse(MBOX, DOCS / "book-club.mbox").pieces
    assert "\n\nFrom now on please say if you can't make it" in pieces[0].text
    assert pieces[1].text.endswith("I'm in. I'll bring bread from the Turkish bakery.")
    assert "wrote:" not in pieces[1].text
    assert pieces[2].text.endswith("their copy for May?")


def test_mailboxes_are_sniffed_by_their_first_lines() -> None:
    assert MBOX.sniff is not None
    assert MBOX.sniff(DOCS / "book-club.mbox", (DOCS / "book-club.mbox").read_bytes())
    assert MBOX.sniff(Path("Inbox"), b"\nFrom x@y Mon Apr  1 09:15:00 2024\nSubject: hi\n\n")
    assert not MBOX.sniff(DOCS / "re-dinner-saturday.eml", b"Return-Path: <x@y>\nFrom: x\n")
    assert not MBOX.sniff(Path("letter.txt"), b"From Anna, with love\n\nDear Tom,\n")


def test_text_before_the_first_from_line_is_not_a_mailbox() -> None:
    reason = unreadable(MBOX, Path("/mail/x.mbox"), b"Dear diary\nFrom here on...\n")
    assert reason == "not an mbox mailbox: no 'From ' line at its start"


# ---------------------------------------------------------------- calendars


def test_a_calendar_is_one_piece_per_event_and_to_do() -> None:
    source = parse(ICS, DOCS / "family-calendar.ics")
    assert [p.locator for p in source.pieces] == [
        "event oma-80@hoffmann.example",
        "event dentist-0320@hoffmann.example",
        "event priya-call@hoffmann.example",
        "todo passport@hoffmann.example",
    ]
    assert [p.time for p in source.pieces] == [
        datetime(2024, 6, 15),  # all day: midnight as written
        datetime(2024, 3, 20, 8, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2024, 3, 25, 16, 0, tzinfo=UTC),
        datetime(2024, 4, 30),  # a to-do is dated when it is due
    ]
    assert source.pieces[1].time.utcoffset() == timedelta(hours=1)
    assert {p.speaker for p in source.pieces} == {"family-calendar.ics"}


def test_an_event_says_what_when_where_and_with_whom() -> None:
    birthday, dentist, call, todo = parse(ICS, DOCS / "family-calendar.ics").pieces
    assert birthday.text == (
        "Oma's 80th birthday\nWhen: Sat 2024-06-15 (all day)\n"
        "Where: Oakfield, the garden behind the house\n\n"
        "Bring the photo album. Peter is organising the cake."
    )
    assert dentist.text == (
        "Dentist – Dr. Krause\nWhen: Wed 2024-03-20 08:30 to 09:15 (Europe/Berlin)\n"
        "Where: Praxis Krause, Schönhauser Allee 12\nWith: Lena Hoffmann\n\n"
        "Check-up and cleaning.\nAsk about the cracked filling (upper left)."
    )
    assert call.text == (
        "Call with Priya about the Lyon talk\nWhen: Mon 2024-03-25 16:00 to 16:45 (UTC)\n"
        "With: Priya Raman, lena@example.net\nRepeats: FREQ=WEEKLY;COUNT=3"
    )
    assert todo.text == (
        "To do: Renew passport before the Lisbon trip\nDue: Tue 2024-04-30 (all day)\n"
        "Status: needs-action"
    )


def test_a_moved_occurrence_is_located_by_its_recurrence_id() -> None:
    raw = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:yoga\r\nDTSTART:20240305T180000\r\n"
        b"RRULE:FREQ=WEEKLY\r\nSUMMARY:Yoga\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:yoga\r\nRECURRENCE-ID:20240312T180000\r\n"
        b"DTSTART:20240313T190000\r\nSUMMARY:Yoga (moved)\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nSUMMARY:No uid\r\nDTSTART;VALUE=DATE:20240401\r\n"
        b"DTEND;VALUE=DATE:20240404\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    pieces = parse(ICS, Path("/cal/yoga.ics"), raw).pieces
    assert [p.locator for p in pieces] == [
        "event yoga",
        "event yoga @ 2024-03-12T18:00:00",
        "event 3",
    ]
    assert pieces[1].time == datetime(2024, 3, 13, 19, 0)  # floating: as written
    assert pieces[2].text == "No uid\nWhen: Mon 2024-04-01 (all day) to Wed 2024-04-03 (all day)"


def test_a_calendar_cut_short_is_refused() -> None:
    reason = unreadable(ICS, HOSTILE / "broken.ics")
    assert reason == "damaged calendar: cut short (a BEGIN without its END)"


def test_text_that_is_no_calendar_is_refused() -> None:
    path = Path("/cal/notes.ics")
    reason = unreadable(ICS, path, b"Shopping: eggs, milk\n")
    assert reason == 'damaged calendar: Property "SHOPPING" does not have a parent component.'
    reason = unreadable(ICS, path, b"just words\n")
    assert reason.startswith("damaged calendar: Content line could not be parsed into parts")


def test_a_calendar_naming_another_file_does_not_make_it_read() -> None:
    # icalendar opens a one-line string as a path; Reverie must hand it bytes.
    other = str((DOCS / "family-calendar.ics").resolve()).encode()
    reason = unreadable(ICS, Path("/cal/trap.ics"), other)
    assert reason.startswith("damaged calendar: Content line could not be parsed into parts")
