"""Rule-based clean-up of extracted statements: third person, one line, sane shape."""

from __future__ import annotations

import re

# First-person forms and their third-person replacements; {s} is the speaker's name.
# Longest forms first, so "I'm" is not read as "I" + "'m".
_FIRST_PERSON = (
    (r"\bI'm\b|\bI am\b", "{s} is"),
    (r"\bI've\b|\bI have\b", "{s} has"),
    (r"\bI'd\b", "{s} would"),
    (r"\bI'll\b|\bI will\b", "{s} will"),
    (r"\bI was\b", "{s} was"),
    (r"\bI\b", "{s}"),
    (r"\bmyself\b", "{s}"),
    (r"\b[Mm]y\b", "{s}'s"),
    (r"\b[Mm]ine\b", "{s}'s"),
    (r"\bme\b", "{s}"),
)


def third_person(text: str, speaker: str) -> str:
    """Rewrite the speaker's first person ("I'm", "my") as their name."""
    out = text
    for pattern, replacement in _FIRST_PERSON:
        out = re.sub(pattern, replacement.format(s=speaker), out)
    return out


def tidy(text: str) -> str:
    """One line, single spaces, no wrapping quotes, ending with a full stop."""
    out = " ".join(text.split()).strip(" \"'")
    if out and out[-1] not in ".!?":
        out += "."
    return out


def names_another_subject(text: str, speaker: str, names: frozenset[str]) -> bool:
    """True when the statement starts with a participant other than the speaker.

    From one message, a small model often turns "Cool, Gina! I love jazz" into "Gina
    loves jazz": the addressee is not the subject. v0 keeps only statements about the
    message's author.
    """
    first = re.split(r"[\s,'’:]+", text.strip(), maxsplit=1)[0]
    return any(first.lower() == name.lower() != speaker.lower() for name in names)


_SECOND_PERSON = re.compile(r"\b(you|your|yours|you're|you've|you'll|we|we'll|let's|us)\b", re.I)


def is_about_author(text: str, speaker: str) -> bool:
    """True when the statement names its author and is not addressed to someone.

    After `third_person`, a fact about the author names them; "Sounds great!" or
    "Your store looks great" are reactions to the other person, not memories.
    """
    names_author = re.search(rf"\b{re.escape(speaker)}\b", text, re.I) is not None
    return names_author and _SECOND_PERSON.search(text) is None
