"""The text of a summary: written by the model from the memories it condenses, checked
against them, and made of their own words when the model's text is not supported.

A summary must not say what its memories do not: the bundled 135M model often invents,
so its text is grounded like an extracted memory; when it fails, the summary is
extractive (the most important memories, in time order), which is plain but true.
"""

from __future__ import annotations

import threading
from datetime import datetime

from reverie.core.consolidate.apply import SummaryText
from reverie.core.extract.dating import spoken_date
from reverie.core.extract.grounding import grounding_support
from reverie.core.store.ledger import Ledger
from reverie.models.base import LLM, ChatMessage

MAX_NOTES = 12  # memories shown to the model for one summary
SUMMARY_TOKENS = 120
SUMMARY_MIN_SUPPORT = 0.8
EXTRACTIVE_NOTES = 5
MAX_CHARS = 600


def period_label(scope: str, period: str) -> str:
    """How a summary names what it covers: "10 June 2024", "the week of 10 June 2024",
    "Ana"."""
    if scope == "day":
        return spoken_date(datetime.fromisoformat(period))
    if scope == "week":
        year, week = period.split("-W")
        return "the week of " + spoken_date(datetime.fromisocalendar(int(year), int(week), 1))
    return period


def period_start(scope: str, period: str, first_ts_iso: str) -> datetime:
    """The time a summary is dated: its day, its week's Monday, or its first memory."""
    if scope == "day":
        return datetime.fromisoformat(period)
    if scope == "week":
        year, week = period.split("-W")
        return datetime.fromisocalendar(int(year), int(week), 1)
    return datetime.fromisoformat(first_ts_iso)


def write_summary(
    ledger: Ledger, llm: LLM | None, scope: str, period: str, memory_ids: list[str], *,
    cancel: threading.Event | None = None,
) -> SummaryText:
    """The summary of `memory_ids` for one scope and period."""
    marks = ",".join("?" * len(memory_ids))
    rows = ledger.query(
        f"SELECT text, about, valid_from, confidence, (SELECT COUNT(*) FROM memory_sources s"
        f" WHERE s.memory_id = m.id) AS citations FROM memories m WHERE id IN ({marks})"
        " ORDER BY valid_from_ts, seq", memory_ids,
    )
    notes = [row["text"] for row in rows][:MAX_NOTES]
    when = period_start(scope, period, rows[0]["valid_from"] if rows else period)
    label = period_label(scope, period)
    names = frozenset(row["about"] for row in rows)
    if llm is not None and notes:
        written, tokens = _ask(llm, scope, label, notes, cancel)
        if grounding_support(written, " ".join(notes), names) >= SUMMARY_MIN_SUPPORT:
            return SummaryText(_clip(f"{label}: {written}"), when, tokens)
    order = sorted(range(len(rows)),
                   key=lambda i: (-rows[i]["citations"], -rows[i]["confidence"], i))
    best = sorted(order[:EXTRACTIVE_NOTES])  # back in time order
    chosen = [rows[i]["text"].rstrip(".") for i in best]
    return SummaryText(_clip(f"{label}: " + "; ".join(chosen) + "."), when, 0)


def _ask(
    llm: LLM, scope: str, label: str, notes: list[str], cancel: threading.Event | None
) -> tuple[str, int]:
    what = "about " + label if scope == "person" else "from " + label
    bullet_list = "\n".join(f"- {note}" for note in notes)
    messages: list[ChatMessage] = [
        {"role": "system", "content": "You summarise notes in one or two plain sentences, "
         "using only what the notes say."},
        {"role": "user", "content": f"Notes {what}:\n{bullet_list}\nSummary:"},
    ]
    text = llm.chat(messages, max_tokens=SUMMARY_TOKENS, cancel=cancel)
    return _whole_sentences(" ".join(text.split())), llm.count_tokens(text)


def _whole_sentences(text: str) -> str:
    """The text without a last sentence the token limit cut off."""
    if text.endswith((".", "!", "?")):
        return text
    end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[: end + 1] if end > 0 else text


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"
