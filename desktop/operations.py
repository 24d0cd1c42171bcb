"""The work the UI starts, as functions of the facade: what runs inside a job.

They run on a worker thread and see only the facade and the job's context, never a
widget, so they are tested without a window.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from reverie.core.chat.commands import ChatProposal
from reverie.core.chat.session import ChatAnswer, Conversation
from reverie.core.extract.extractor import ExtractionResult
from reverie.core.service import Reverie
from reverie.core.types import Changes, ImportReport
from reverie.desktop.jobs import JobContext


@dataclass(frozen=True)
class ImportOutcome:
    """An import and the extraction that followed it."""

    report: ImportReport
    extraction: ExtractionResult | None  # None when the file added no turns

    @property
    def changes(self) -> Changes:
        """Nothing left to announce: turns and memories were announced as they landed."""
        return Changes()

    @property
    def memories_added(self) -> int:
        """How many memories the extraction added."""
        return self.extraction.changes.memories_added if self.extraction is not None else 0


def import_and_extract(
    path: str | os.PathLike[str],
) -> Callable[[Reverie, JobContext], ImportOutcome]:
    """A job that imports a chat file, shows its turns, then extracts memories.

    The turns are stored first and announced at once, so the timeline shows them while
    the (slow) extraction runs; each turn's memories are announced as they are stored.
    Extraction covers every turn not yet extracted, which also finishes the work of an
    earlier import that was cancelled part-way and the user's own chat turns. A cancel
    during extraction keeps the turns and the memories extracted so far.
    """

    def work(facade: Reverie, ctx: JobContext) -> ImportOutcome:
        report = facade.import_file(path, extract=False, progress=ctx.progress, cancel=ctx.cancel)
        ctx.announce(report.changes)
        extraction = None
        if report.episodes_added:
            extraction = facade.extract_pending(
                progress=ctx.progress, cancel=ctx.cancel, on_changes=ctx.announce
            )
        return ImportOutcome(report, extraction)

    return work


@dataclass
class ChatTurn:
    """One message to answer, and the conversation it belongs to.

    A new conversation is started by the job itself (it reads the store), and handed
    back here so the next message continues it, even when this answer was stopped.
    Only the worker writes it, and only before the job's `finished` signal.
    """

    text: str
    conversation: Conversation | None = None


def answer(turn: ChatTurn) -> Callable[[Reverie, JobContext], ChatAnswer]:
    """A job that answers `turn.text`, streaming tokens through the job's context."""

    def work(facade: Reverie, ctx: JobContext) -> ChatAnswer:
        if turn.conversation is None:
            turn.conversation = facade.new_conversation()
        return facade.chat(turn.conversation, turn.text, on_token=ctx.emit, cancel=ctx.cancel)

    return work


def confirm_chat(proposal: ChatProposal) -> Callable[[Reverie, JobContext], tuple[str, Changes]]:
    """A job that does what a "remember …"/"forget …" message proposed."""

    def work(facade: Reverie, ctx: JobContext) -> tuple[str, Changes]:
        return facade.confirm_chat(proposal)

    return work
