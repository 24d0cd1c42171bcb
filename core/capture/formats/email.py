"""E-mail: single messages (`.eml`) and mailboxes (`.mbox`).

Of each message Reverie reads the sender, the date, the subject and the text body
(the plain-text part, else the HTML part as text). What the writer did not write in
this message is dropped: quoted replies (``>`` lines and the "On … wrote:" line above
them, a forwarded "Original Message"), the signature after ``-- ``, and attachments.
The body is then cut into paragraph chunks like a text file; the first chunk of a
message starts with ``Subject: …``. Mail is others' words, so its trust is external.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, MIMEPart
from pathlib import Path

from reverie.core.capture.chunking import (
    Block,
    chunk_blocks,
    document_source,
    line_pieces,
    paragraph_blocks,
)
from reverie.core.capture.formats import Format
from reverie.core.capture.formats.html import html_blocks, read_html
from reverie.core.capture.parsed import (
    ParseContext,
    ParsedSource,
    Piece,
    SourceKind,
    Trust,
    UnreadableFile,
)
from reverie.core.capture.text import looks_binary

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MBOX_START = re.compile(rb"From [^\r\n]*\r?\n[!-9;-~]+:")
_MBOX_ESCAPED_FROM = re.compile(rb"^>(>*From )")
_ORIGINAL_MESSAGE = re.compile(r"^-{2,}\s*(original|forwarded) message\s*-{2,}$", re.IGNORECASE)
_MAIL_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix")
_MAX_ID_CHARS = 200


def parse_eml(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source holding one message's chunks."""
    if not raw.strip():
        return [document_source(context, [])]
    if looks_binary(raw):
        raise UnreadableFile(context.path, "binary data, not an e-mail message")
    message = _read_message(raw)
    if not any(name in message for name in _MAIL_HEADERS):
        raise UnreadableFile(context.path, "not an e-mail message: it has no mail headers")
    message_id = _message_id(message)
    base = f"message {message_id}" if message_id else "message 1"
    return [document_source(context, message_pieces(message, base, context))]


def parse_mbox(raw: bytes, context: ParseContext) -> list[ParsedSource]:
    """One source for the whole mailbox: every message's chunks, in file order."""
    if not raw.strip():
        return [document_source(context, [])]
    if looks_binary(raw):
        raise UnreadableFile(context.path, "binary data, not a mailbox")
    messages = split_mbox(raw)
    if not messages:
        raise UnreadableFile(context.path, "not an mbox mailbox: no 'From ' line at its start")
    pieces: list[Piece] = []
    for number, message_raw in enumerate(messages, start=1):
        message = _read_message(message_raw)
        message_id = _message_id(message)
        base = f"message {number} {message_id}" if message_id else f"message {number}"
        pieces.extend(message_pieces(message, base, context, session=base))
    return [document_source(context, pieces)]


def sniff_mbox(path: Path, head: bytes) -> bool:
    """True when a file starts like a mailbox: a ``From `` line, then a header."""
    return _MBOX_START.match(head.lstrip()) is not None


def split_mbox(raw: bytes) -> list[bytes]:
    """The messages of a mailbox, split at ``From `` lines that follow a blank line.

    Body lines escaped as ``>From `` (mboxo and mboxrd) lose one ``>``.
    """
    messages: list[bytes] = []
    current: list[bytes] | None = None
    after_blank = True
    for line in raw.splitlines(keepends=True):
        if line.startswith(b"From ") and after_blank:
            if current is not None:
                messages.append(b"".join(current))
            current = []
        elif current is not None:
            current.append(_MBOX_ESCAPED_FROM.sub(rb"\1", line))
        elif line.strip():
            return []  # text before the first "From " line: not a mailbox
        after_blank = not line.strip()
    if current is not None:
        messages.append(b"".join(current))
    return messages


