"""The chat's past conversations: list them, open one again, rename it, delete it.

A conversation is a source of kind `reverie-chat` whose episodes are its turns
(`session.ChatService`). Its name is the source's `name`: "Chat <when it began>" until
the user renames it, which changes the name and never the source's id (the turns'
ids are made from that id). So a conversation never renamed is shown by its first
message, and one the user named by that name, which the timeline and the citation
chips then show too, and which goes with the source row when it is forgotten.

Deleting goes through the forget machinery (`store/forget.py`): the preview names the
memories extracted from the conversation's turns that go with it, and the deletion
refuses to run when what it would remove changed since that preview.

Only the answers' text is stored, not the memories they were given or cited, so a
conversation opened again shows its turns without their source chips.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reverie.core.capture.sync import source_id_for
from reverie.core.chat.session import (
    ASSISTANT_SPEAKER,
    CHAT_SOURCE_KIND,
    USER_SPEAKER,
    Conversation,
)
from reverie.core.editing import MemoryEditor
from reverie.core.errors import BadInput
from reverie.core.jobs import Progress, no_progress
from reverie.core.store.forget import ForgetPlan, ForgetTarget
from reverie.core.store.ledger import Ledger
from reverie.core.store.store import Store
from reverie.core.types import Changes
from reverie.models.base import ChatMessage

PAGE = 50  # conversations per page of the list
MAX_PAGE = 500
TITLE_CHARS = 60  # a title taken from the first message is cut to about this length
MAX_NAME_CHARS = 120
MAX_OPEN_TURNS = 1000  # the newest turns an opened conversation shows and remembers
PREVIEW_MEMORIES = 12  # memories named one by one in a deletion's preview


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the conversation list."""

    source_id: str
    name: str  # the source's name: "Chat <when it began>", or what the user named it
    title: str  # what the list shows: the user's name for it, else its first message
    named: bool  # True when the user named it
    last_turn: datetime  # when its newest turn was written
    turns: int


@dataclass(frozen=True)
class StoredTurn:
    """A turn of a conversation as the store holds it."""

    episode_id: str
    speaker: str
    text: str
    time: datetime


@dataclass(frozen=True)
class OpenedConversation:
    """A conversation read back to be shown and continued."""

    summary: ConversationSummary
    conversation: Conversation  # give it to `Reverie.chat` to continue it
    turns: tuple[StoredTurn, ...]  # the newest `MAX_OPEN_TURNS`, oldest first
    earlier: int  # older turns left out of `turns`


@dataclass(frozen=True)
class ConversationDeletion:
    """What deleting a conversation removes, to show before the user confirms."""

    summary: ConversationSummary
    plan: ForgetPlan
    memories: tuple[str, ...]  # the text of the first `PREVIEW_MEMORIES` memories that go

    def describe(self) -> str:
        """The preview in one paragraph (the list of memories comes separately)."""
        derived = len(self.plan.derived_memory_ids)
        text = (f"Deleting “{self.summary.title}” forgets its "
                f"{_count(len(self.plan.episode_ids), 'turn')}")
        if derived:
            text += (f" and {_count(derived, 'memory', 'memories')} Reverie took from "
                     "what you wrote there")
        else:
            text += "; no memory was taken from it"
        text += "."
        losing = len(self.plan.memories_losing_citations)
        if losing:
            text += (f" {_count(losing, 'memory', 'memories')} also learned elsewhere "
                     "will stay, without citing this conversation.")
        if self.plan.backups:
            text += (f" Reverie's {_count(len(self.plan.backups), 'automatic backup')} "
                     "from before upgrades will be deleted too, since they hold the same text.")
        return text + " This cannot be undone."


