"""Extraction: the local LLM turns new episodes into grounded, dated memories.

Episodes are taken in time order per source, one message per prompt, with the turns
just before it as context and the day it was said. The output is constrained by a JSON
schema; each statement is checked (`statements.judge`): put in the third person,
attributed, grounded in the message it cites, scored. It is then dated from the
message (`dating`), and either strengthens a stored memory it restates (`restate`) or
becomes a new memory linked to the people and places it names (`entities`). Low
confidence or low trust sends a memory to the review inbox.

Each episode is committed with its memories in one transaction and marked extracted,
so a cancelled or crashed run resumes where it stopped. A reply that is not valid is
asked for once more, with room to finish; after that the episode is marked for a later
run (`extract_attempts`) and the queue goes on.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from reverie.core.capture.formats.chatgpt import SPEAKERS as CHATGPT_SPEAKERS
from reverie.core.capture.formats.claude import SPEAKERS as CLAUDE_SPEAKERS
from reverie.core.capture.parsed import Trust
from reverie.core.chat.session import ASSISTANT_SPEAKER, USER_SPEAKER
from reverie.core.config import Settings
from reverie.core.embedding import pinned
from reverie.core.errors import Cancelled
from reverie.core.extract import clauses, statements
from reverie.core.extract.dating import date_statement, spoken_date
from reverie.core.extract.deadline import call_deadline
from reverie.core.extract.entities import find_entities, link_entities
from reverie.core.extract.prompts import ExtractionInput, extraction_messages, extraction_schema
from reverie.core.extract.restate import cite_again, find_restated
from reverie.core.jobs import Progress, check_cancel
from reverie.core.store import records
from reverie.core.store.records import NewMemory
from reverie.core.store.store import Store
from reverie.core.timeutil import day_of
from reverie.core.types import Actor, Changes, MemoryKind
from reverie.models.base import LLM, Embedder

log = logging.getLogger("reverie.extract")

MAX_OUTPUT_TOKENS = 120
RETRY_TEMPERATURE = 0.3  # greedy decoding would only repeat the same broken reply
# A small model sometimes fights the grammar and crawls; past this a call is given up.
CALL_DEADLINE_SECONDS = 20.0
# Assistants' words are not facts about anyone's life; they are context for the reply.
ASSISTANT_SPEAKERS = frozenset({
    ASSISTANT_SPEAKER, CHATGPT_SPEAKERS["assistant"], CLAUDE_SPEAKERS["assistant"],
})
LOW_TRUST = frozenset({Trust.EXTERNAL.value})


@dataclass(frozen=True)
class ExtractionResult:
    """What one extraction run did."""

    changes: Changes
    episodes_seen: int
    dropped_ungrounded: int
    dropped_duplicate: int
    timed_out: int = 0
    deferred: int = 0  # episodes whose replies stayed invalid: marked for a later run
    restated: int = 0  # statements that strengthened a stored memory instead of a copy
    to_review: int = 0  # new memories waiting in the review inbox


@dataclass(frozen=True)
class QueueStatus:
    """The extraction queue as the app shows it."""

    waiting: int  # turns and passages not extracted yet
    deferred: int  # marked for a later run after invalid replies
    tokens_per_second: float | None  # of the model in this session's extraction, if any ran


@dataclass
class _Tally:
    changes: Changes
    ungrounded: int = 0
    duplicates: int = 0
    timed_out: int = 0
    deferred: int = 0
    restated: int = 0
    to_review: int = 0


@dataclass(frozen=True)
class _Memory:
    statement: statements.Statement
    text: str
    when: datetime
    note: str | None


class Extractor:
    """Runs extraction over episodes not yet extracted."""

    def __init__(self, store: Store, llm: LLM, embedder: Embedder, settings: Settings) -> None:
        self._store = store
        self._llm = llm
        self._embedder = embedder
        self._settings = settings
        self._schema = extraction_schema(settings.extraction_max_memories_per_turn)
        self._generated_tokens = 0
        self._generation_seconds = 0.0

    def use_model(self, llm: LLM) -> None:
        """Extract with `llm` from the next turn on (a run under way keeps its model)."""
        self._llm = llm

    def pending(
        self, episode_ids: tuple[str, ...] | None = None, *, retry_deferred: bool = False
    ) -> list[Any]:
        """Rows of episodes still to extract (optionally only among `episode_ids`);
        episodes marked for later are included only with `retry_deferred`.

        The user wrote the documents of their own watched folders, so a passage of one
        is about the user (`speaker` here means the author), whatever the file is called.
        """
        sql = (
            "SELECT e.seq, e.id, e.source_id, e.ts, CASE WHEN s.trust = ? THEN ?"
            " ELSE e.speaker END AS speaker, e.text, e.time, s.trust, s.kind AS source_kind,"
            " s.name AS source_name FROM episodes e"
            " JOIN sources s ON s.id = e.source_id WHERE e.extracted = 0"
        )
        params: list[Any] = [Trust.USER_FILE.value, USER_SPEAKER]
        if not retry_deferred:
            sql += " AND e.extract_attempts = 0"
        if episode_ids is not None:
            if not episode_ids:
                return []
            sql += f" AND e.id IN ({','.join('?' * len(episode_ids))})"
            params += list(episode_ids)
        return self._store.ledger.query(sql + " ORDER BY e.source_id, e.ts, e.seq", params)

    def status(self) -> QueueStatus:
        """How many episodes wait, how many were put off, and the model's speed."""
        row = self._store.ledger.query(
            "SELECT SUM(extract_attempts = 0) AS waiting, SUM(extract_attempts > 0) AS deferred"
            " FROM episodes WHERE extracted = 0"
        )[0]
        speed = (self._generated_tokens / self._generation_seconds
                 if self._generation_seconds > 0 else None)
        return QueueStatus(int(row["waiting"] or 0), int(row["deferred"] or 0), speed)

    def run(
        self,
        *,
        episode_ids: tuple[str, ...] | None = None,
        progress: Progress,
        cancel: threading.Event | None = None,
        on_changes: Callable[[Changes], None] | None = None,
        retry_deferred: bool = False,
    ) -> ExtractionResult:
        """Extract from pending episodes; stops cleanly between episodes on cancel.

        `on_changes` hears each episode's new memories as soon as they are committed,
        so a view can show them while the run goes on.
        """
        rows = self.pending(episode_ids, retry_deferred=retry_deferred)
        tally = _Tally(Changes())
        batch = records.new_batch_id()  # one run, undone as one
        for done, row in enumerate(rows):
            check_cancel(cancel)
            progress(done, len(rows), "extracting memories")
            memories = self._memories(row, tally, cancel)
            if memories is None:
                self._defer(row["id"])
                tally.deferred += 1
                continue
            committed = self._commit(row, memories, batch, tally)
            tally.changes = tally.changes + committed
            if on_changes is not None and not committed.empty:
                on_changes(committed)
        progress(len(rows), len(rows), "extracting memories")
        log.info(
            "extraction: %d episodes, %d memories (%d to review); %d restated; dropped %d"
            " ungrounded, %d duplicates; %d timed out; %d deferred", len(rows),
            tally.changes.memories_added, tally.to_review, tally.restated, tally.ungrounded,
            tally.duplicates, tally.timed_out, tally.deferred,
        )
        return ExtractionResult(
            tally.changes, len(rows), tally.ungrounded, tally.duplicates, tally.timed_out,
            tally.deferred, tally.restated, tally.to_review,
        )

    def _memories(
        self, row: Any, tally: _Tally, cancel: threading.Event | None
    ) -> list[_Memory] | None:
        speaker, text = row["speaker"], row["text"]
        if speaker in ASSISTANT_SPEAKERS or not statements.worth_asking(text):
            return []
        said_at = datetime.fromisoformat(row["time"])
        is_file = row["source_kind"] == "file"
        item = ExtractionInput(
            speaker, text, row["source_name"] if is_file else None,
            earlier=() if is_file else self._earlier(row), date=spoken_date(said_at),
        )
        facts = self._facts(item, tally, cancel)
        if facts is None:
            return None
        if self._settings.extraction_rules:
            facts = facts + clauses.proposals(text)
        names = self._participants(row["source_id"])
        judged: list[statements.Statement] = []
        for kind, said in facts:
            verdict = statements.judge(
                kind, clauses.as_singular(said), speaker=speaker, source=text,
                participants=names, document=is_file,
            )
            if verdict is None:
                tally.ungrounded += 1
            else:
                judged.append(verdict)
        distinct = statements.distinct(judged)
        tally.duplicates += len(judged) - len(distinct)
        kept: list[_Memory] = []
        for verdict in distinct:
            dated = date_statement(verdict.text, verdict.kind, text, said_at)
            kept.append(_Memory(verdict, dated.text, dated.when, dated.note))
        return kept

    def _facts(
        self, item: ExtractionInput, tally: _Tally, cancel: threading.Event | None
    ) -> list[tuple[MemoryKind, str]] | None:
        messages = extraction_messages(item)
        facts = statements.parse_facts(self._ask(messages, MAX_OUTPUT_TOKENS, 0.0, tally, cancel))
        if facts is None:
            retry = self._ask(messages, 2 * MAX_OUTPUT_TOKENS, RETRY_TEMPERATURE, tally, cancel)
            facts = statements.parse_facts(retry)
        return facts

    def _ask(
        self, messages: Any, max_tokens: int, temperature: float, tally: _Tally,
        cancel: threading.Event | None,
    ) -> str:
        stop, timer = call_deadline(CALL_DEADLINE_SECONDS, cancel)
        started = time.perf_counter()
        try:
            reply = self._llm.chat(
                messages, max_tokens=max_tokens, temperature=temperature,
                json_schema=self._schema, cancel=stop,
            )
            self._generation_seconds += time.perf_counter() - started
            self._generated_tokens += self._llm.count_tokens(reply)
            return reply
        except Cancelled:
            if cancel is not None and cancel.is_set():
                raise
            tally.timed_out += 1
            return ""
        finally:
            timer.cancel()

    def _earlier(self, row: Any) -> tuple[tuple[str, str], ...]:
        count = self._settings.extraction_context_turns
        if count < 1:
            return ()
        rows = self._store.ledger.query(
            "SELECT speaker, text FROM episodes WHERE source_id = ?"
            " AND (ts < ? OR (ts = ? AND seq < ?)) ORDER BY ts DESC, seq DESC LIMIT ?",
            (row["source_id"], row["ts"], row["ts"], row["seq"], count),
        )
        return tuple((r["speaker"], r["text"]) for r in reversed(rows))

    def _participants(self, source_id: str) -> frozenset[str]:
        rows = self._store.ledger.query(
            "SELECT DISTINCT speaker FROM episodes WHERE source_id = ?", (source_id,)
        )
        return frozenset(row["speaker"] for row in rows)

    def _defer(self, episode_id: str) -> None:
        with self._store.ledger.transaction() as conn:
            conn.execute(
                "UPDATE episodes SET extract_attempts = extract_attempts + 1 WHERE id = ?",
                (episode_id,),
            )

    def _commit(self, row: Any, found: list[_Memory], batch: str, tally: _Tally) -> Changes:
        model = pinned(self._embedder)
        vectors = model.embed([m.text for m in found]) if found else np.zeros((0, 1))
        participants = self._participants(row["source_id"])
        added: list[tuple[NewMemory, Any, _Memory]] = []
        restated: list[str] = []
        for memory, vector in zip(found, vectors, strict=True):
            existing = find_restated(self._store, memory.statement.about, vector, model.name)
            if existing is not None:
                restated.append(existing)
                continue
            added.append((self._new_memory(row, memory), vector, memory))
        days: set[str] = set()
        with self._store.ledger.transaction() as conn:
            if added or restated:
                records.ensure_batch(conn, batch, Actor.EXTRACTOR, "extraction")
            for memory_id in restated:
                if cite_again(conn, memory_id, row["id"], batch, model):
                    tally.restated += 1
            for new, vector, memory in added:
                records.insert_memory(conn, new, batch, Actor.EXTRACTOR)
                records.store_vector(conn, new.id, model.name, vector)
                link_entities(conn, new.id, find_entities(
                    memory.text, row["text"], new.about, participants, USER_SPEAKER,
                ))
                days.add(day_of(new.valid_from))
                tally.to_review += int(new.review)
            records.mark_extracted(conn, [row["id"]])
        if added or restated:
            self._store.sync_index()
        return Changes(memories_added=len(added), memories_changed=len(restated),
                       days=frozenset(days))

    def _new_memory(self, row: Any, memory: _Memory) -> NewMemory:
        confidence = memory.statement.confidence
        return NewMemory(
            id="mem_" + uuid.uuid4().hex[:20], kind=memory.statement.kind, text=memory.text,
            about=memory.statement.about, valid_from=memory.when, confidence=confidence,
            trust=row["trust"], episode_ids=(row["id"],),
            review=row["trust"] in LOW_TRUST or confidence < statements.REVIEW_BELOW,
            time_note=memory.note,
        )
