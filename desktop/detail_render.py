"""A memory's detail as rich text: its fields, the source turns with the supporting
span highlighted, the chain of memories it replaced or was replaced by, and its history
with an Undo link on every change that can still be undone.

Links use private schemes the detail view handles itself: `memory:<id>` opens another
memory, `undo:<seq>` undoes one change, `source:<n>` opens the n-th source's file.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime

from reverie.core.store.memory_detail import ChainLink, MemoryDetail, Provenance
from reverie.core.types import Actor, HistoryEntry
from reverie.desktop.labels import short_date, speaker_name, trust_text
from reverie.desktop.theme import tone

ACTORS = {Actor.USER: "you", Actor.EXTRACTOR: "Reverie, from what it read",
          Actor.CONSOLIDATOR: "Reverie, consolidating", Actor.IMPORT: "an import"}
STATUS_WORDS = {"active": "", "superseded": "no longer true", "archived": "archived",
                "forgotten": "forgotten"}
_EXCERPT_CHARS = 900
# How a chain link's relation reads in the detail ("merged in" is core's word for a
# memory merged into this one).
RELATION_WORDS = {"merged in": "Merged from"}


def when_text(moment: datetime) -> str:
    """"Sun 8 Mar 2026, 21:40"."""
    return f"{short_date(moment)}, {moment:%H:%M}"


def local_text(moment: datetime) -> str:
    """A time the machine recorded (in UTC), as this computer's wall clock shows it."""
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return f"{short_date(moment)}, {moment:%H:%M}"


def badges(detail: MemoryDetail) -> list[str]:
    """The short flags shown beside the kind: pinned, edited by you, to review…"""
    found = [STATUS_WORDS.get(detail.status, detail.status)]
    found += ["pinned" if detail.pinned else "", "edited by you" if detail.user_edited else "",
              "waiting for review" if detail.in_review else ""]
    return [word for word in found if word]


def detail_html(detail: MemoryDetail, history: Sequence[HistoryEntry]) -> str:
    """The whole detail of one memory."""
    head = html.escape(detail.kind.capitalize())
    flags = " · ".join(badges(detail))
    parts = [
        f"<p style='{_muted()}'>{head}{' · ' + html.escape(flags) if flags else ''}</p>",
        f"<p style='font-size: large'>{html.escape(detail.text)}</p>",
        _facts_table(detail),
    ]
    if detail.sources:
        parts.append("<h4>Where it came from</h4>")
        parts.extend(provenance_html(n, p) for n, p in enumerate(detail.sources))
    elif detail.kind != "summary":
        parts.append(f"<p style='{_muted()}'>You wrote this yourself; it cites no source.</p>")
    if detail.chain:
        parts.append("<h4>What it replaced or took in, and what replaced it</h4>")
        parts.append("".join(_chain_line(link) for link in detail.chain))
    parts.append("<h4>History</h4>")
    parts.append(history_html(history))
    return "".join(parts)


def _facts_table(detail: MemoryDetail) -> str:
    rows = [("Happened", when_text(detail.valid_from))]
    if detail.valid_to is not None:
        rows.append(("True until", when_text(detail.valid_to)))
    rows.append(("Learned", local_text(detail.recorded)))
    if detail.retired is not None:
        rows.append(("Believed until", local_text(detail.retired)))
    rows.append(("About", "You" if detail.about == "me" else speaker_name(detail.about)))
    if detail.people:
        rows.append(("People", ", ".join(detail.people)))
    rows.append(("Confidence", f"{detail.confidence:.0%}"))
    rows.append(("Trust", trust_text(detail.trust).capitalize()))
    if detail.time_note:
        rows.append(("Time worked out from", detail.time_note))
    cells = "".join(
        f"<tr><td style='{_muted()}; padding-right: 12px'>{html.escape(name)}</td>"
        f"<td>{html.escape(value)}</td></tr>" for name, value in rows)
    return f"<table cellspacing='0' cellpadding='1'>{cells}</table>"


def provenance_html(number: int, source: Provenance) -> str:
    """One source turn, quoted, with the span that supports the memory highlighted."""
    excerpt = source.excerpt
    where = f"{excerpt.source} #{excerpt.ref} · {when_text(excerpt.time)}"
    opener = (f" · <a href='source:{number}'>Open source</a>" if source.path is not None
              else "")
    return (f"<p style='{_muted()}'>From {html.escape(where)}{opener}</p>"
            f"<blockquote><b>{html.escape(speaker_name(excerpt.speaker))}:</b> "
            f"{highlighted(excerpt.text, source.span)}</blockquote>")


