"""A parser that crashes, hangs or balloons takes only its own file down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reverie.core.capture.formats.markdown import FORMAT as MARKDOWN
from reverie.core.capture.isolation import IsolatedParser
from reverie.core.capture.parsed import ParseContext, UnreadableFile


@pytest.fixture(scope="module")
def isolated() -> Iterator[IsolatedParser]:
    parser = IsolatedParser(timeout=5.0, memory_limit=1024**3)
    yield parser
    parser.close()


def _context() -> ParseContext:
    return ParseContext(Path("/tmp/hostile.pdf"), datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("target", "reason"), [
    ("tests.core.capture.crashers:abort", "its parser crashed"),
    ("tests.core.capture.crashers:hang", "its parser ran longer than 5 s"),
    ("tests.core.capture.crashers:balloon", "ran out of memory"),
])
def test_a_misbehaving_parser_is_reported_and_the_next_file_parses(
    isolated: IsolatedParser, target: str, reason: str
) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        isolated.call(target, b"%PDF-1.7 hostile", _context())
    (source,) = isolated.parse(MARKDOWN, b"# Still here\n\nThe next file is fine.\n", _context())
    assert [p.text for p in source.pieces][-1].endswith("The next file is fine.")
