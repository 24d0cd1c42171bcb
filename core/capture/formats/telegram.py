"""Telegram Desktop's JSON export: `result.json` (docs/formats.md, "Telegram export").

Two shapes come out of "Export chat history" and "Export Telegram data":

    {"name", "type", "id", "messages": [...]}                 one chat
    {"about", "personal_information", ..., "chats": {"list": [chat, ...]},
     "left_chats": {"list": [chat, ...]}}                       the whole account

A message is {"id", "type": "message" | "service", "date" (wall clock, no offset),
"date_unixtime" (newer exports), "from", "from_id", "text"}, where `text` is a string
or a list of strings and entities ({"type": "link", "text": ...}). Kept: messages with
text, a photo's caption included. Passed over: service messages (joins, calls, pins)
and media without a caption (stickers, voice notes, files).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from reverie.core.capture.formats import Format
from reverie.core.capture.formats._chat_common import (
    Turns,
    epoch_utc,
    gather,
    head_text,
    iso_naive,
    load_json,
    text_or_none,
)
from reverie.core.capture.parsed import (
    ParseContext,
    ParsedSource,
    SourceKind,
    Trust,
    UnreadableFile,
)

NAME = "telegram"
_WHAT = "a Telegram export (result.json with messages or chats)"
# Keys Telegram writes for a message that carries something besides text.
MEDIA_KEYS = (
    "photo",
    "file",
    "media_type",
    "sticker_emoji",
    "location_information",
    "contact_information",
    "poll",
    "game_title",
    "invoice_information",
)

_STARTS_AS_OBJECT = re.compile(r"\s*\{")
# The lookbehinds skip the same words inside a JSON string, where quotes are escaped.
_CHAT_TYPE = re.compile(
    r'(?<!\\)"type"\s*:\s*"(?:personal_chat|bot_chat|saved_messages|replies|verification_codes'
    r'|private_group|private_supergroup|public_supergroup|private_channel|public_channel)"'
)
_MESSAGES_KEY = re.compile(r'(?<!\\)"messages"\s*:\s*\[')
_ACCOUNT_KEYS = re.compile(
    r'(?<!\\)"personal_information"\s*:\s*\{|(?<!\\)"chats"\s*:\s*\{\s*"(?:about|list)"\s*:'
)


def sniff(path: Path, head: bytes) -> bool:
    """A `.json` object that is a Telegram chat (typed, with messages) or an account."""
    if path.suffix.lower() != ".json":
        return False
    text = head_text(head)
    if _STARTS_AS_OBJECT.match(text) is None:
        return False
    one_chat = _CHAT_TYPE.search(text) is not None and _MESSAGES_KEY.search(text) is not None
    return one_chat or _ACCOUNT_KEYS.search(text) is not None


def parse(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source per chat with at least one kept message, in file order."""
    data = load_json(raw, context, _WHAT)
    if not isinstance(data, dict):
        raise UnreadableFile(context.path, "not a Telegram export: not a JSON object")
    chats = _chat_list(data, context)
    return gather(NAME, (_chat(chat, number, context) for number, chat in enumerate(chats, 1)))


def _chat_list(data: dict[str, object], context: ParseContext) -> list[object]:
    if "messages" in data:
        return [data]  # the export of one chat
    chats: list[object] = []
    for section in ("chats", "left_chats"):
        listing = data.get(section)
        found = listing.get("list") if isinstance(listing, dict) else None
        if isinstance(found, list):
            chats.extend(found)
        elif listing is not None:
            raise UnreadableFile(context.path, f"not a Telegram export: {section} has no list")
    if "chats" not in data:
        raise UnreadableFile(
            context.path, "not a Telegram export: neither a chat's messages nor a chats list"
        )
    return chats


def _chat(chat: object, number: int, context: ParseContext) -> Turns:
    def refuse(problem: str) -> UnreadableFile:
        return UnreadableFile(context.path, f"not a Telegram export: chat {number} {problem}")

    if not isinstance(chat, dict):
        raise refuse("is not a JSON object")
    ident = chat.get("id")
    if isinstance(ident, bool) or not isinstance(ident, int | str) or not str(ident).strip():
        raise refuse("has no id")
    messages = chat.get("messages")
    if not isinstance(messages, list):
        raise refuse("has no messages list")
    turns = Turns(f"telegram:{ident}", _title(chat, ident))
    for message in messages:
        _add_message(turns, message)
    return turns


def _title(chat: dict[str, object], ident: int | str) -> str:
    name = text_or_none(chat.get("name"))
    if name is not None:
        return name
    # Saved Messages and deleted accounts come without a name.
    return "Saved Messages" if chat.get("type") == "saved_messages" else f"Telegram chat {ident}"


def _add_message(turns: Turns, message: object) -> None:
    if not isinstance(message, dict):
        turns.skip("malformed messages")
        return
    ident = message.get("id")
    time = _time(message)
    text = _flatten(message.get("text"))
    if message.get("type") != "message":
        turns.skip("service messages")
    elif isinstance(ident, bool) or not isinstance(ident, int | str):
        turns.skip("messages without id")
    elif time is None:
        turns.skip("messages without date")
    elif not text.strip() and any(key in message for key in MEDIA_KEYS):
        turns.skip("media without text")
    else:
        turns.add(str(ident), text, _speaker(message), time)


def _time(message: dict[str, object]) -> datetime | None:
    """The exact instant when the export has it, else the wall-clock `date`."""
    return epoch_utc(message.get("date_unixtime")) or iso_naive(message.get("date"))


def _speaker(message: dict[str, object]) -> str:
    name = text_or_none(message.get("from"))
    if name is not None:
        return name
    ident = message.get("from_id")  # a deleted account keeps only its id
    if isinstance(ident, int | str) and not isinstance(ident, bool) and str(ident).strip():
        return str(ident).strip()
    return "Unknown"


def _flatten(text: object) -> str:
    """A message's text: a plain string, or strings and entities run together."""
    if isinstance(text, str):
        return text
    if not isinstance(text, list):
        return ""
    runs: list[str] = []
    for run in text:
        if isinstance(run, str):
            runs.append(run)
        elif isinstance(run, dict) and isinstance(run.get("text"), str):
            runs.append(run["text"])
    return "".join(runs)


FORMAT = Format(
    name=NAME,
    kind=SourceKind.CHAT,
    trust=Trust.USER_IMPORT,
    suffixes=(".json",),
    parse=parse,
    sniff=sniff,
)
