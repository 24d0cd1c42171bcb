""""Remember that …" and "forget …" in chat: proposed first, done only once confirmed.

A command is not a conversation turn: it is not stored as an episode (a "forget my
locker code 4711" turn would keep the very text to forget) and it is not answered by the
model. Reverie answers with what it would do; the UI asks the user; `confirm` does it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reverie.core.editing import MemoryEditor
from reverie.core.retrieve.options import SearchFilters
from reverie.core.retrieve.search import Searcher
from reverie.core.store.forget import ForgetPlan, ForgetTarget
from reverie.core.types import Changes, Hit, ItemKind

_REMEMBER = re.compile(
    r"^\s*(?:please\s+|reverie,?\s+)?(?:remember|note)(?:\s+that)?[\s:,]+(?P<what>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_FORGET = re.compile(
    r"^\s*(?:please\s+|reverie,?\s+)?forget(?:\s+(?:that|about|what i (?:said|told you) about))?"
    r"[\s:,]+(?P<what>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
FORGET_CANDIDATES = 3
_BARE = frozenset({"that", "this", "it", "everything"})  # nothing named: not a command


@dataclass(frozen=True)
class RememberProposal:
    """Store `text` as a memory the user wrote."""

    text: str

    @property
    def question(self) -> str:
        """What the user is asked."""
        return f"Shall I remember this? “{self.text}”"


@dataclass(frozen=True)
class ForgetProposal:
    """Forget the memory that best matches what the user named, and the turns it came
    from; `plan` is empty when nothing matched."""

    asked: str
    match: Hit | None
    plan: ForgetPlan | None

    @property
    def question(self) -> str:
        """What the user is asked (or told, when nothing matched)."""
        if self.match is None or self.plan is None:
            return f"I found no memory about “{self.asked}”, so there is nothing to forget."
        return f"Shall I forget “{self.match.text}”? {self.plan.describe()}"


ChatProposal = RememberProposal | ForgetProposal


def parse_command(text: str) -> tuple[str, str] | None:
    """("remember" | "forget", what) when the message is such a command, else None.

    Questions ("do you remember …?") are questions, not commands.
    """
    if text.rstrip().endswith("?"):
        return None
    for verb, pattern in (("remember", _REMEMBER), ("forget", _FORGET)):
        match = pattern.match(text)
        what = match.group("what").strip().rstrip(".!") if match else ""
        if what and what.lower() not in _BARE:
            return verb, what
    return None


def propose(verb: str, what: str, searcher: Searcher, editor: MemoryEditor) -> ChatProposal:
    """What the command would do, changing nothing."""
    if verb == "remember":
        return RememberProposal(_sentence(what))
    hits = searcher.search(what, k=FORGET_CANDIDATES,
                           filters=SearchFilters(kinds=frozenset({ItemKind.MEMORY})))
    match = next((hit for hit in hits if _shares_a_word(what, hit.text)), None)
    if match is None:
        return ForgetProposal(what, None, None)
    episodes = editor.cited_episode_ids(match.id)
    plan = editor.plan_forget(ForgetTarget(memory_ids=(match.id,), episode_ids=episodes))
    return ForgetProposal(what, match, plan)


def confirm(proposal: ChatProposal, editor: MemoryEditor) -> tuple[str, Changes]:
    """Do what was proposed; the reply to show and what changed."""
    if isinstance(proposal, RememberProposal):
        _, changes = editor.add(proposal.text)
        return f"Remembered: “{proposal.text}”", changes
    if proposal.plan is None or proposal.plan.empty:
        return "There was nothing to forget.", Changes()
    changes = editor.forget(proposal.plan)
    return "Forgotten.", changes


def _sentence(what: str) -> str:
    text = " ".join(what.split())
    if text.lower().startswith("to "):  # "remember to call Mum" is a plan of the user's
        text = "I need " + text
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!")) else ".")


_WORD = re.compile(r"[a-z0-9]{3,}")
_COMMON = frozenset("the and that this was were have has had about for with from my your".split())


def _shares_a_word(asked: str, text: str) -> bool:
    """A forget must name something the memory says: a vector neighbour alone is not
    enough to delete anything."""
    words = set(_WORD.findall(asked.lower())) - _COMMON
    return bool(words & set(_WORD.findall(text.lower())))

