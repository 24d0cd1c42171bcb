"""Extraction v0: the local LLM turns new episodes into grounded memories.

Episodes are taken in time order per source, one message per prompt. The output is
constrained by a JSON schema; each statement is tidied, put in the third person and
checked against the message it cites, and dropped when unsupported, when it is about
someone other than the author, or when it repeats a stored memory. Each episode is
committed with its memories in one transaction and marked extracted, so a cancelled
or crashed run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reverie.core.capture.parsed import Trust
from reverie.core.chat.session import USER_SPEAKER
from reverie.core.config import Settings
from reverie.core.errors import Cancelled
from reverie.core.extract.grounding import is_grounded
from reverie.core.extract.prompts import ExtractionInput, extraction_messages, extraction_schema
from reverie.core.extract.rewrite import (
    is_about_author,
    names_another_subject,
    third_person,
    tidy,
)
from reverie.core.jobs import Progress, check_cancel
from reverie.core.store import records
from reverie.core.store.records import NewMemory
from reverie.core.store.store import Store
from reverie.core.types import Actor, Changes, MemoryKind
from reverie.models.base import LLM, Embedder

log = logging.getLogger("reverie.extract")

MIN_WORDS = 5
MAX_OUTPUT_TOKENS = 120
# A small model sometimes fights the grammar and crawls; past this a message is
# skipped (and counted) rather than stalling the queue.
CALL_DEADLINE_SECONDS = 20.0
CONFIDENCE_V0 = 0.5


@dataclass(frozen=True)
class ExtractionResult:
    """What one extraction run did."""

    changes: Changes
    episodes_seen: int
    dropped_ungrounded: int
    dropped_duplicate: int
    timed_out: int = 0


@dataclass(frozen=True)
class _Candidate:
    kind: MemoryKind
    text: str


@dataclass
class _Tally:
    changes: Changes
    ungrounded: int = 0
    duplicates: int = 0
    timed_out: int = 0


class Extractor:
    """Runs extraction over episodes not yet extracted."""

    def __init__(self, store: Store, llm: LLM, embedder: Embedder, settings: Settings) -> None:
        self._store = store
        self._llm = llm
        self._embedder = embedder
        self._schema = extraction_schema(settings.extraction_max_memories_per_turn)

    def pending(self, episode_ids: tuple[str, ...] | None = None) -> list[Any]:
        """Rows of episodes still to extract (optionally only among `episode_ids`).

        The user wrote the documents of their own watched folders, so a passage of one
        is about the user (`speaker` here means the author), whatever the file is called.
        """
        sql = (
            "SELECT e.id, e.source_id, CASE WHEN s.trust = ? THEN ? ELSE e.speaker END"
            " AS speaker, e.text, e.time, s.trust, s.kind AS source_kind,"
            " s.name AS source_name FROM episodes e"
            " JOIN sources s ON s.id = e.source_id WHERE e.extracted = 0"
        )
        params: list[str] = [Trust.USER_FILE.value, USER_SPEAKER]
        if episode_ids is not None:
            if not episode_ids:
                return []
            sql += f" AND e.id IN ({','.join('?' * len(episode_ids))})"
            params += list(episode_ids)
        return self._store.ledger.query(sql + " ORDER BY e.source_id, e.ts, e.seq", params)

    def run(
        self,
        *,
        episode_ids: tuple[str, ...] | None = None,
        progress: Progress,
        cancel: threading.Event | None = None,
        on_changes: Callable[[Changes], None] | None = None,
    ) -> ExtractionResult:
        """Extract from pending episodes; stops cleanly between episodes on cancel.

        `on_changes` hears each episode's new memories as soon as they are committed,
        so a view can show them while the run goes on.
        """
        rows = self.pending(episode_ids)
        tally = _Tally(Changes())
        batch = records.new_batch_id()  # one run, undone as one
        for done, row in enumerate(rows):
            check_cancel(cancel)
            progress(done, len(rows), "extracting memories")
            candidates = self._candidates(row, tally, cancel)
            kept = self._without_duplicates(row["speaker"], candidates)
            tally.duplicates += len(candidates) - len(kept)
            committed = self._commit(row, kept, batch)
            tally.changes = tally.changes + committed
            if on_changes is not None and committed.memories_added:
                on_changes(committed)
        progress(len(rows), len(rows), "extracting memories")
        log.info(
            "extraction: %d episodes, %d memories; dropped %d ungrounded, %d duplicates;"
            " %d timed out", len(rows), tally.changes.memories_added, tally.ungrounded,
            tally.duplicates, tally.timed_out,
        )
        return ExtractionResult(
            tally.changes, len(rows), tally.ungrounded, tally.duplicates, tally.timed_out
        )

    def _candidates(
        self, row: Any, tally: _Tally, cancel: threading.Event | None
    ) -> list[_Candidate]:
        speaker, text = row["speaker"], row["text"]
        stated = _assertions(text)
        if len(stated.split()) < MIN_WORDS:
            return []
        document = row["source_name"] if row["source_kind"] == "file" else None
        raw = self._ask(ExtractionInput(speaker, text, document), tally, cancel)
        names = self._participants(row["source_id"])
        kept: list[_Candidate] = []
        for kind, said in _parse_facts(raw):
            statement = tidy(third_person(said, speaker))
            if (
                statement.endswith("?")
                or not is_about_author(statement, speaker)
                or names_another_subject(statement, speaker, names)
                or not is_grounded(statement, stated, names)
            ):
                tally.ungrounded += 1
                continue
            kept.append(_Candidate(kind, statement))
        return kept

    def _ask(self, item: ExtractionInput, tally: _Tally, cancel: threading.Event | None) -> str:
        deadline = threading.Event()
        timer = threading.Timer(CALL_DEADLINE_SECONDS, deadline.set)
        stop = _EitherEvent(deadline, cancel)
        timer.start()
        try:
            return self._llm.chat(
                extraction_messages(item), max_tokens=MAX_OUTPUT_TOKENS,
                json_schema=self._schema, cancel=stop,
            )
        except Cancelled:
            if cancel is not None and cancel.is_set():
                raise
            tally.timed_out += 1
            return ""
        finally:
            timer.cancel()

    def _participants(self, source_id: str) -> frozenset[str]:
        rows = self._store.ledger.query(
            "SELECT DISTINCT speaker FROM episodes WHERE source_id = ?", (source_id,)
        )
        return frozenset(row["speaker"] for row in rows)

    def _without_duplicates(self, about: str, candidates: list[_Candidate]) -> list[_Candidate]:
        known = {
            _normalise(r["text"])
            for r in self._store.ledger.query(
                "SELECT text FROM memories WHERE about = ? AND status = 'active'", (about,)
            )
        }
        kept: list[_Candidate] = []
        for candidate in candidates:
            key = _normalise(candidate.text)
            if key not in known:
                known.add(key)
                kept.append(candidate)
        return kept

    def _commit(self, row: Any, kept: list[_Candidate], batch: str) -> Changes:
        when = datetime.fromisoformat(row["time"])
        memories = [
            NewMemory(
                id="mem_" + uuid.uuid4().hex[:20], kind=c.kind, text=c.text,
                about=row["speaker"], valid_from=when, confidence=CONFIDENCE_V0,
                trust=row["trust"], episode_ids=(row["id"],),
            )
            for c in kept
        ]
        vectors = self._embedder.embed([m.text for m in memories])
        with self._store.ledger.transaction() as conn:
            if memories:
                records.ensure_batch(conn, batch, Actor.EXTRACTOR, "extraction")
            for memory, vector in zip(memories, vectors, strict=True):
                records.insert_memory(conn, memory, batch, Actor.EXTRACTOR)
                records.store_vector(conn, memory.id, self._embedder.name, vector)
            records.mark_extracted(conn, [row["id"]])
        if memories:
            self._store.sync_index()
        return Changes(memories_added=len(memories), days=frozenset({when.date().isoformat()}))


class _EitherEvent(threading.Event):
    """Set when either of two events is set (a deadline or the user's cancel).

    Read-only: `is_set` and `wait` look at both events; setting it directly is not
    supported (set one of the two instead).
    """

    _POLL_SECONDS = 0.05

    def __init__(self, first: threading.Event, second: threading.Event | None) -> None:
        super().__init__()
        self._first, self._second = first, second

    def is_set(self) -> bool:
        return self._first.is_set() or (self._second is not None and self._second.is_set())

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._first.wait(self._POLL_SECONDS if left is None else min(left, self._POLL_SECONDS))
        return True


def _assertions(text: str) -> str:
    """The message without its questions: "Weren't you nervous?" asserts nothing.

    Statements are grounded against this, so a question can't become a memory.
    """
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(s for s in sentences if s and not s.rstrip("\"')").endswith("?"))


def _parse_facts(raw: str) -> list[tuple[MemoryKind, str]]:
    """The (kind, text) pairs of a schema-shaped reply; a malformed reply yields none."""
    if not raw:
        return []
    try:
        facts = json.loads(raw).get("facts", [])
    except (json.JSONDecodeError, AttributeError):
        log.warning("extraction reply was not valid JSON (%d chars)", len(raw))
        return []
    out: list[tuple[MemoryKind, str]] = []
    for fact in facts if isinstance(facts, list) else []:
        try:
            out.append((MemoryKind(fact["kind"]), str(fact["text"])))
        except (KeyError, ValueError, TypeError):
            continue
    return out


def _normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()
