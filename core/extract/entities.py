"""People and places a memory mentions, found by rule and linked as entities.

No tagger model ships with Reverie, and the bundled LLM is too small to name entities
reliably, so the rules are deliberately narrow: a capitalised name counts only when
its source text also has it, and only with evidence of what it is. A conversation's
speakers are people; a name after a word of place ("in", "to", "moved to") is a place;
a name after a word of relation ("my sister", "with", "met") is a person. Anything
else capitalised (a studio's name, a film) is left alone: a missing link costs less
than a wrong person page.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"\b[A-Z][a-zà-ÿ'’-]+(?:\s+(?:de|da|van|von|del|la)?\s*[A-Z][a-zà-ÿ'’-]+)*")
_PLACE_CUE = re.compile(
    r"\b(?:in|to|from|at|near|around|visit(?:ed|ing)?|moved|live[sd]?|living|"
    r"trip to|back to|flew to|flying to|travel(?:l?ed|l?ing)? to)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_PERSON_CUE = re.compile(
    r"\b(?:with|met|meet|meeting|named|called|sister|brother|mom|mum|mother|dad|father|"
    r"wife|husband|partner|boyfriend|girlfriend|friend|son|daughter|cousin|aunt|uncle|"
    r"grandma|grandpa|boss|colleague|coworker|neighbou?r|and)\s+$",
    re.IGNORECASE,
)
# Capitalised words that are never a person or a place.
_NOT_NAMES = frozenset({
    "i", "i'm", "i've", "i'd", "i'll", "the", "a", "an", "my", "our", "their", "his", "her",
    "they", "he", "she", "it", "we", "you", "this", "that", "these", "those",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "christmas", "easter",
    "today", "yesterday", "tomorrow", "user", "assistant", "mr", "mrs", "ms", "dr",
})


class EntityKind:
    """The kinds of entity memories link to."""

    PERSON = "person"
    PLACE = "place"


@dataclass(frozen=True)
class Entity:
    """A person or a place, by name."""

    kind: str
    name: str

    @property
    def key(self) -> str:
        """The name folded for matching: case and spacing do not make another entity."""
        return " ".join(self.name.lower().split())

    @property
    def id(self) -> str:
        """A stable id: the same person found twice is one entity."""
        digest = hashlib.sha1(f"{self.kind}\0{self.key}".encode()).hexdigest()
        return "ent_" + digest[:16]


def find_entities(
    statement: str, source: str, about: str, participants: frozenset[str], owner: str
) -> list[Entity]:
    """The people and places `statement` mentions that `source` also names.

    `about` is whom the memory is about; `participants` are the conversation's speakers;
    `owner` is how the user is named (the user is not a page of their own).
    """
    found: dict[str, Entity] = {}
    known = {name.lower() for name in participants}

    def add(entity: Entity) -> None:
        if entity.key != owner.lower() and entity.key not in _NOT_NAMES:
            found.setdefault(f"{entity.kind}:{entity.key}", entity)

    add(Entity(EntityKind.PERSON, about))
    for match in _NAME.finditer(statement):
        name = match.group(0).strip()
        if name.lower() in _NOT_NAMES or name not in source:
            continue
        before = statement[: match.start()]
        if name.lower() in known:
            add(Entity(EntityKind.PERSON, name))
        elif _PLACE_CUE.search(before):
            add(Entity(EntityKind.PLACE, name))
        elif _PERSON_CUE.search(before):
            add(Entity(EntityKind.PERSON, name))
    return list(found.values())


def link_entities(conn: Any, memory_id: str, entities: list[Entity]) -> None:
    """Create the entities unless they exist and link the memory to them (in `conn`'s
    transaction)."""
    for entity in entities:
        conn.execute(
            "INSERT OR IGNORE INTO entities (id, kind, name, key) VALUES (?, ?, ?, ?)",
            (entity.id, entity.kind, entity.name, entity.key),
        )
        conn.execute(
            "INSERT OR IGNORE INTO memory_entities (memory_id, entity_id) VALUES (?, ?)",
            (memory_id, entity.id),
        )
