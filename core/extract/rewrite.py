"""Rule-based clean-up of extracted statements: third person, one line, sane shape."""

from __future__ import annotations

import re

# First-person forms: (pattern, with the name, after the name was used). The name
# once, then pronouns: "Jon lost Jon's job and Jon's savings" is both ugly and, for
# BM25, a statement that matches every question naming Jon.
_FIRST_PERSON = (
    (r"I'm|I am", "{s} is", "they are"),
    (r"I've|I have", "{s} has", "they have"),
    (r"I'd(?=\s+(?:been|had|gone|done|seen|made|got|gotten|never|already|just))",
     "{s} had", "they had"),
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
        pattern, with_name, pronoun = _FIRST_PERSON[index]
        if named:
            return pronoun
        named = True
        # A bare "I" became a name: its verb must agree ("Jon loves", not "Jon love").
        return with_name.format(s=speaker) + (_AGREE if pattern == "I" else "")

    rewritten = _FIRST_PERSON_RE.sub(replace, text)
    return _AGREE_RE.sub(_agreed, rewritten).replace(_AGREE, "")


_AGREE = "\x00"
_AGREE_RE = re.compile(
    _AGREE + r"(\s+(?:(?:just|also|really|still|never|always|usually|often|sometimes|actually|"
    r"finally|recently|totally|even|truly|absolutely|definitely|mostly|only)\s+)*)([a-z]+)\b"
)
# Words after a subject that already agree, or are no present-tense verb at all.
_NO_AGREEMENT = frozenset({
    "am", "was", "were", "will", "would", "can", "could", "should", "might", "must", "may",
    "did", "had", "has", "is", "shall", "and", "or", "but", "too", "lost", "got", "went",
    "made", "took", "found", "bought", "saw", "met", "began", "quit", "won", "ran", "left",
    "sold", "felt", "thought", "knew", "told", "said", "gave", "came", "became", "wrote",
    "read", "put", "set", "cut", "let", "hit", "kept", "built", "sent", "spent", "taught",
    "brought", "caught", "heard", "held", "paid", "slept", "stood", "understood", "wore",
})
_IRREGULAR = {"have": "has", "do": "does", "go": "goes", "be": "is"}


def _agreed(match: re.Match[str]) -> str:
    adverbs, word = match.group(1), match.group(2)
    return adverbs + _third_singular(word)


def _third_singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _NO_AGREEMENT or word.endswith(("ed", "ing", "ly", "s")):
        return word
    if word.endswith(("sh", "ch", "x", "z", "o")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def tidy(text: str) -> str:
    """One line, single spaces, no wrapping quotes, ending with a full stop."""
    out = " ".join(text.split()).strip(" \"'")
    if out and out[-1] not in ".!?":
        out += "."
    return out


# Words addressed to the other person: a statement holding one is a reaction to them,
# not a fact about the author. ("we" and "us" are made "I" and "me" before this runs.)
SECOND_PERSON = re.compile(
    r"\b(you|your|yours|you're|you've|you'll|ya|yourself|y'all|let's)\b", re.I)


def is_about_author(text: str, speaker: str) -> bool:
    """True when the statement names its author and is not addressed to someone.

    After `third_person`, a fact about the author names them; "Sounds great!" or
    "Your store looks great" are reactions to the other person, not memories.
    """
    names_author = re.search(rf"\b{re.escape(speaker)}\b", text, re.I) is not None
    return names_author and SECOND_PERSON.search(text) is None


_OWNER_SUBJECT = re.compile(r"^(?:the\s+)?user\b(?!'s)\s*(\w+)?", re.I)
_BACK_TO_BASE = {"is": "am", "has": "have", "does": "do", "goes": "go", "was": "was"}


def owner_voice(text: str) -> str:
    """A statement about the user as the user would write it: "I moved to Lisbon".

    Reverie's owner reads their own memories; "user moved to Lisbon" reads like a log
    file. The message's first person is kept as it is; a model's "The user loves jazz"
    becomes "I love jazz".
    """
    match = _OWNER_SUBJECT.match(text.strip())
    out = text.strip()
    if match is not None:
        verb = match.group(1) or ""
        rest = out[match.end():]
        out = f"I {_base_form(verb)}{rest}" if verb else f"I{rest}"
    out = re.sub(r"\b(?:the\s+)?user's\b", "my", out, flags=re.I)
    out = re.sub(r"\b(?:the\s+)?user\b", "me", out, flags=re.I)
    return out[:1].upper() + out[1:]


def _base_form(verb: str) -> str:
    lowered = verb.lower()
    if lowered in _BACK_TO_BASE:
        return _BACK_TO_BASE[lowered]
    if lowered.endswith("ies") and len(lowered) > 4:
        return verb[:-3] + "y"
    if lowered.endswith(("shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    if lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        return verb[:-1]
    return verb


_OWNER_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'll|I'd|my|me|mine|myself)\b", re.I)


def is_about_owner(text: str) -> bool:
    """True when a statement in the owner's voice speaks of the owner."""
    return _OWNER_FIRST_PERSON.search(text) is not None and SECOND_PERSON.search(text) is None
