"""A chat conversation in Reverie: each turn becomes an episode, answers use memory."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reverie.core.capture.sync import episode_id_for, source_id_for
from reverie.core.chat.commands import ChatProposal
from reverie.core.chat.prompt import build_chat_prompt, trim_answer
from reverie.core.chat.support import attribute, has_support, is_question
from reverie.core.config import Settings
from reverie.core.embedding import pinned
from reverie.core.errors import BadInput
from reverie.core.retrieve.search import Searcher
from reverie.core.store import records
from reverie.core.store.records import NewEpisode
from reverie.core.store.store import Store
from reverie.core.types import OWNER_SPEAKER, Changes, Hit, ItemKind
from reverie.models.base import LLM, ChatMessage, Embedder, TokenCallback

log = logging.getLogger("reverie.chat")

CHAT_SOURCE_KIND = "reverie-chat"
USER_SPEAKER = OWNER_SPEAKER
ASSISTANT_SPEAKER = "Reverie"
MAX_MESSAGE_CHARS = 8000
DONT_REMEMBER = "I don't remember anything about that."


@dataclass
class Conversation:
    """One chat conversation: its name (the source) and its turns so far.

    A conversation opened again from the store (`ConversationBook.open`)
    keeps the source it was stored under even after the user renamed it, and skips
    the places of turns that are not in `history` (an answer stopped before its first
    word, a turn forgotten since), so a new turn never takes an old turn's place.
    """

    name: str
    history: list[ChatMessage] = field(default_factory=list)
    skipped: int = 0  # places taken by turns that are not in `history`
    stored_as: str | None = None  # the source id, when opened from the store

    @property
    def source_id(self) -> str:
        """The store source this conversation's turns belong to."""
        return self.stored_as or source_id_for(CHAT_SOURCE_KIND, self.name)


@dataclass(frozen=True)
class Reply:
    """An answer from memory, before anything is stored."""

    text: str
    used: tuple[Hit, ...]  # the items the model was given
    cited: tuple[Hit, ...]  # those the answer drew on
    grounded: bool  # False when most of its own words are in none of them
    abstained: bool  # True when memory held nothing and the model was not asked


@dataclass(frozen=True)
class ChatAnswer:
    """A finished reply with the memories it was given and those it cited."""

    text: str
    used: tuple[Hit, ...]
    cited: tuple[Hit, ...]
    changes: Changes
    # "remember …"/"forget …": what would be done, waiting for the user's yes
    proposal: ChatProposal | None = None
    # False when most of the answer's own words are in none of the memories used
    grounded: bool = True
    # True when memory held nothing for the question and the model was not asked
    abstained: bool = False


