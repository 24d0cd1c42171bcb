"""The structure-aware chunker shared by every document parser."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reverie.core.capture.chunking import (
    Block,
    Chunk,
    chunk_blocks,
    date_in_name,
    paragraph_blocks,
    split_block,
    unique_locators,
)


def test_paragraph_blocks_split_at_blank_lines_with_1_based_lines() -> None:
    text = "first line\nsecond line\n\n\n  \nthird para\n\nlast one   \n"
    assert paragraph_blocks(text) == [
        Block("first line\nsecond line", 1, 2),
        Block("third para", 6, 6),
        Block("last one", 8, 8),
    ]


def test_paragraph_blocks_count_every_kind_of_line_break() -> None:
    text = "windows\r\nline\r\n\r\nold mac\rline\r\runix\n"
    assert paragraph_blocks(text) == [
        Block("windows\nline", 1, 2),
        Block("old mac\nline", 4, 5),
        Block("unix", 7, 7),  # "\r\r" ended line 5 and a blank line 6
    ]


def test_paragraph_blocks_of_nothing_and_of_whitespace() -> None:
    assert paragraph_blocks("") == []
    assert paragraph_blocks(" \n\t\n\n") == []


def test_paragraph_blocks_can_start_at_an_offset() -> None:
    assert paragraph_blocks("a\n\nb", line_offset=10) == [Block("a", 11, 11), Block("b", 13, 13)]


def test_small_blocks_of_one_section_merge_up_to_the_limit() -> None:
    blocks = [Block("a" * 40, 1, 1), Block("b" * 40, 2, 3), Block("c" * 40, 5, 5)]
    assert chunk_blocks(blocks, 100) == [
        Chunk("a" * 40 + "\n" + "b" * 40, 1, 3),  # touching blocks: one newline
        Chunk("c" * 40, 5, 5),
    ]
    assert chunk_blocks(blocks, 200) == [
        Chunk("a" * 40 + "\n" + "b" * 40 + "\n\n" + "c" * 40, 1, 5),  # a gap: a blank line
    ]


def test_a_heading_starts_a_chunk_and_keeps_the_text_under_it() -> None:
    blocks = [
        Block("intro", 1, 1),
        Block("## One", 3, 3, level=2),
        Block("text one", 4, 4),
        Block("## Two", 6, 6, level=2),
        Block("text two", 7, 7),
    ]
    chunks = chunk_blocks(blocks, 1000)
    assert [c.text for c in chunks] == ["intro", "## One\ntext one", "## Two\ntext two"]
    assert [(c.first, c.last) for c in chunks] == [(1, 1), (3, 4), (6, 7)]


def test_a_title_stays_with_the_first_section_heading_under_it() -> None:
    blocks = [
        Block("# Trip", 1, 1, level=1),
        Block("## Day 1", 3, 3, level=2),
        Block("walked", 4, 4),
        Block("### Food", 6, 6, level=3),
        Block("## Day 2", 8, 8, level=2),
        Block("# Next", 10, 10, level=1),
        Block("### Deep", 12, 12, level=3),
    ]
    chunks = chunk_blocks(blocks, 1000)
    assert [c.text for c in chunks] == [
        "# Trip\n\n## Day 1\nwalked",
        "### Food",  # a lone heading before a higher one stays alone
        "## Day 2",
        "# Next\n\n### Deep",
    ]


def test_no_chunk_runs_across_a_heading_of_the_same_or_higher_level() -> None:
    blocks = [Block("### Small", 1, 1, level=3), Block("## Bigger", 2, 2, level=2)]
    assert [c.text for c in chunk_blocks(blocks, 1000)] == ["### Small", "## Bigger"]


def test_whitespace_only_blocks_are_dropped() -> None:
    blocks = [Block("  \n ", 1, 2), Block("kept", 3, 3), Block("", 4, 4)]
    assert chunk_blocks(blocks, 100) == [Chunk("kept", 3, 3)]
    assert chunk_blocks([], 100) == []


def test_a_long_block_is_cut_at_sentence_ends_with_its_own_lines() -> None:
    text = (
        "The train left at nine. It was late\n"
        "by twenty minutes, as always. We got\n"
        "coffee on board. The view was grey.\n"
        "Then the sun came out over the hills."
    )
    chunks = chunk_blocks([Block(text, 10, 13)], 60)
    assert chunks == [
        Chunk("The train left at nine.", 10, 10),
        Chunk("It was late\nby twenty minutes, as always.", 10, 11),
        Chunk("We got\ncoffee on board. The view was grey.", 11, 12),
        Chunk("Then the sun came out over the hills.", 13, 13),
    ]


def test_without_sentence_ends_a_block_is_cut_at_spaces_then_anywhere() -> None:
    words = " ".join(["word"] * 30)  # 149 characters, no sentence end
    parts = split_block(Block(words, 1, 1), 50)
    assert all(len(p.text) <= 50 for p in parts)
    assert " ".join(p.text for p in parts) == words
    assert all(not p.text.startswith(" ") and not p.text.endswith(" ") for p in parts)
    solid = "x" * 120
    assert [p.text for p in split_block(Block(solid, 1, 1), 50)] == ["x" * 50, "x" * 50, "x" * 20]


def test_a_heading_keeps_the_start_of_a_long_block_under_it() -> None:
    body = "A sentence of some length. " * 8  # 216 characters
    chunks = chunk_blocks([Block("## Notes", 1, 1, level=2), Block(body.strip(), 2, 2)], 100)
    assert chunks[0].text.startswith("## Notes\nA sentence")
    assert all(len(c.text) <= 100 for c in chunks)
    assert [(c.first, c.last) for c in chunks] == [(1, 2), (2, 2), (2, 2)]


def test_text_before_a_long_block_stays_a_chunk_of_its_own() -> None:
    body = "Another sentence here. " * 6
    chunks = chunk_blocks([Block("short note", 1, 1), Block(body.strip(), 2, 2)], 80)
    assert chunks[0] == Chunk("short note", 1, 1)
    assert chunks[1].text.startswith("Another sentence")


def test_without_line_numbers_in_the_text_every_part_keeps_the_whole_span() -> None:
    text = "One sentence here.\nTwo sentence here.\nThree sentence here."
    chunks = chunk_blocks([Block(text, 7, 7)], 25, newlines_are_lines=False)
    assert [(c.text, c.first, c.last) for c in chunks] == [
        ("One sentence here.", 7, 7),
        ("Two sentence here.", 7, 7),
        ("Three sentence here.", 7, 7),
    ]


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        chunk_blocks([Block("x", 1, 1)], 0)


def test_repeated_locators_are_numbered_in_order() -> None:
    assert unique_locators(["line 1", "line 1", "lines 2-3", "line 1"]) == [
        "line 1, part 1",
        "line 1, part 2",
        "lines 2-3",
        "line 1, part 3",
    ]


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("2024-03-12.md", datetime(2024, 3, 12)),
        ("2024-03-12 journal.txt", datetime(2024, 3, 12)),
        ("notes_2023_12_31.docx", datetime(2023, 12, 31)),
        ("diary 2024.02.29.pdf", datetime(2024, 2, 29)),
        ("2023-02-30 then 2023-03-01.md", datetime(2023, 3, 1)),  # the first real day
        ("trip-notes.md", None),
        ("20240312.md", None),  # digits alone may be any number
        ("12024-03-12.md", None),
        ("2024-03_12.md", None),  # separators must agree
    ],
)
def test_a_day_in_a_file_name(name: str, day: datetime | None) -> None:
    assert date_in_name(Path("/notes") / name) == day


# Lines of text, blank lines and headings, as a property test draws them.
_LINES = st.lists(
    st.one_of(
        st.just(""),
        st.text(alphabet="abc .!?\t", min_size=1, max_size=90),
        st.text(alphabet="ab. ", min_size=150, max_size=400),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(lines=_LINES, max_chars=st.integers(min_value=20, max_value=300))
def test_chunks_keep_every_word_in_order_and_point_at_their_lines(
    lines: list[str], max_chars: int
) -> None:
    text = "\n".join(lines)
    source = text.split("\n")
    blocks = [
        Block(b.text, b.first, b.last, 2 if b.text.startswith("a") and len(b.text) < 20 else None)
        for b in paragraph_blocks(text)
    ]
    chunks = chunk_blocks(blocks, max_chars)
    assert all(0 < len(c.text) <= max_chars for c in chunks)
    assert _words(" ".join(c.text for c in chunks)) == _words(text)
    for chunk in chunks:
        assert 1 <= chunk.first <= chunk.last <= len(source)
        chunk_lines = chunk.text.split("\n")
        assert chunk_lines[0].strip() in source[chunk.first - 1]
        assert chunk_lines[-1].strip() in source[chunk.last - 1]
    assert [c.first for c in chunks] == sorted(c.first for c in chunks)


def _words(text: str) -> str:
    # A cut between two characters without a space splits a word; compare the letters.
    return re.sub(r"\s+", "", text)


def test_a_cut_block_never_overfills_the_heading_chunk_it_joins() -> None:
    # Found by the property test above: no break within the room after the heading.
    blocks = [Block("a???\n??????????", 1, 2, 2), Block(" ?????????", 4, 4, None)]
    chunks = chunk_blocks(blocks, 25)
    assert all(len(c.text) <= 25 for c in chunks)
    assert [c.text for c in chunks] == ["a???\n??????????", "?????????"]