class ConversationBook:
    """The stored chat conversations: fast indexed reads, and renames and deletions."""

    def __init__(self, store: Store, editor: MemoryEditor) -> None:
        self._store = store
        self._editor = editor

    def list(self, offset: int = 0, limit: int = PAGE) -> list[ConversationSummary]:
        """A page of conversations, the one with the newest turn first."""
        if offset < 0 or not 0 < limit <= MAX_PAGE:
            raise BadInput(f"a page of conversations holds 1 to {MAX_PAGE}, from 0 on")
        ledger = self._store.ledger
        # The newest turn of each chat source is one step down the (source_id, seq)
        # index; only the page's rows are then counted and titled.
        rows = ledger.query(
            "SELECT s.id, s.name, e.time FROM (SELECT id, name,"
            " (SELECT MAX(seq) FROM episodes WHERE source_id = sources.id) AS last_seq"
            " FROM sources WHERE kind = ?) s JOIN episodes e ON e.seq = s.last_seq"
            " ORDER BY e.ts DESC, e.seq DESC LIMIT ? OFFSET ?",
            (CHAT_SOURCE_KIND, limit, offset),
        )
        return [_summary(ledger, row) for row in rows]

    def get(self, source_id: str) -> ConversationSummary:
        """One conversation's row; `BadInput` when there is no such conversation."""
        rows = self._store.ledger.query(
            "SELECT s.id, s.name, e.time FROM sources s JOIN episodes e ON e.seq ="
            " (SELECT MAX(seq) FROM episodes WHERE source_id = s.id)"
            " WHERE s.id = ? AND s.kind = ?",
            (source_id, CHAT_SOURCE_KIND),
        )
        if not rows:
            raise BadInput("that conversation is no longer stored")
        return _summary(self._store.ledger, rows[0])

    def open(self, source_id: str) -> OpenedConversation:
        """Read a conversation back: its turns to show, and a `Conversation` whose
        history the model gets when the user goes on with it."""
        summary = self.get(source_id)
        ledger = self._store.ledger
        rows = ledger.query(
            "SELECT id, speaker, text, time FROM (SELECT seq, id, speaker, text, time"
            " FROM episodes WHERE source_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (source_id, MAX_OPEN_TURNS),
        )
        turns = tuple(
            StoredTurn(row["id"], row["speaker"], row["text"], datetime.fromisoformat(row["time"]))
            for row in rows
        )
        history: list[ChatMessage] = [
            {"role": "user" if turn.speaker == USER_SPEAKER else "assistant",
             "content": turn.text}
            for turn in turns if turn.speaker in (USER_SPEAKER, ASSISTANT_SPEAKER)
        ]
        conversation = Conversation(
            name=summary.name, history=history,
            skipped=max(0, _last_place(ledger, source_id) - len(history)),
            stored_as=source_id,
        )
        return OpenedConversation(summary, conversation, turns, summary.turns - len(turns))

    def rename(self, source_id: str, name: str) -> ConversationSummary:
        """Give a conversation the user's name for it; returns its new row."""
        clean = " ".join(name.split())
        if not clean:
            raise BadInput("a conversation's name cannot be empty")
        if len(clean) > MAX_NAME_CHARS:
            raise BadInput(f"a conversation's name holds at most {MAX_NAME_CHARS} characters")
        with self._store.ledger.transaction() as conn:
            done = conn.execute(
                "UPDATE sources SET name = ? WHERE id = ? AND kind = ?",
                (clean, source_id, CHAT_SOURCE_KIND),
            ).rowcount
        if not done:
            raise BadInput("that conversation is no longer stored")
        return self.get(source_id)

    def plan_delete(self, source_id: str) -> ConversationDeletion:
        """What deleting a conversation would forget; changes nothing."""
        summary = self.get(source_id)
        plan = self._editor.plan_forget(ForgetTarget(source_ids=(source_id,)))
        return ConversationDeletion(summary, plan, _memory_texts(
            self._store.ledger, plan.memory_ids[:PREVIEW_MEMORIES]))

    def delete(
        self, deletion: ConversationDeletion, *, progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> Changes:
        """Forget what `deletion` previewed; refused, changing nothing, when the store
        would now forget more or other things than the user was shown."""
        fresh = self._editor.plan_forget(ForgetTarget(source_ids=(deletion.summary.source_id,)))
        if (fresh.episode_ids, fresh.memory_ids, fresh.memories_losing_citations) != (
            deletion.plan.episode_ids, deletion.plan.memory_ids,
            deletion.plan.memories_losing_citations,
        ):
            raise BadInput("the conversation changed since the preview (new turns or "
                           "memories); look at what would be deleted again")
        return self._editor.forget(fresh, progress=progress, cancel=cancel)


def shorten(text: str, limit: int = TITLE_CHARS) -> str:
    """A message cut at a word to about `limit` characters, for a title."""
    clean = " ".join(text.split())
    if len(clean) <= limit:
        return clean
    cut = clean[: limit - 1]
    word_end = cut.rfind(" ")
    if word_end > limit // 2:
        cut = cut[:word_end]
    return cut.rstrip(" ,.;:-") + "…"


def _summary(ledger: Ledger, row: Any) -> ConversationSummary:
    source_id, name = str(row["id"]), str(row["name"])
    turns = int(ledger.query("SELECT COUNT(*) FROM episodes WHERE source_id = ?",
                             (source_id,))[0][0])
    # Never renamed: the name is the one its id was made from ("Chat <when>").
    named = source_id_for(CHAT_SOURCE_KIND, name) != source_id
    title = name
    if not named:
        # "+speaker": walk the source's turns in order; the index on speaker alone would
        # visit every turn the user ever wrote.
        first = ledger.query(
            "SELECT text FROM episodes WHERE source_id = ? AND +speaker = ? ORDER BY seq"
            " LIMIT 1",
            (source_id, USER_SPEAKER),
        )
        title = shorten(str(first[0][0])) if first else name
    return ConversationSummary(
        source_id=source_id, name=name, title=title, named=named,
        last_turn=datetime.fromisoformat(str(row["time"])), turns=turns,
    )


def _last_place(ledger: Ledger, source_id: str) -> int:
    """The highest place a turn of the source took, forgotten turns included."""
    rows = ledger.query(
        "SELECT MAX(CAST(locator AS INTEGER)) FROM (SELECT locator FROM episodes"
        " WHERE source_id = ?1 UNION ALL SELECT locator FROM forgotten"
        " WHERE source_id = ?1 AND locator != '')",
        (source_id,),
    )
    return int(rows[0][0] or 0)


def _memory_texts(ledger: Ledger, memory_ids: tuple[str, ...]) -> tuple[str, ...]:
    if not memory_ids:
        return ()
    marks = ",".join("?" * len(memory_ids))
    rows = ledger.query(f"SELECT id, text FROM memories WHERE id IN ({marks})", memory_ids)
    texts = {str(row["id"]): str(row["text"]) for row in rows}
    return tuple(texts[memory_id] for memory_id in memory_ids if memory_id in texts)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
