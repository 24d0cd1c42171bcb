"""How dates and speakers read in the app, shared by the timeline and the chat."""

from __future__ import annotations

from datetime import date, datetime

from reverie.core.chat.session import USER_SPEAKER


def speaker_name(speaker: str) -> str:
    """How a speaker is shown: the user's own chat turns read as "You"."""
    return "You" if speaker == USER_SPEAKER else speaker


_TRUST = {
    "user": "yours, typed in Reverie's chat",
    "user-import": "yours, from a conversation you imported",
    "user-file": "yours, from a file in a folder you watch",
    "external": "written by someone else",
}


def trust_text(trust: str) -> str:
    """Who wrote what a memory came from, in words (core's `Trust` values)."""
    return _TRUST.get(trust, trust)


def short_date(when: date | datetime) -> str:
    """"Sun 8 Mar 2026": weekday, day without a leading zero, month, year."""
    return f"{when:%a} {when.day} {when:%b %Y}"


def plural(count: int, one: str, many: str | None = None) -> str:
    """"1 turn", "2 turns"; `many` for an irregular plural ("memories")."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
