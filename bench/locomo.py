"""LoCoMo conversations as Reverie chat JSONL, and their questions.

`python -m bench.locomo CONV.json OUT.jsonl` writes one chat JSONL line per turn: the
conversation is the file's stem (e.g. `conv-30`), `id` is the turn's `dia_id`, `time`
is its session's date and time, `session` the session number. An image a turn shared
is kept as its caption, as LoCoMo's own baselines do.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

DEV_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "locomo-dev"
_SESSION = re.compile(r"^session_(\d+)$")


@dataclass(frozen=True)
class Question:
    """A LoCoMo question with the turns that hold its answer."""

    conversation: str
    text: str
    category: int
    evidence: tuple[str, ...]
    answer: str | None


def session_time(text: str) -> datetime:
    """Parse LoCoMo's `1:56 pm on 8 May, 2023`."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")


def chat_lines(path: Path) -> list[dict[str, str]]:
    """The conversation in `path` as chat JSONL records, in order."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    conversation = data.get("conversation", data)
    sessions = sorted(
        (int(m.group(1)), key) for key in conversation if (m := _SESSION.match(key))
    )
    lines = []
    for number, key in sessions:
        when = session_time(conversation[f"{key}_date_time"]).isoformat()
        for turn in conversation[key]:
            text = turn["text"]
            if turn.get("blip_caption"):
                text = f"{text} [shares an image: {turn['blip_caption']}]"
            lines.append({
                "conversation": path.stem, "time": when, "speaker": turn["speaker"],
                "text": text, "id": turn["dia_id"], "session": str(number),
            })
    return lines


def questions(path: Path) -> list[Question]:
    """The conversation's questions, all categories."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return [
        Question(
            conversation=path.stem, text=q["question"], category=int(q["category"]),
            evidence=tuple(_evidence_ids(q.get("evidence", []))),
            answer=str(q["answer"]) if "answer" in q else None,
        )
        for q in data["qa"]
    ]


def _evidence_ids(raw: list[str]) -> list[str]:
    # A few evidence entries hold several ids in one string ("D8:6; D9:17").
    ids: list[str] = []
    for entry in raw:
        ids.extend(part for part in re.split(r"[;,\s]+", entry) if part)
    return ids


def write_jsonl(source: Path, target: Path) -> int:
    """Convert one LoCoMo file to chat JSONL; return how many turns were written."""
    lines = chat_lines(source)
    target.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m bench.locomo LOCOMO.json OUT.jsonl")
    count = write_jsonl(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {count} turns to {sys.argv[2]}")