def message_pieces(
    message: EmailMessage, base: str, context: ParseContext, session: str | None = None
) -> list[Piece]:
    """The chunks of one message, located as ``<base>, lines a-b`` in its body."""
    speaker = _sender(message) or context.path.name
    time = _date(message) or context.modified
    body = own_text(body_text(message, context))
    chunks = chunk_blocks(paragraph_blocks(body), context.max_chunk_chars)
    pieces = line_pieces(chunks, speaker, time, prefix=f"{base}, ", session=session)
    subject = " ".join(str(_header(message, "Subject") or "").split())
    if not subject:
        return pieces
    heading = f"Subject: {subject}"
    if not pieces:
        return [Piece(locator=base, text=heading, speaker=speaker, time=time, session=session)]
    first = pieces[0]
    pieces[0] = Piece(first.locator, f"{heading}\n\n{first.text}", speaker, time, session)
    return pieces


def body_text(message: EmailMessage, context: ParseContext) -> str:
    """The message's text: its plain-text body, else its HTML body as text, else ""."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    # The stdlib's MIME walk has crashed on malformed structures in the past.
    except Exception:
        return ""
    if part is None:
        return ""
    content = _decoded(part)
    if part.get_content_subtype() == "html":
        return _html_text(content, context)
    return content


def own_text(body: str) -> str:
    """The body without quoted replies and signature; dropped lines become blank.

    Blanking rather than removing keeps every kept line at its number in the body.
    """
    lines = _LINE_BREAK.split(body)
    keep = [True] * len(lines)
    for index, line in enumerate(lines):
        stripped = line.strip()
        if line.rstrip() == "--" or _ORIGINAL_MESSAGE.match(stripped):
            keep[index:] = [False] * (len(lines) - index)
            break
        if line.lstrip().startswith(">"):
            keep[index] = False
        elif stripped.lower().endswith("wrote:") and _quote_follows(lines, index):
            keep[index] = False
            if index > 0 and lines[index - 1].strip().startswith("On "):
                keep[index - 1] = False  # an attribution wrapped over two lines
    return "\n".join(line if kept else "" for line, kept in zip(lines, keep, strict=True))


def _quote_follows(lines: list[str], index: int) -> bool:
    for line in lines[index + 1 :]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _read_message(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def _header(message: EmailMessage, name: str) -> object | None:
    """A parsed header, or None when it is missing or too broken to parse."""
    try:
        return message.get(name)
    # Header parsing in the stdlib raises odd errors on hostile input.
    except Exception:
        return None


def _message_id(message: EmailMessage) -> str:
    value = " ".join(str(_header(message, "Message-ID") or "").split())
    return value[:_MAX_ID_CHARS]


def _sender(message: EmailMessage) -> str | None:
    header = _header(message, "From")
    if header is None:
        return None
    names = [str(a.display_name or a.addr_spec) for a in getattr(header, "addresses", ())]
    for candidate in [*names, str(header)]:
        name = " ".join(candidate.split())
        if any(character.isalnum() for character in name):  # not "<>" or ""
            return name
    return None


def _date(message: EmailMessage) -> datetime | None:
    moment = getattr(_header(message, "Date"), "datetime", None)
    return moment if isinstance(moment, datetime) else None


def _decoded(part: MIMEPart) -> str:
    """A text part's content, even with an unknown or lying charset."""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def _html_text(html: str, context: ParseContext) -> str:
    """An HTML body as plain text, without the quoted message it replies to."""
    try:
        soup = read_html(context, html)
    except UnreadableFile:
        return ""  # one message's broken HTML does not cost the rest of the mailbox
    quoted = [*soup.find_all("blockquote"), *soup.find_all(class_=list(_QUOTE_CLASSES))]
    for element in quoted:
        if not element.decomposed:
            element.decompose()
    blocks: list[Block] = html_blocks(soup)
    return "\n\n".join(block.text for block in blocks)


EML_FORMAT = Format(
    name="eml",
    kind=SourceKind.FILE,
    trust=Trust.EXTERNAL,
    suffixes=(".eml",),
    parse=parse_eml,
)

MBOX_FORMAT = Format(
    name="mbox",
    kind=SourceKind.FILE,
    trust=Trust.EXTERNAL,
    suffixes=(".mbox",),
    parse=parse_mbox,
    sniff=sniff_mbox,
)
