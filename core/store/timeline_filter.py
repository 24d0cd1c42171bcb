"""The timeline, filtered: which days hold matching items, and a day's matching items.

A filter keeps memories of some kinds (and the turns, or not), about one person, from
one source, pinned, waiting for review, or holding some words (as the user types: every
word, the last one as a prefix); and "as of" a moment it shows what Reverie believed
then (bi-temporal: recorded by then, and not yet retired).

The unfiltered timeline reads `day_counts` (queries.timeline_days); a filter has to look
at the rows themselves, so `filtered_days` returns every matching day at once (a few
thousand small rows at most) and is meant to run off the main thread; a day's items are
then read by the day's index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reverie.core.errors import BadInput
from reverie.core.store.ledger import Ledger
from reverie.core.store.queries import (
    EPISODE_ROW_EXTRAS,
    MEMORY_ROW_EXTRAS,
    VISIBLE,
    timeline_item,
    with_summaries,
)
from reverie.core.timeutil import to_ts
from reverie.core.types import DayCount, MemoryKind, TimelineItem

EPISODES = "episode"  # in `kinds`: the turns and passages themselves
ALL_KINDS = frozenset({EPISODES, *(kind.value for kind in MemoryKind)})
CURRENT = ("active",)  # `statuses`: what Reverie believes now
WITH_ARCHIVED = (*VISIBLE, "archived")  # and what was archived (rejected, faded)
SHOWABLE = frozenset(WITH_ARCHIVED)  # forgotten memories are gone: never shown
YOURS, OTHERS = "yours", "others"  # `trust`: written by the user, or by someone else
_TRUST_LEVELS = {YOURS: ("user", "user-import", "user-file"), OTHERS: ("external",)}
MAX_WORDS = 12
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class TimelineFilter:
    """What the timeline shows; the default shows everything, as it always did."""

    kinds: frozenset[str] = ALL_KINDS
    about: str = ""  # a person's name: memories about or naming them, turns they spoke
    source_id: str = ""
    pinned_only: bool = False
    review_only: bool = False
    text: str = ""
    as_of: datetime | None = None
    statuses: tuple[str, ...] = VISIBLE  # ignored "as of" a moment: see below
    trust: str = ""  # "" any, YOURS or OTHERS: who wrote what it came from

    def __post_init__(self) -> None:
        unknown = self.kinds - ALL_KINDS
        if unknown:
            raise BadInput(f"the timeline has no kind {sorted(unknown)[0]!r}")
        if not self.statuses or not set(self.statuses) <= SHOWABLE:
            raise BadInput(f"the timeline shows memories {', '.join(sorted(SHOWABLE))};"
                           f" not {', '.join(self.statuses) or 'none of them'}")
        if self.trust and self.trust not in _TRUST_LEVELS:
            raise BadInput(f"trust is {YOURS!r} or {OTHERS!r}, not {self.trust!r}")

    @property
    def is_default(self) -> bool:
        """True when nothing is filtered out."""
        return self == TimelineFilter()

    @property
    def wants_episodes(self) -> bool:
        """Whether turns can match at all (only memories are pinned, reviewed, or
        "about" someone beyond their speaker)."""
        return EPISODES in self.kinds and not (self.pinned_only or self.review_only)

    @property
    def memory_kinds(self) -> tuple[str, ...]:
        """The memory kinds kept."""
        return tuple(sorted(self.kinds - {EPISODES}))


def match_expression(text: str) -> str | None:
    """An FTS5 expression requiring every word, the last as a prefix (as-you-type);
    each word quoted so no input is read as FTS5 syntax. None when there is no word."""
    words = [w.lower() for w in _WORD.findall(text)][:MAX_WORDS]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return "text : (" + " AND ".join(quoted) + ")"


def filtered_days(ledger: Ledger, flt: TimelineFilter) -> list[DayCount]:
    """Every day holding an item that `flt` keeps, newest first, with how many."""
    parts, params = _selects(flt, "day")
    if not parts:
        return []
    rows = ledger.query(
        f"SELECT day, COUNT(*) AS n FROM ({' UNION ALL '.join(parts)})"
        " GROUP BY day ORDER BY day DESC", params)
    return with_summaries(ledger, [DayCount(row["day"], int(row["n"])) for row in rows])


def filtered_items(ledger: Ledger, flt: TimelineFilter, day: str, offset: int = 0,
                   limit: int = -1) -> list[TimelineItem]:
    """The items of `day` that `flt` keeps, newest first (memories before turns): all
    of them, or `limit` (-1: no limit) from `offset`."""
    memory_cols = ("id, 'memory' AS kind, text, valid_from AS time, valid_from_ts AS ts,"
                   f" kind AS label, 1 AS rank, seq, status, pinned, {MEMORY_ROW_EXTRAS}")
    episode_cols = ("id, 'episode' AS kind, text, time, ts, speaker AS label, 0 AS rank, seq,"
                    f" NULL AS status, 0 AS pinned, {EPISODE_ROW_EXTRAS}")
    parts, params = _selects(flt, memory_cols, episode_cols, day=day)
    if not parts:
        return []
    rows = ledger.query(
        f"{' UNION ALL '.join(parts)} ORDER BY ts DESC, rank DESC, seq DESC"
        " LIMIT ? OFFSET ?", [*params, limit, offset])
    return [timeline_item(row) for row in rows]


def _selects(flt: TimelineFilter, memory_cols: str, episode_cols: str | None = None, *,
             day: str | None = None) -> tuple[list[str], list[Any]]:
    """The SELECTs over memories and episodes that `flt` keeps, and their parameters."""
    match = match_expression(flt.text) if flt.text.strip() else None
    if flt.text.strip() and match is None:
        return [], []  # only punctuation typed: nothing can match
    parts: list[str] = []
    params: list[Any] = []
    kinds = flt.memory_kinds
    if kinds:
        where, args = _memory_conditions(flt, kinds, match, day)
        parts.append(f"SELECT {memory_cols} FROM memories WHERE {' AND '.join(where)}")
        params += args
    if flt.wants_episodes:
        where, args = _episode_conditions(flt, match, day)
        parts.append(f"SELECT {episode_cols or memory_cols} FROM episodes"
                     f" WHERE {' AND '.join(where)}")
        params += args
    return parts, params


def _memory_conditions(flt: TimelineFilter, kinds: tuple[str, ...], match: str | None,
                       day: str | None) -> tuple[list[str], list[Any]]:
    if flt.as_of is None:
        where = [f"status IN ({','.join('?' * len(flt.statuses))})"]
        params: list[Any] = [*flt.statuses]
    else:
        # Believed then: learned by then and not yet given up (superseded or archived
        # later), whatever its status now; what the user forgot is gone for good.
        where = ["recorded_ts <= ?", "status != 'forgotten'", "(retired IS NULL OR retired > ?)"]
        params = [to_ts(flt.as_of), _utc(flt.as_of)]
    if set(kinds) != {k.value for k in MemoryKind}:
        where.append(f"kind IN ({','.join('?' * len(kinds))})")
        params += kinds
    if day is not None:
        where.append("day = ?")
        params.append(day)
    if flt.pinned_only:
        where.append("pinned = 1")
    if flt.review_only:
        where.append("review = 1")
    if flt.about:
        where.append("(about = ? COLLATE NOCASE OR id IN (SELECT me.memory_id FROM"
                     " memory_entities me JOIN entities e ON e.id = me.entity_id"
                     " WHERE e.kind = 'person' AND e.name = ? COLLATE NOCASE))")
        params += [flt.about, flt.about]
    if flt.source_id:
        where.append("id IN (SELECT ms.memory_id FROM memory_sources ms JOIN episodes e"
                     " ON e.id = ms.episode_id WHERE e.source_id = ?)")
        params.append(flt.source_id)
    if flt.trust:
        levels = _TRUST_LEVELS[flt.trust]
        where.append(f"trust IN ({','.join('?' * len(levels))})")
        params += levels
    if match is not None:
        where.append("seq IN (SELECT -rowid FROM fts WHERE fts MATCH ? AND rowid < 0)")
        params.append(match)
    return where, params


def _episode_conditions(flt: TimelineFilter, match: str | None,
                        day: str | None) -> tuple[list[str], list[Any]]:
    where = ["1 = 1"]
    params: list[Any] = []
    if day is not None:
        where.append("day = ?")
        params.append(day)
    if flt.about:
        where.append("speaker = ? COLLATE NOCASE")
        params.append(flt.about)
    if flt.source_id:
        where.append("source_id = ?")
        params.append(flt.source_id)
    if flt.trust:
        levels = _TRUST_LEVELS[flt.trust]
        where.append(f"source_id IN (SELECT id FROM sources WHERE trust IN"
                     f" ({','.join('?' * len(levels))}))")
        params += levels
    if match is not None:
        where.append("seq IN (SELECT rowid FROM fts WHERE fts MATCH ? AND rowid > 0)")
        params.append(match)
    if flt.as_of is not None:
        where.append("recorded <= ?")
        params.append(_utc(flt.as_of))
    return where, params


def _utc(moment: datetime) -> str:
    """`moment` as the ledger writes record times (UTC ISO), so strings compare."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def people(ledger: Ledger, limit: int = 500) -> list[str]:
    """The people memories name, most mentioned first (for the person filter)."""
    rows = ledger.query(
        "SELECT e.name, COUNT(*) AS n FROM entities e JOIN memory_entities me"
        " ON me.entity_id = e.id WHERE e.kind = 'person' GROUP BY e.id"
        " ORDER BY n DESC, e.name LIMIT ?", (limit,))
    return [str(row["name"]) for row in rows]


def sources(ledger: Ledger) -> list[tuple[str, str]]:
    """Every source as (id, name), by name (for the source filter)."""
    rows = ledger.query("SELECT id, name FROM sources ORDER BY name COLLATE NOCASE")
    return [(str(row["id"]), str(row["name"])) for row in rows]


def day_on_or_before(ledger: Ledger, day: str) -> str | None:
    """The newest day holding anything on or before `day` (else the oldest after it)."""
    rows = ledger.query(
        "SELECT day FROM day_counts WHERE episodes + memories > 0 AND day <= ?"
        " ORDER BY day DESC LIMIT 1", (day,))
    if not rows:
        rows = ledger.query(
            "SELECT day FROM day_counts WHERE episodes + memories > 0 ORDER BY day LIMIT 1")
    return str(rows[0]["day"]) if rows else None
