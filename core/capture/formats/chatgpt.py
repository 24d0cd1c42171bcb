"""ChatGPT's data export: `conversations.json` (docs/formats.md, "ChatGPT export").

The file is a JSON array of conversations. Each one stores its messages as a tree,
`mapping` (node id → {message, parent, children}), because regenerating an answer or
editing a question starts a new branch. `current_node` is the last message of the
branch the user last saw; walking `parent` links from it to the root gives that branch,
and that is the conversation Reverie keeps. Other branches are passed over.

Kept: user turns (speaker `user`, as in Reverie's own chat; the app shows "You") and
assistant turns (speaker "ChatGPT") with text.
Passed over: system and tool messages, hidden ones (custom instructions, memory
context), assistant calls to tools, non-text content (code run, browsing, reasoning
summaries) and the non-text parts of a message (images, files).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TypeGuard

from reverie.core.capture.formats import Format
from reverie.core.capture.formats._chat_common import (
    Turns,
    epoch_utc,
    gather,
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

NAME = "chatgpt"
UNTITLED = "Untitled ChatGPT conversation"
SPEAKERS = {"user": USER_SPEAKER, "assistant": "ChatGPT"}
# Content types that hold what was said; "code", "execution_output", "thoughts" and
# the like are the machinery of tools and reasoning, not the conversation.
TEXT_CONTENT = ("text", "multimodal_text")  # a tuple: `in` must not hash a hostile value
_WHAT = "a ChatGPT export (a list of conversations with a mapping)"

# The lookbehind skips the same words inside a JSON string, where quotes are escaped.
_MAPPING_KEY = re.compile(r'(?<!\\)"mapping"\s*:\s*\{')
_CREATE_TIME_KEY = re.compile(r'(?<!\\)"create_time"\s*:')


def sniff(path: Path, head: bytes) -> bool:
    """A `.json` list of objects with the `mapping` and `create_time` keys."""
    return json_list_with_keys(path, head, _MAPPING_KEY, _CREATE_TIME_KEY)


def parse(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source per conversation that has at least one kept turn, in file order."""
    data = load_json(raw, context, _WHAT)
    if not isinstance(data, list):
        raise UnreadableFile(
            context.path, "not a ChatGPT export: the file is not a list of conversations"
        )
    return gather(
        NAME, (_conversation(item, number, context) for number, item in enumerate(data, 1))
    )


def _conversation(conversation: object, number: int, context: ParseContext) -> Turns:
    def refuse(problem: str) -> UnreadableFile:
        reason = f"not a ChatGPT export: conversation {number} {problem}"
        return UnreadableFile(context.path, reason)

    if not isinstance(conversation, dict):
        raise refuse("is not a JSON object")
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        raise refuse("has no mapping")
    ident = text_or_none(conversation.get("conversation_id")) or text_or_none(
        conversation.get("id")
    )
    if ident is None:
        raise refuse("has no id")
    title = text_or_none(conversation.get("title")) or UNTITLED
    started = epoch_utc(conversation.get("create_time")) or context.modified
    turns = Turns(f"chatgpt:{ident}", title)
    for node_id in _visible_branch(mapping, conversation.get("current_node")):
        node = mapping[node_id]
        if isinstance(node, dict):
            _add_message(turns, node_id, node.get("message"), started)
    return turns


def _visible_branch(mapping: Mapping[str, object], current: object) -> list[str]:
    """Node ids from the root to `current_node`, the branch the user saw last."""
    node_id: object = current if _is_node(current, mapping) else None
    if node_id is None:
        node_id = _newest_leaf(mapping)
    branch: list[str] = []
    visited: set[str] = set()
    # A hostile or damaged file may link parents in a loop; each node is visited once.
    while _is_node(node_id, mapping) and node_id not in visited:
        visited.add(node_id)
        branch.append(node_id)
        node = mapping[node_id]
        node_id = node.get("parent") if isinstance(node, dict) else None
    branch.reverse()
    return branch


def _newest_leaf(mapping: Mapping[str, object]) -> str | None:
    """Without a `current_node`, the leaf reached by always taking the last child.

    New branches are appended as later children, so this is the newest branch.
    """
    roots = [
        node_id
        for node_id, node in mapping.items()
        if isinstance(node, dict) and not _is_node(node.get("parent"), mapping)
    ]
    if not roots:
        return None
    node_id = roots[0]
    visited: set[str] = set()
    while node_id not in visited:
        visited.add(node_id)
        node = mapping.get(node_id)
        children = node.get("children") if isinstance(node, dict) else None
        later = [c for c in children if _is_node(c, mapping)] if isinstance(children, list) else []
        if not later:
            break
        node_id = later[-1]
    return node_id


def _is_node(value: object, mapping: Mapping[str, object]) -> TypeGuard[str]:
    # Only a string can name a node; a list there would not even be hashable.
    return isinstance(value, str) and value in mapping


def _add_message(turns: Turns, node_id: str, message: object, started: datetime) -> None:
    if not isinstance(message, dict):
        return  # the root node and some placeholders carry no message at all
    author = message.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    speaker = SPEAKERS.get(role) if isinstance(role, str) else None
    metadata = message.get("metadata")
    if speaker is None:
        turns.skip("system or tool messages")
    elif isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation"):
        turns.skip("hidden messages")
    elif message.get("recipient", "all") != "all":
        turns.skip("calls to tools")  # the assistant talking to a plug-in, not the user
    else:
        text = _content_text(message.get("content"), turns)
        if text is not None:
            locator = text_or_none(message.get("id")) or node_id
            time = epoch_utc(message.get("create_time")) or started
            turns.add(locator, text, speaker, time)


def _content_text(content: object, turns: Turns) -> str | None:
    """The text parts of a message joined, or None when its content is not text."""
    if not isinstance(content, dict) or content.get("content_type") not in TEXT_CONTENT:
        turns.skip("non-text messages")
        return None
    parts = content.get("parts")
    texts: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, str):
            texts.append(part.strip())
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"].strip())
        else:
            turns.skip("non-text parts (images, files)")
    return "\n\n".join(text for text in texts if text)


FORMAT = Format(
    name=NAME,
    kind=SourceKind.CHAT,
    trust=Trust.USER_IMPORT,
    suffixes=(".json",),
    parse=parse,
    sniff=sniff,
)
