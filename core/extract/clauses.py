"""Rule-proposed statements: the message's own first-person clauses, in the third person.

"Lost my job as a banker yesterday, so I'm gonna start my own business" holds two facts
about its author, and says them plainly. A small model often garbles such a message
("I'm trying to start my own business, but I don't know where to begin"), so the
message's clauses about its author are proposed as statements too, beside the model's.
Both go through the same checks; a model that does better wins the de-duplication,
because its statements come first. Proposals are verbatim, so they cannot invent.
"""

from __future__ import annotations

import re

from reverie.core.extract.rewrite import SECOND_PERSON
from reverie.core.types import MemoryKind

MIN_WORDS = 4
MAX_WORDS = 30

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\s*[;\n]\s*")
# Split before a new first-person subject: "... last March and I love the light".
_CLAUSE_BREAK = re.compile(
    r",?\s+(?:and|but|so|because|cause|although|though)\s+(?=(?:i|we|my|our)\b)|,\s+(?=(?:i|we)\b)",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(
    r"^(?:(?:oh|oh no|yeah|yes|yep|well|so|also|actually|honestly|haha|hah|wow|hey|hi|"
    r"btw|anyway|guess what|big news|good news|sad news|fun fact|by the way|you know|"
    r"quick one|quick question|quick update|update|news|fyi|ok|okay|like i said|as i said|"
    r"like i mentioned|as i mentioned|i mean|"
    r"to be honest|lol|omg|aww|ah|um|uh)[\s,:!.-]+)+",
    re.IGNORECASE,
)
# The author in the clause at all: "Dance is my stress fix", "it really speaks to me".
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'll|i'd|me|my|mine|myself|we|we're|we've|"
                           r"we'll|our|us)\b", re.I)
# A message often drops its subject: "Lost my job yesterday", "Just got back from Rome".
_IMPLIED_SUBJECT = re.compile(
    r"^(?:(?:just|finally|also|recently)\s+)?(?:lost|got|went|made|took|had|found|bought|"
    r"saw|met|started|began|finished|moved|quit|joined|visited|adopted|signed|booked|tried|"
    r"learned|learnt|won|ran|left|sold|picked|passed|graduated|married|hired|launched|"
    r"opened|built|need|want|hope|plan|love|hate|enjoy|prefer)\b",
    re.IGNORECASE,
)
# ... or its "I'm": "Still working on the studio", "Gonna keep pushing".
_IMPLIED_I_AM = re.compile(r"^(?:(?:still|just|really|currently|also)\s+)?(?:gonna\b|\w+ing\b)",
                           re.IGNORECASE)
# "It was so special to me", "That's what keeps me going": what "it" is lives in
# another turn, so the clause means nothing on its own.
_CONTEXT_BOUND = re.compile(r"^(?:it|it's|its|that|that's|this|this's|there|there's|here|"
                            r"here's|glad|happy|sorry|so|such|they|they're|he|he's|she|"
                            r"she's|these|those)\b", re.I)
_VOCATIVE = re.compile(r"^[A-Z][a-z]+,\s+")  # "Gina, thanks for ..."
# A sentence that opens with a gerund and has a verb of its own is about the activity
# ("Building relationships is key", "Biking sounds fun"), not an "I'm" left out.
_HAS_VERB_BE = re.compile(
    r"\b(?:is|was|are|were|\w+'s|sounds|seems|looks|feels|helps|makes|gives|keeps|brings|"
    r"means|can|could|will|would|should|might|must)\b", re.I)
_ING_NOUNS = frozenset({
    "something", "nothing", "anything", "everything", "thing", "morning", "evening",
    "spring", "during", "king", "ring", "wedding", "building", "meeting", "feeling",
    "ceiling", "painting", "clothing", "string", "swing", "wing", "sibling", "pudding",
})
# Thanks, greetings and wishes are about the conversation, not a life.
_COURTESY = re.compile(r"^(?:thanks|thank|thx|hey|hi|hello|sorry|congrats|congratulations|"
                       r"good luck|cheers|bye|see ya|take care|no worries|aw+|wow)\b", re.I)
