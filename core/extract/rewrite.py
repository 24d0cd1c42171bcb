"""Rule-based clean-up of extracted statements: third person, one line, sane shape."""

from __future__ import annotations

import re

# First-person forms: (pattern, with the name, after the name was used). The name
# once, then pronouns: "Jon lost Jon's job and Jon's savings" is both ugly and, for
# BM25, a statement that matches every question naming Jon.
_FIRST_PERSON = (
    (r"I'm|I am", "{s} is", "they are"),
    (r"I've|I have", "{s} has", "they have"),
    (r"I'd", "{s} would", "they would"),
    (r"I'll|I will", "{s} will", "they will"),
    (r"I was", "{s} was", "they were"),
    (r"I", "{s}", "they"),
    (r"myself", "{s}", "themselves"),
    (r"[Mm]y", "{s}'s", "their"),
    (r"[Mm]ine", "{s}'s", "theirs"),
    (r"me", "{s}", "them"),
)
_FIRST_PERSON_RE = re.compile(
    "|".join(rf"(?P<f{i}>\b(?:{pattern})\b)" for i, (pattern, _, _) in enumerate(_FIRST_PERSON))
)


def third_person(text: str, speaker: str) -> str:
    """Rewrite the speaker's first person as their name once, then as pronouns."""
    named = re.search(rf"\b{re.escape(speaker)}\b", text) is not None

    def replace(match: re.Match[str]) -> str:
        nonlocal named
        index = int(next(k for k, v in match.groupdict().items() if v is not None)[1:])
        _, with_name, pronoun = _FIRST_PERSON[index]
        if named:
            return pronoun
        named = True
        return with_name.format(s=speaker)

    return _FIRST_PERSON_RE.sub(replace, text)


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