class ChatService:
    """Answers chat messages with the local model and the memories found for them."""

    def __init__(
        self, store: Store, searcher: Searcher, llm: LLM, embedder: Embedder, settings: Settings
    ) -> None:
        self._store = store
        self._searcher = searcher
        self._llm = llm
        self._embedder = embedder
        self._settings = settings

    def use_model(self, llm: LLM) -> None:
        """Answer with `llm` from the next message on."""
        self._llm = llm

    def new_conversation(self) -> Conversation:
        """Start a conversation named after the moment it began (unique in the store)."""
        base = f"Chat {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M:%S')}"
        name, n = base, 1
        # A deleted conversation's source id stays tombstoned: never start a new one there.
        while self._store.ledger.query(
            "SELECT 1 FROM sources WHERE id = ?1"
            " UNION ALL SELECT 1 FROM forgotten WHERE source_id = ?1 AND locator = ''",
            (source_id_for(CHAT_SOURCE_KIND, name),),
        ):
            n += 1
            name = f"{base} ({n})"
        return Conversation(name=name)

    def reply(
        self,
        conversation: Conversation,
        text: str,
        *,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatAnswer:
        """Store the user's turn, answer it from memory, store the answer."""
        text = text.strip()
        if not text:
            raise BadInput("the message is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise BadInput(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
        if self._store.ledger.query(
            "SELECT 1 FROM forgotten WHERE source_id = ? AND locator = ''",
            (conversation.source_id,),
        ):
            # Deleted (from the list, the timeline or the CLI) while it was still open:
            # writing on would bring a forgotten source back.
            raise BadInput("this conversation was deleted; start a new one to go on")
        changes = self._store_turn(conversation, USER_SPEAKER, text, extracted=False)
        history = conversation.history[:]
        conversation.history.append({"role": "user", "content": text})
        reply = self.answer(
            text, history, exclude=conversation, on_token=on_token, cancel=cancel)
        if not reply.abstained:
            self._note_recalled(reply.used)
        # The assistant's own words are not facts about the user: never extracted.
        changes = changes + self._store_turn(conversation, ASSISTANT_SPEAKER, reply.text, True)
        conversation.history.append({"role": "assistant", "content": reply.text})
        return ChatAnswer(
            reply.text, reply.used, reply.cited, changes, grounded=reply.grounded,
            abstained=reply.abstained,
        )

    def answer(
        self,
        text: str,
        history: Sequence[ChatMessage] = (),
        *,
        as_of: datetime | None = None,
        exclude: Conversation | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        """Answer `text` from memory (as of `as_of`), storing nothing.

        A question no retrieved item supports gets `DONT_REMEMBER` without asking the
        model; otherwise the model answers and the items holding its words are cited.
        `exclude`'s own turns are not used as memories (they are the chat itself).
        """
        hits, people, supported = self._support(text, as_of, exclude)
        if not supported:
            # Decided here, not left to the model: a small model asked about what memory
            # does not hold answers anyway, and invents.
            if on_token is not None:
                on_token(DONT_REMEMBER)
            return Reply(DONT_REMEMBER, (), (), grounded=True, abstained=True)
        budget = self._llm.context_size - self._settings.chat_max_tokens - 64
        plan = build_chat_prompt(
            history, text, hits, budget_tokens=budget, count_tokens=self._llm.count_tokens,
        )
        answer = trim_answer(self._llm.chat(
            plan.messages, max_tokens=self._settings.chat_max_tokens, temperature=0.3,
            on_token=on_token, cancel=cancel, stop=plan.stops,
        ))
        attribution = attribute(answer, text, plan.hits, people)
        cited = tuple(plan.hits[i] for i in attribution.cited)
        return Reply(answer, plan.hits, cited, attribution.grounded, abstained=False)

    def memories_for(
        self, text: str, *, as_of: datetime | None = None, exclude: Conversation | None = None
    ) -> tuple[list[Hit], bool]:
        """The best hits for a message (leaving out `exclude`'s own turns), and False
        when it is a question none of them holds enough of (`support.has_support`)."""
        hits, _people, supported = self._support(text, as_of, exclude)
        return hits, supported

    def _support(
        self, text: str, as_of: datetime | None, exclude: Conversation | None
    ) -> tuple[list[Hit], frozenset[str], bool]:
        # The people the message names are planned once: the support check and the
        # attribution both leave their names out of the count.
        found = self._searcher.search(text, k=self._settings.chat_memories * 2, as_of=as_of)
        name = self._current_name(exclude) if exclude is not None else None
        own = [hit for hit in found if name is None or not _from_source(hit, name)]
        hits = own[: self._settings.chat_memories]
        people = self._searcher.plan(text, as_of).people
        supported = not is_question(text) or has_support(
            text, hits, people, self._settings.chat_min_support)
        return hits, people, supported

    def _current_name(self, conversation: Conversation) -> str:
        """The conversation's source name as stored now: the user may have renamed it."""
        rows = self._store.ledger.query(
            "SELECT name FROM sources WHERE id = ?", (conversation.source_id,))
        return str(rows[0][0]) if rows else conversation.name

    def _note_recalled(self, hits: Sequence[Hit]) -> None:
        """Memories given to the model for an answer were recalled: they do not fade."""
        ids = [hit.id for hit in hits if hit.kind is ItemKind.MEMORY]
        if ids:
            with self._store.ledger.transaction() as conn:
                records.note_recalled(conn, ids, records.now_utc())

    def _store_turn(
        self, conversation: Conversation, speaker: str, text: str, extracted: bool
    ) -> Changes:
        if not text:
            return Changes()
        when = datetime.now().astimezone().replace(microsecond=0)
        # A turn's locator is its position in the conversation; a cancelled answer
        # leaves a gap-free history because the user's turn is appended first.
        locator = str(len(conversation.history) + conversation.skipped + 1)
        episode = NewEpisode(
            id=episode_id_for(conversation.source_id, locator), locator=locator,
            speaker=speaker, text=text, time=when,
            text_sha256=hashlib.sha256(f"{speaker}\0{text}".encode()).hexdigest(),
        )
        model = pinned(self._embedder)
        vector = model.embed([f"{speaker}: {text}"])[0]
        with self._store.ledger.transaction() as conn:
            records.ensure_source(
                conn, conversation.source_id, CHAT_SOURCE_KIND, conversation.name, "user"
            )
            records.insert_episode(conn, conversation.source_id, episode)
            records.store_vector(conn, episode.id, model.name, vector)
            if extracted:
                records.mark_extracted(conn, [episode.id])
        self._store.sync_index()
        return Changes(episodes_added=1, days=frozenset({when.date().isoformat()}))


def _from_source(hit: Hit, name: str) -> bool:
    # A memory the user wrote themselves cites no turn: it is not from this chat.
    return bool(hit.sources) and all(source.source == name for source in hit.sources)