# Opinions of the conversation itself, not facts of a life.
_SMALL_TALK = re.compile(
    r"^(?:i|we)\s+(?:'m\s+|am\s+|are\s+)?(?:so\s+|really\s+|totally\s+)?(?:think|know|agree|"
    r"guess|hope|bet|see|understand|mean|feel|wish|glad|happy|sorry|sure|excited|proud|"
    r"appreciate|can't wait|cant wait|love that|love this|love it|like that|like it)\b",
    re.IGNORECASE,
)
_WE = (
    (r"\bwe're\b", "I'm"), (r"\bwe've\b", "I've"), (r"\bwe'll\b", "I'll"),
    (r"\bwe'd\b", "I'd"), (r"\bwe are\b", "I am"), (r"\bwe were\b", "I was"),
    (r"\bwe\b", "I"), (r"\bourselves\b", "myself"), (r"\bours\b", "mine"),
    (r"\bour\b", "my"), (r"\bus\b", "me"),
)
_PLAN = re.compile(r"\b(will|'ll|going to|gonna|planning|plan to|plans to|hoping to|hope to|"
                   r"want to|next (?:week|month|year|weekend)|tomorrow|soon)\b", re.I)
_PREFERENCE = re.compile(r"\b(love|loves|like|likes|enjoy|enjoys|hate|hates|prefer|prefers|"
                         r"favou?rite|can't stand|into)\b", re.I)
_EVENT = re.compile(r"\b(\w+ed|lost|got|went|made|took|had|found|bought|saw|met|began|quit|"
                    r"won|ran|left|sold|yesterday|ago|last (?:week|month|year|night|weekend))\b",
                    re.I)


def first_person_clauses(text: str) -> list[str]:
    """The clauses of `text` in which its author says something about themselves."""
    found: list[str] = []
    for sentence in _SENTENCES.split(text.strip()):
        if not sentence or sentence.rstrip("\"')").endswith("?"):
            continue
        for clause in _CLAUSE_BREAK.split(sentence):
            cleaned = _clean(clause)
            if cleaned is not None:
                found.append(cleaned)
    return found


def _clean(clause: str) -> str | None:
    text = _LEAD_IN.sub("", clause.strip()).strip(" ,.!-\"'")
    text = _VOCATIVE.sub("", text)
    if _COURTESY.match(text):
        return None
    if _IMPLIED_SUBJECT.match(text):
        text = "I " + text[0].lower() + text[1:]
    elif _IMPLIED_I_AM.match(text) and not _HAS_VERB_BE.search(text) and \
            text.split()[0].lower() not in _ING_NOUNS:
        text = "I'm " + text[0].lower() + text[1:]
    words = text.split()
    if not _FIRST_PERSON.search(text) or len(words) < MIN_WORDS:
        return None
    if SECOND_PERSON.search(text) or _SMALL_TALK.match(text) or _CONTEXT_BOUND.match(text):
        return None
    return " ".join(words[:MAX_WORDS])


def as_singular(clause: str) -> str:
    """"we"/"our" as "I"/"my": the household's move is the speaker's move too, and the
    third-person rewrite then gives it the speaker's name with a verb that agrees."""
    out = clause
    for pattern, replacement in _WE:
        out = re.sub(pattern, replacement, out, flags=re.I)
    return out


def guess_kind(clause: str) -> MemoryKind:
    """The kind of memory a clause most likely states."""
    if _PLAN.search(clause):
        return MemoryKind.PLAN
    if _PREFERENCE.search(clause):
        return MemoryKind.PREFERENCE
    if _EVENT.search(clause):
        return MemoryKind.EVENT
    return MemoryKind.FACT


def proposals(text: str) -> list[tuple[MemoryKind, str]]:
    """Rule-proposed (kind, statement) pairs for a message, in the first person singular
    (the caller's checks put them in the third person, or keep the owner's voice)."""
    return [(guess_kind(c), as_singular(c)) for c in first_person_clauses(text)]