def highlighted(text: str, span: tuple[int, int] | None) -> str:
    """`text` as rich text with `span` marked; very long turns are cut around it."""
    start, end = span if span is not None else (0, 0)
    cut_from = 0
    if len(text) > _EXCERPT_CHARS:
        cut_from = max(0, min(start - 200, len(text) - _EXCERPT_CHARS))
        text = text[cut_from:cut_from + _EXCERPT_CHARS]
        start, end = start - cut_from, end - cut_from
    before = html.escape(text[:max(start, 0)])
    marked = html.escape(text[max(start, 0):max(end, 0)])
    after = html.escape(text[max(end, 0):])
    body = (before + (f"<span style='{_highlight()}'>{marked}</span>" if marked else "") + after)
    return ("…" if cut_from else "") + body.replace("\n", "<br>")


def _chain_line(link: ChainLink) -> str:
    span = short_date(link.valid_from) + (
        f" – {short_date(link.valid_to)}" if link.valid_to is not None else "")
    relation = RELATION_WORDS.get(link.relation, link.relation.capitalize())
    return (f"<p>{html.escape(relation)}: "
            f"<a href='memory:{html.escape(link.id)}'>{html.escape(link.text)}</a>"
            f" <span style='{_muted()}'>({html.escape(span)}, {html.escape(link.status)})"
            "</span></p>")


def history_html(history: Sequence[HistoryEntry]) -> str:
    """Newest change first, each with who made it, what it changed and an Undo link."""
    if not history:
        return f"<p style='{_muted()}'>No recorded changes.</p>"
    lines = []
    for entry in history:
        who = ACTORS.get(entry.actor, entry.actor.value)
        what = "; ".join(part for part in (
            change_text(entry.action, entry.before, entry.after),
            people_text(entry.people_added, entry.people_removed)) if part)
        undo = (f" <span style='{_muted()}'>(undone)</span>" if entry.undone_by
                else f" · <a href='undo:{entry.seq}'>Undo</a>" if entry.action != "created"
                else "")
        lines.append(f"<p><span style='{_muted()}'>{html.escape(local_text(entry.at))}</span>"
                     f" {html.escape(entry.action.capitalize())} by {html.escape(who)}"
                     f"{': ' + what if what else ''}{undo}</p>")
    return "".join(lines)


def change_text(action: str, before: Mapping[str, object] | None,
                after: Mapping[str, object] | None) -> str:
    """What a change did to the fields a person cares about, as rich text."""
    if before is None or after is None:
        return ""
    changed = []
    survivor = after.get("superseded_by")
    if action == "merged" and survivor and survivor != before.get("superseded_by"):
        changed.append(f"into <a href='memory:{html.escape(str(survivor))}'>the memory"
                       " that now holds it</a>")
    for field, label in (("text", "text"), ("kind", "kind"), ("about", "about"),
                         ("valid_from", "time")):
        old, new = before.get(field), after.get(field)
        if old != new and new is not None:
            changed.append(f"{label} “{html.escape(_short(old))}” → “{html.escape(_short(new))}”")
    return "; ".join(changed)


def people_text(added: Sequence[str], removed: Sequence[str]) -> str:
    """Who a change linked to the memory and who it unlinked, as rich text."""
    parts = []
    if added:
        parts.append("now names " + html.escape(_names(added)))
    if removed:
        parts.append("no longer names " + html.escape(_names(removed)))
    return "; ".join(parts)


def _names(names: Sequence[str]) -> str:
    quoted = [f"“{name}”" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _short(value: object) -> str:
    text = str(value)
    if len(text) >= 19 and text[10:11] == "T":  # an ISO time: show it as people read it
        try:
            return when_text(datetime.fromisoformat(text))
        except ValueError:
            pass
    return text if len(text) <= 80 else text[:79] + "…"


def _muted() -> str:
    return f"color: {tone('muted')}"


def _highlight() -> str:
    """The marked span: a soft yellow (light) or deep amber (dark) behind the text."""
    return f"background-color: {tone('highlight')}; color: {tone('highlight-text')}"
