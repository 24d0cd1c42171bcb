"""Claude.ai's data export: `conversations.json` (docs/formats.md, "Claude export").

The file is a JSON array of conversations, each with its messages in order:

    [{"uuid", "name", "created_at",
      "chat_messages": [{"uuid", "sender": "human" | "assistant", "text",
                         "content": [{"type": "text", "text"}, ...], "created_at"}]}]

A message's `content` blocks are what the app shows; `text` is an older flat copy
that renders tool use as placeholders, so it is read only when there are no blocks.
Kept: the text blocks of human turns (speaker `user`, as in Reverie's own chat; the
app shows "You") and assistant turns (speaker "Claude"). Passed over: tool use and
results, thinking, attachments and files.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from reverie.core.capture.formats import Format
from reverie.core.capture.formats._chat_common import (
    Turns,
    gather,
    iso_utc,
    json_list_with_keys,
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
from reverie.core.chat.session import USER_SPEAKER

NAME = "claude"
UNTITLED = "Untitled Claude conversation"
# Older exports call the user "human", some newer ones "user".
SPEAKERS = {"human": USER_SPEAKER, "user": USER_SPEAKER, "assistant": "Claude"}
_WHAT = "a Claude export (a list of conversations with chat_messages)"

# The lookbehind skips the same word inside a JSON string, where quotes are escaped.
_MESSAGES_KEY = re.compile(r'(?<!\\)"chat_messages"\s*:\s*\[')
_UUID_KEY = re.compile(r'(?<!\\)"uuid"\s*:')


def sniff(path: Path, head: bytes) -> bool:
    """A `.json` list of objects with the `uuid` and `chat_messages` keys."""
    return json_list_with_keys(path, head, _MESSAGES_KEY, _UUID_KEY)


def parse(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source per conversation that has at least one kept turn, in file order."""
    data = load_json(raw, context, _WHAT)
    if not isinstance(data, list):
        raise UnreadableFile(
            context.path, "not a Claude export: the file is not a list of conversations"
        )
    return gather(
        NAME, (_conversation(item, number, context) for number, item in enumerate(data, 1))
    )


def _conversation(conversation: object, number: int, context: ParseContext) -> Turns:
    def refuse(problem: str) -> UnreadableFile:
        reason = f"not a Claude export: conversation {number} {problem}"
        return UnreadableFile(context.path, reason)

    if not isinstance(conversation, dict):
        raise refuse("is not a JSON object")
    ident = text_or_none(conversation.get("uuid"))
    if ident is None:
        raise refuse("has no uuid")
    messages = conversation.get("chat_messages")
    if not isinstance(messages, list):
        raise refuse("has no chat_messages list")
    title = text_or_none(conversation.get("name")) or UNTITLED
    started = iso_utc(conversation.get("created_at")) or context.modified
    turns = Turns(f"claude:{ident}", title)
    for message in messages:
        _add_message(turns, message, started)
    return turns


def _add_message(turns: Turns, message: object, started: datetime) -> None:
    if not isinstance(message, dict):
        turns.skip("malformed messages")
        return
    sender = message.get("sender")
    speaker = SPEAKERS.get(sender) if isinstance(sender, str) else None
    locator = text_or_none(message.get("uuid"))
    for listed in ("attachments", "files"):
        extra = message.get(listed)
        if isinstance(extra, list) and extra:
            turns.skip("attachments and files", len(extra))
    if speaker is None:
        turns.skip("messages from neither side")
    elif locator is None:
        turns.skip("messages without uuid")
    else:
        time = iso_utc(message.get("created_at")) or started
        turns.add(locator, _message_text(message, turns), speaker, time)


def _message_text(message: dict[str, object], turns: Turns) -> str:
    """The message's text blocks joined; its flat `text` only when it has no blocks."""
    blocks = message.get("content")
    if not isinstance(blocks, list) or not blocks:
        flat = message.get("text")
        return flat if isinstance(flat, str) else ""
    texts: list[str] = []
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "text":
            text = block.get("text")
            texts.append(text.strip() if isinstance(text, str) else "")
        else:
            turns.skip("non-text blocks (tool use, thinking)")
    return "\n\n".join(text for text in texts if text)


FORMAT = Format(
    name=NAME,
    kind=SourceKind.CHAT,
    trust=Trust.USER_IMPORT,
    suffixes=(".json",),
    parse=parse,
    sniff=sniff,
)
