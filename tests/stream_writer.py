"""The writer of the kill -9 stream test (tests/core/test_crash_stream.py).

Run as `python -m tests.stream_writer DATA_DIR ACK_FILE TOTAL` from the repository root,
with the environment of `tests.ledger_access.cli_env()`. It opens the data directory and
adds memories numbered from where the acknowledgement file leaves off up to TOTAL. After
each `add` returns it appends `<number> <memory id>` to the acknowledgement file and
fsyncs it: a line there is a write Reverie acknowledged.

A kill between the commit of an `add` and its acknowledgement leaves one memory the
writer never heard about. Like any client that retries, the next run first looks for
that one number's exact text, acknowledges it if it is there, and only adds it if not.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

WORDS = """
    harbour lantern orchid violin meadow cobalt saffron glacier pebble thimble canyon
    falcon walnut quartz ember willow tundra compass lagoon juniper mosaic citadel
    parsley marble cricket summit bramble anchor velvet pepper beacon crimson ferry
    hazel island jasmine kettle ledger maple nutmeg oyster pewter quill ribbon spruce
    tulip umbrella vessel wharf yarrow zephyr almond biscuit candle dune easel fennel
    garnet hammock indigo jigsaw kayak lemon mitten nectar olive parcel quince radish
    sparrow teapot urchin valley walrus bison cedar dahlia egret fjord gravel heron
""".split()

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def note_text(number: int) -> str:
    """The unique text of memory `number`: its zero-padded number and four seeded words."""
    rng = random.Random(number)
    words = " ".join(rng.choice(WORDS) for _ in range(4))
    return f"note {number:04d}: the {words} matter to me"


def note_time(number: int) -> datetime:
    """When memory `number` happened: one a minute from a fixed start."""
    return START + timedelta(minutes=number)


def number_of(text: str) -> int:
    """The number a note's text carries (the inverse of `note_text`)."""
    prefix, _, _ = text.partition(":")
    return int(prefix.removeprefix("note "))


def read_acks(path: Path) -> list[tuple[int, str]]:
    """The acknowledged (number, memory id) pairs, in order; a torn last line is left out."""
    if not path.exists():
        return []
    content = path.read_text(encoding="ascii")
    complete = content[: content.rfind("\n") + 1]
    pairs: list[tuple[int, str]] = []
    for line in complete.splitlines():
        number, memory_id = line.split(" ")
        pairs.append((int(number), memory_id))
    return pairs


def _drop_torn_line(path: Path) -> None:
    """Cut a last line the previous run was killed in the middle of writing."""
    if not path.exists():
        return
    content = path.read_bytes()
    keep = content.rfind(b"\n") + 1
    if keep != len(content):
        with open(path, "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())


def main(argv: list[str]) -> int:
    """Add and acknowledge memories until TOTAL are acknowledged; 0 when done."""
    from reverie.core.compose import open_reverie
    from reverie.models import default_embedder
    from tests.doubles import ScriptedLLM

    data_dir, ack_path, total = Path(argv[0]), Path(argv[1]), int(argv[2])
    _drop_torn_line(ack_path)
    acked = read_acks(ack_path)
    if [number for number, _ in acked] != list(range(len(acked))):
        raise SystemExit(f"{ack_path} is not a gapless run of numbers from 0")
    first = len(acked)
    reverie = open_reverie(
        data_dir, llm=ScriptedLLM(lambda _messages: ""), embedder=default_embedder()
    )
    try:
        with open(ack_path, "a", encoding="ascii") as ack:
            for number in range(first, total):
                text = note_text(number)
                found = (
                    reverie.store.ledger.query("SELECT id FROM memories WHERE text = ?", (text,))
                    if number == first
                    else []
                )
                if found:
                    memory_id = str(found[0]["id"])  # committed, then killed before the ack
                else:
                    memory_id, _ = reverie.memories.add(text, when=note_time(number))
                ack.write(f"{number} {memory_id}\n")
                ack.flush()
                os.fsync(ack.fileno())
    finally:
        reverie.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
