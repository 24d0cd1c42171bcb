"""Parsing the generic chat JSONL format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reverie.core.capture.chat_jsonl import ChatLine, read_chat_file
from reverie.core.errors import BadInput, InputFileError


def write_lines(path: Path, *lines: object) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def read_chat_jsonl(path: Path) -> list[ChatLine]:
    return read_chat_file(path).lines


def turn(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "conversation": "c", "time": "2024-05-01T10:00:00Z", "speaker": "Ana", "text": "hello",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_reads_ids_sessions_and_times(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "a.jsonl", turn(id="t1", session="s1"), "", turn(text="second"),
    )
    lines = read_chat_jsonl(path)
    assert [line.locator for line in lines] == ["t1", "3"]
    assert lines[0].session == "s1"
    assert lines[0].time.utcoffset() is not None
    assert lines[1].text == "second"


def test_every_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "bad.jsonl",
        turn(id="ok"),
        "{not json",
        turn(time="yesterday"),
        turn(speaker=""),
        "[1, 2]",
        turn(id="ok"),
        turn(session=5),
    )
    with pytest.raises(InputFileError) as caught:
        read_chat_jsonl(path)
    numbers = [number for number, _ in caught.value.problems]
    assert numbers == [2, 3, 4, 5, 6, 7]
    message = str(caught.value)
    assert "line 2: not valid JSON" in message
    assert "ISO-8601" in message
    assert "repeats line 1" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"\xff\xfe\x00garbage", "not UTF-8"), (b"\n\n", "no chat lines")],
)
def test_unreadable_or_empty_files_are_refused(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(BadInput, match=expected):
        read_chat_jsonl(path)


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        read_chat_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(BadInput, match="is a folder"):
        read_chat_jsonl(tmp_path)


def test_a_line_separator_inside_a_text_stays_in_its_line(tmp_path: Path) -> None:
    record = {"conversation": "c", "id": "1", "time": "2026-03-02T19:05:00",
              "speaker": "Alex", "text": "first part\u2028second part\x0cthird"}
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    (line,) = read_chat_file(path).lines
    assert line.text == "first part\u2028second part\x0cthird"
