"""Slots: facts a person holds one value of at a time, so a newer value replaces an older.

Where someone lives, whom they work for, whom they are with: "moved to Lisbon" and,
later, "moved back to Porto" cannot both be current. A contradiction found this way is
certain enough to apply by rule (and undoable); the bundled model is far too small to
judge contradictions in general, so nothing else is superseded without the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACE = r"([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"
_NAME = r"([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("home", re.compile(
        r"\b(?:moved|moving|moves|relocated|relocating)\s+(?:back\s+)?(?:to|into)\s+"
        r"(?:the\s+)?" + _PLACE)),
    ("home", re.compile(r"\b(?:lives|living|live|settled|resides)\s+(?:now\s+)?in\s+" + _PLACE)),
    ("employer", re.compile(
        r"\b(?:works|working|worked|started|job|employed|hired)\s+(?:\w+\s+){0,3}?"
        r"(?:at|for|by)\s+" + _NAME)),
    ("partner", re.compile(
        r"\b(?:married|engaged|dating|seeing|girlfriend|boyfriend|partner)\s+(?:to\s+|is\s+)?"
        + _NAME)),
)
# Past or negated forms say the value ended, not that a new one began.
_ENDED = re.compile(r"\b(used to|no longer|not|never|left|quit|lost|former|ex)\b", re.I)


@dataclass(frozen=True)
class SlotValue:
    """The value a statement gives a person's slot."""

    slot: str
    value: str

    @property
    def key(self) -> str:
        """The value folded for comparison."""
        return " ".join(self.value.lower().split())


def slot_value(text: str) -> SlotValue | None:
    """The slot `text` sets, if it plainly sets one."""
    if _ENDED.search(text):
        return None
    for slot, pattern in _RULES:
        match = pattern.search(text)
        if match:
            return SlotValue(slot, match.group(1))
    return None
