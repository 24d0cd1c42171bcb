"""The facade: the one object the desktop app and the CLI talk to.

It is passed in, never reached as a global. Every method may be called from a worker
thread; writes are serialised by the ledger, model calls by each model.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from reverie.core import privacy
from reverie.core import reembed as reembedding
from reverie.core.capture.formats import all_formats
from reverie.core.capture.importer import import_file
from reverie.core.capture.isolation import IsolatedParser
from reverie.core.capture.watching import Capture, SourceStatus
from reverie.core.chat.commands import ChatProposal, ForgetProposal, confirm, parse_command, propose
from reverie.core.chat.conversations import ConversationBook
from reverie.core.chat.session import ChatAnswer, ChatService, Conversation, Reply
from reverie.core.config import Settings
from reverie.core.consolidate import journal
from reverie.core.consolidate.describe import describe
from reverie.core.consolidate.run import Consolidator, RunReport
from reverie.core.editing import MemoryEditor
from reverie.core.embedding import SwitchableEmbedder
from reverie.core.errors import BadInput
from reverie.core.extract.extractor import ExtractionResult, Extractor, QueueStatus
from reverie.core.jobs import Progress, no_progress
from reverie.core.merging import Merged, MergeRequest, merge
from reverie.core.native_imports import native_import
from reverie.core.retrieve.options import RetrievalOptions, SearchFilters
from reverie.core.retrieve.query import QueryPlan
from reverie.core.retrieve.search import Searcher
from reverie.core.store import backup as store_backup
from reverie.core.store import exchange, queries, timeline_filter
from reverie.core.store import people as people_store
from reverie.core.store.exchange_format import is_exchange_file
from reverie.core.store.forget import ForgetPlan
from reverie.core.store.keys import Unlocker
from reverie.core.store.memory_detail import MemoryDetail, memory_detail
from reverie.core.store.store import Store
from reverie.core.store.timeline_filter import TimelineFilter
from reverie.core.types import (
    Changes,
    DayCount,
    Excerpt,
    Hit,
    ImportReport,
    MemoryKind,
    TimelineItem,
)
from reverie.models.base import LLM, Embedder, NativeRuntime, RoleModels, TokenCallback

log = logging.getLogger("reverie.service")

EXPORT_FORMAT = "reverie-export"
EXPORT_VERSION = 1


class Reverie:
    """Import, extract, search, browse and chat over one data directory."""

    def __init__(
        self, store: Store, llm: LLM | RoleModels, embedder: Embedder, settings: Settings
    ) -> None:
        """Serve `store` with `llm` (one model for every job, or one per role)."""
        self.store = store
        self._models = llm if isinstance(llm, RoleModels) else RoleModels.same(llm)
        # Everything below holds the switchable embedder, so that a re-embedding can
        # move them all to a new model in one step.
        embedder = SwitchableEmbedder(embedder)
        self.embedder = embedder
        self.settings = settings
        self._searcher = Searcher(store, embedder, settings)
        self._extractor = Extractor(store, self._models.extraction, embedder, settings)
        self._chat = ChatService(store, self._searcher, self._models.chat, embedder, settings)
        self._isolated = IsolatedParser()
        self.memories = MemoryEditor(store, embedder)
        """Add, edit, pin, archive, supersede, undo and forget memories."""
        self.conversations = ConversationBook(store, self.memories)
        """The chat's stored conversations: list, open again, rename, delete."""
        self.capture = Capture(store, embedder, self.memories, self._isolated,
                               settings.max_file_bytes)
        """Watched folders and exports: add, pause, remove, scan, watch in the background."""
        self.consolidation = Consolidator(store, self._models.consolidation, embedder)
        """Sleep-time consolidation: run (or dry-run), list runs, undo, decide proposals."""

    @property
    def llm(self) -> LLM:
        """The chat model."""
        return self._models.chat

    @property
    def models(self) -> RoleModels:
        """The language model of each job."""
        return self._models

    def reembed_pending(self) -> str | None:
        """The embedder an unfinished re-embedding was moving to, if any."""
        return reembedding.pending_target(self.store)

    def reembed(
        self, target: Embedder, *, progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> reembedding.ReembedReport:
        """Embed every item again with `target` and then search with it; resumable.

        Search keeps answering with the current model until the new index is
        complete (see `core.reembed`). Cancelling keeps what was done.
        """
        return reembedding.reembed(self.store, self.embedder, target, progress, cancel)

    def use_models(self, models: RoleModels) -> list[LLM]:
        """Switch every job to `models` (work under way finishes on its model); returns
        the models no longer used, for the caller to close once that work is done."""
        self._extractor.use_model(models.extraction)
        self._chat.use_model(models.chat)
        self.consolidation.use_model(models.consolidation)
        kept = {id(m) for m in models.distinct()}
        dropped = [m for m in self._models.distinct() if id(m) not in kept]
        self._models = models
        return dropped

    @property
    def data_dir(self) -> Path:
        """The data directory this facade owns."""
        return self.store.data_dir

    def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        extract: bool = True,
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> ImportReport:
        """Import a file of any format Reverie reads, then (unless `extract` is False)
        extract memories from what it added.

        A reverie-jsonl export is recognised by its first line and restored as it is
        (its memories come with it; nothing is extracted).
        """
        target = Path(path)
        if is_exchange_file(target):
            return self._import_export_file(target, progress, cancel)
        imported = import_file(
            self.store, self.embedder, target, max_bytes=self.settings.max_file_bytes,
            isolated=self._isolated, progress=progress, cancel=cancel,
        )
        changes, added, dropped = imported.changes, 0, 0
        if extract and imported.added_ids:
            result = self._extractor.run(
                episode_ids=imported.added_ids, progress=progress, cancel=cancel
            )
            changes = changes + result.changes
            added, dropped = result.changes.memories_added, result.dropped_ungrounded
        return ImportReport(
            path=str(target), sources=imported.sources,
            episodes_added=changes.episodes_added, episodes_skipped=imported.skipped,
            memories_added=added, memories_dropped=dropped, changes=changes,
            episodes_withheld=imported.withheld,
        )

    def _import_export_file(
        self, target: Path, progress: Progress, cancel: threading.Event | None
    ) -> ImportReport:
        restored = self.import_reverie_jsonl(target, progress=progress, cancel=cancel)
        return ImportReport(
            path=str(target), sources=(), episodes_added=restored.added.get("episode", 0),
            episodes_skipped=restored.skipped,
            memories_added=restored.added.get("memory", 0), memories_dropped=0,
            changes=restored.changes,
        )

    def extract_pending(
        self,
        *,
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
        on_changes: Callable[[Changes], None] | None = None,
    ) -> ExtractionResult:
        """Extract memories from every episode not yet extracted.

        `on_changes` hears each episode's new memories as they are committed.
        """
        return self._extractor.run(progress=progress, cancel=cancel, on_changes=on_changes)

    def extraction_status(self) -> QueueStatus:
        """The extraction queue: how many wait, how many were put off, tokens/s."""
        return self._extractor.status()

    def sleep(self, reason: str, cancel: threading.Event | None = None) -> RunReport:
        """The scheduled sleep-time job: retry extraction of what was marked for later,
        then consolidate. Stops between steps when `cancel` is set (it resumes next time).
        The report's `changes` hold what both steps changed."""
        extracted = self._extractor.run(progress=no_progress, cancel=cancel,
                                        retry_deferred=True)
        report = self.consolidation.run(reason=reason, cancel=cancel)
        return dataclasses.replace(report, changes=report.changes + extracted.changes)

    def review_inbox(self, limit: int = 200) -> list[dict[str, object]]:
        """What waits for the user's verdict: memories to check (low confidence or low
        trust) and consolidation changes that touch pinned or edited memories."""
        ledger = self.store.ledger
        rows = ledger.query(
            "SELECT id, kind, text, confidence, trust FROM memories WHERE review = 1"
            " AND status = 'active' ORDER BY valid_from_ts DESC LIMIT ?", (limit,)
        )
        inbox: list[dict[str, object]] = [
            {"id": r["id"], "type": "memory", "what": f"[{r['kind']}] {r['text']}",
             "confidence": r["confidence"], "trust": r["trust"]}
            for r in rows
        ]
        for change in journal.proposals(ledger):
            inbox.append({"id": f"{change.run_id}:{change.seq}", "type": "change",
                          "what": describe(ledger, change.op, change.payload, True)})
        return inbox

    def start_capture(
        self,
        *,
        on_status: Callable[[list[SourceStatus]], None],
        on_changes: Callable[[Changes], None],
        extract: bool = True,
    ) -> None:
        """Watch every unpaused source in the background; extract what arrives if `extract`.

        The callbacks run on capture's threads.
        """

        def run_extraction(cancel: threading.Event) -> Changes:
            return self._extractor.run(progress=no_progress, cancel=cancel).changes

        self.capture.start(on_status=on_status, on_changes=on_changes,
                           extract=run_extraction if extract else None)

    @property
    def capture_paused(self) -> bool:
        """True while the user has paused all capture (kept in the store)."""
        return self.capture.paused_all

    def set_capture_paused(self, paused: bool) -> None:
        """Pause reading every watched source, or resume and catch up on what changed
        meanwhile; the choice holds across restarts (see `Capture.pause_all`)."""
        if paused:
            self.capture.pause_all()
        else:
            self.capture.resume_all()

    def search(
        self,
        query: str,
        k: int = 10,
        as_of: datetime | None = None,
        filters: SearchFilters | None = None,
        options: RetrievalOptions | None = None,
    ) -> list[Hit]:
        """Hybrid search over episodes, memories and summaries (see `Searcher.search`)."""
        return self._searcher.search(query, k=k, as_of=as_of, filters=filters,
                                     options=options)

    def search_plan(self, query: str, as_of: datetime | None = None) -> QueryPlan:
        """The periods and people search reads in `query` (the UI shows them as chips)."""
        return self._searcher.plan(query, as_of)

    def timeline_days(self, offset: int, limit: int) -> list[DayCount]:
        """Days holding anything, newest first."""
        return queries.timeline_days(self.store.ledger, offset, limit)

    def timeline_items(self, day: str, flt: TimelineFilter | None = None, *,
                       offset: int = 0, limit: int = -1) -> list[TimelineItem]:
        """The memories and episodes of one ISO day (that `flt` keeps), newest first:
        all of them, or a page of `limit` from `offset` (the timeline pages busy days)."""
        if flt is None or flt.is_default:
            return queries.timeline_items(self.store.ledger, day, offset, limit)
        return timeline_filter.filtered_items(self.store.ledger, flt, day, offset, limit)

    def timeline_filtered_days(self, flt: TimelineFilter) -> list[DayCount]:
        """Every day holding items that `flt` keeps, newest first (not for the main
        thread: it reads the matching rows themselves)."""
        return timeline_filter.filtered_days(self.store.ledger, flt)

    def timeline_day_near(self, day: str) -> str | None:
        """The newest day with anything on or before ISO `day` (to jump to a date)."""
        return timeline_filter.day_on_or_before(self.store.ledger, day)

    def people(self) -> list[str]:
        """The people memories name, most mentioned first."""
        return timeline_filter.people(self.store.ledger)

    def person_list(self, text: str = "") -> list[str]:
        """The people Reverie knows, by name (`text`: only names containing it); see
        `store/people.py` for who counts. A few indexed probes a person."""
        return people_store.people(self.store.ledger, text)

    def person_rows(self, names: list[str]) -> list[people_store.Person]:
        """How many memories mention each of `names`, first and last seen (from the
        per-day counts the ledger keeps: a few hundred rows a person)."""
        return people_store.person_stats(self.store.ledger, names)

    def person_page(self, name: str) -> people_store.PersonPage | None:
        """The header of a person's page (not for the main thread: it reads their newest
        memories for the people seen with them); None if unknown."""
        return people_store.person_page(self.store.ledger, name)

    def source_names(self) -> list[tuple[str, str]]:
        """Every source as (id, name)."""
        return timeline_filter.sources(self.store.ledger)

    def item_day(self, item_id: str) -> str | None:
        """The timeline day of an episode or memory (None if it is gone)."""
        return queries.item_day(self.store.ledger, item_id)

    def excerpts(self, item_id: str) -> list[Excerpt]:
        """The source text behind an item: its own turn, or the turns a memory cites."""
        return queries.excerpts(self.store.ledger, item_id)

    def memory_detail(self, memory_id: str) -> MemoryDetail | None:
        """One memory in full: fields, provenance with supporting spans, chain."""
        return memory_detail(self.store.ledger, memory_id)

    def merge_memories(
        self, keep: str, fold: str, *, text: str, kind: MemoryKind | None = None,
        when: datetime | None = None, into_new: bool = False,
    ) -> Merged:
        """The user merges memory `fold` into `keep` (or both into a new memory), which
        then holds `text` (and `kind`, `when` if given): one undoable change whose undo
        brings both back (see `core.merging`). Bad input raises `BadInput`, changing
        nothing."""
        request = MergeRequest(keep, fold, text, kind=kind, when=when, into_new=into_new)
        return merge(self.store, self.embedder, request)

    def import_runtimes(self) -> None:
        """Import the native libraries of the models and the embedder (llama.cpp, ONNX
        Runtime), not the models, and those of the file formats (pypdf with its
        cryptography, lxml...): the app does it while it opens, because such an import
        holds the GIL for 100 ms and more (see `models.base.NativeRuntime`)."""
        for model in [*self._models.distinct(), self.embedder.current]:
            if isinstance(model, NativeRuntime):
                model.import_runtime()
        with native_import():
            all_formats()

    def counts(self) -> dict[str, int]:
        """How many sources, episodes, memories and history entries are stored."""
        return queries.counts(self.store.ledger)

    def new_conversation(self) -> Conversation:
        """Start a chat conversation."""
        return self._chat.new_conversation()

    def chat(
        self,
        conversation: Conversation,
        text: str,
        *,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatAnswer:
        """Answer a chat message from memory, streaming tokens to `on_token`; the user's
        turn then goes to the background extractor like any other episode."""
        command = parse_command(text)
        if command is not None:
            # Not a turn: never stored, never answered by the model (commands.py).
            proposal = propose(*command, self._searcher, self.memories)
            match = proposal.match if isinstance(proposal, ForgetProposal) else None
            return ChatAnswer(proposal.question, (), (match,) if match else (), Changes(),
                              proposal=proposal)
        if self.privacy_rules().text_rule_for(text) is not None:
            return self._answer_unstored(conversation, text, on_token, cancel)
        answer = self._chat.reply(conversation, text, on_token=on_token, cancel=cancel)
        self.capture.request_extraction()
        return answer

    def _answer_unstored(self, conversation: Conversation, text: str,
                         on_token: TokenCallback | None,
                         cancel: threading.Event | None) -> ChatAnswer:
        """A message a never-remember rule covers: answered, but neither it nor the
        answer is stored (their places in the conversation stay empty)."""
        history = conversation.history[:]
        reply = self._chat.answer(text.strip(), history, exclude=conversation,
                                  on_token=on_token, cancel=cancel)
        conversation.history += [{"role": "user", "content": text.strip()},
                                 {"role": "assistant", "content": reply.text}]
        with self.store.ledger.transaction() as conn:
            privacy.count_withheld(conn, 2)
        return ChatAnswer(reply.text, reply.used, reply.cited, Changes(),
                          grounded=reply.grounded, abstained=reply.abstained)

    def privacy_rules(self) -> privacy.PrivacyRules:
        """The never-remember rules (kept in the store: see `core.privacy`)."""
        return privacy.load_rules(self.store.ledger)

    def set_privacy_rules(self, rules: privacy.PrivacyRules) -> None:
        """Replace the never-remember rules; they hold from the next turn stored on."""
        privacy.save_rules(self.store.ledger, rules)

    def plan_forget_matching(self, rule: privacy.Rule) -> ForgetPlan:
        """What forgetting everything stored that `rule` covers would remove (the
        preview; `memories.forget(plan)` then does it)."""
        return self.memories.plan_forget(privacy.matching_target(self.store.ledger, rule))

    def ask(self, question: str, *, as_of: datetime | None = None) -> Reply:
        """Answer a question from memory as the chat would, storing nothing (the
        question-answering benchmark asks this way, as of a conversation's end)."""
        if not question.strip():
            raise BadInput("the question is empty")
        return self._chat.answer(question.strip(), as_of=as_of)

    def memories_for(
        self, question: str, *, as_of: datetime | None = None
    ) -> tuple[list[Hit], bool]:
        """The memories the chat would answer `question` from, and whether they hold
        enough of it to answer at all (False: the chat says it does not remember)."""
        if not question.strip():
            raise BadInput("the question is empty")
        return self._chat.memories_for(question.strip(), as_of=as_of)

    def confirm_chat(self, proposal: ChatProposal) -> tuple[str, Changes]:
        """Do what a "remember …"/"forget …" message proposed, once the user said yes."""
        return confirm(proposal, self.memories)

    def export_json(self, path: str | os.PathLike[str]) -> int:
        """Write every episode and memory to `path` as JSON; return how many items."""
        target = Path(path)
        if target.is_dir():
            raise BadInput(f"{target} is a folder; give a file name")
        items: list[dict[str, object]] = []
        for page in queries.all_item_ids(self.store.ledger):
            records = queries.items_by_id(self.store.ledger, page)
            items.extend(_export_item(records[item_id]) for item_id in page)
        document = {
            "format": EXPORT_FORMAT, "version": EXPORT_VERSION,
            "exported": datetime.now().astimezone().isoformat(timespec="seconds"),
            "items": items,
        }
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(target)
        return len(items)

    def rebuild_index(
        self, *, progress: Progress = no_progress, cancel: threading.Event | None = None
    ) -> int:
        """Rebuild the search index from the ledger (no model runs); return its size."""
        return self.store.rebuild_index(progress, cancel)

    def change_key(self, unlocker: Unlocker, *, to_keyring: bool) -> None:
        """Re-encrypt under a new passphrase from `unlocker`, or move the key to the keyring."""
        self.store.change_key(unlocker, to_keyring)

    def export_jsonl(self, path: str | os.PathLike[str]) -> int:
        """Write the whole store as reverie-jsonl (docs/formats.md); return how many records."""
        return exchange.export_jsonl(self.store.ledger, Path(path))

    def export_markdown(self, path: str | os.PathLike[str]) -> int:
        """Write every day's memories and turns as Markdown to read; return how many days."""
        return exchange.export_markdown(self.store.ledger, Path(path))

    def import_reverie_jsonl(
        self,
        path: str | os.PathLike[str],
        *,
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> exchange.JsonlImport:
        """Import a reverie-jsonl file with its ids, times and history; all or nothing."""
        return exchange.import_jsonl(self.store, self.embedder, Path(path), progress, cancel)

    def backup(
        self, target: str | os.PathLike[str], *, passphrase: str | None = None
    ) -> store_backup.BackupReport:
        """Copy the ledger and its key recipe into a new folder while the store stays open.

        With `passphrase` the copy gets a passphrase key of its own, for another machine.
        """
        return store_backup.backup(self.store, Path(target), passphrase)

    def close(self) -> None:
        """Release the store and the parser process; models are freed with the process."""
        self.capture.stop()
        self._isolated.close()
        self.store.close()


def restore_backup(
    backup_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    unlocker: Unlocker,
    *,
    replace: bool = False,
) -> store_backup.RestoreReport:
    """Restore a backup into a data directory that no Reverie has open (no facade exists
    for it meanwhile); the next `open_reverie` there rebuilds the search index."""
    return store_backup.restore(Path(backup_dir), Path(data_dir), unlocker, replace=replace)


def _export_item(record: queries.ItemRecord) -> dict[str, object]:
    return {
        "id": record.id, "kind": record.kind.value, "text": record.text,
        "time": record.time.isoformat(), "label": record.label,
        "sources": [{"source": s.source, "ref": s.ref} for s in record.sources],
    }
