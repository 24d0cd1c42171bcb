"""Conversation exports: ChatGPT, Claude, Telegram, WhatsApp and plain chat logs.

Each sample under tests/data/capture/chats is matched by the sniffers in the order the
format registry asks them, then parsed; the tests pin what a user would check by eye:
who said what, when, where in the file, and what was left out.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reverie.core.capture.formats import (
    HEAD_BYTES,
    Format,
    chatgpt,
    chatlog,
    claude,
    jsonl,
    telegram,
    whatsapp,
)
from reverie.core.capture.parsed import ParseContext, ParsedSource, SourceKind, UnreadableFile

DATA = Path(__file__).resolve().parents[2] / "data" / "capture" / "chats"
MODIFIED = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
# The conversation formats in the order `formats.all_formats()` sniffs them.
CHAT_FORMATS = (
    jsonl.FORMAT,
    chatgpt.FORMAT,
    claude.FORMAT,
    telegram.FORMAT,
    whatsapp.FORMAT,
    chatlog.FORMAT,
)
SAMPLES = {
    "chatgpt/conversations.json": "chatgpt",
    "claude/conversations.json": "claude",
    "telegram/result.json": "telegram",
    "telegram/full/result.json": "telegram",
    "whatsapp/WhatsApp Chat with Sam.txt": "whatsapp",
    "whatsapp/WhatsApp Chat - Family/_chat.txt": "whatsapp",
    "chatlog/2024-03-standup.md": "chatlog",
    "chatlog/irc.log": "chatlog",
}


def sniffed(path: Path, raw: bytes | None = None) -> Format | None:
    """The first chat format whose sniffer claims the file, as `detect` would ask them."""
    head = (path.read_bytes() if raw is None else raw)[:HEAD_BYTES]
    return next((f for f in CHAT_FORMATS if f.sniff is not None and f.sniff(path, head)), None)


def parse_file(path: Path, expected_format: str) -> list[ParsedSource]:
    """Sniff `path`, check the format found, and parse it."""
    found = sniffed(path)
    assert found is not None, f"{path.name} was not recognised"
    assert found.name == expected_format
    assert found.kind is SourceKind.CHAT
    return found.parse(path.read_bytes(), ParseContext(path, MODIFIED))


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A file under `tmp_path` holding `text` as UTF-8."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def utc(text: str) -> datetime:
    """An aware UTC time from an ISO string without offset."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---- every sample ------------------------------------------------------------------


@pytest.mark.parametrize(("relative", "name"), SAMPLES.items())
def test_every_sample_keeps_the_piece_rules(relative: str, name: str) -> None:
    for source in parse_file(DATA / relative, name):
        locators = [piece.locator for piece in source.pieces]
        assert len(set(locators)) == len(locators)
        assert source.pieces
        for piece in source.pieces:
            assert piece.text == piece.text.strip() != ""
            assert piece.speaker.strip() == piece.speaker != ""


# ---- ChatGPT -----------------------------------------------------------------------


def test_chatgpt_export_follows_the_branch_the_user_saw() -> None:
    sources = parse_file(DATA / "chatgpt/conversations.json", "chatgpt")

    assert [(s.key, s.title, len(s.pieces)) for s in sources] == [
        ("chatgpt:6601a8e2-9c1f-4b7e-8d2a-51f0c3e4b7a1", "Lisbon trip packing list", 6),
        (
            "chatgpt:66055c12-7ab3-4c01-9f0e-2b8d7e6a9c33",
            "Sourdough starter smells like nail polish",
            5,
        ),
    ]
    lisbon = sources[0].pieces
    assert [p.locator for p in lisbon] == [
        "b2d4-user-1",
        "c3e5-asst-1b",
        "d4f6-user-2",
        "e5a7-asst-2",
        "f6b8-user-3b",
        "a7c9-asst-3b",
    ]
    assert [p.speaker for p in lisbon] == ["user", "ChatGPT"] * 3
    assert lisbon[0].time == utc("2024-03-12T19:05:10.123456")
    assert lisbon[-1].time == utc("2024-03-12T19:22:09.123456")
    # The image part is dropped, the text beside it kept.
    assert lisbon[2].text == (
        "Here's everything laid out on the bed. Will it fit the Ryanair cabin limit?"
    )
    assert lisbon[4].text == "Where can I get the best pastéis de nata near Belém? 🥐"
    assert lisbon[5].text.endswith("Manteigaria in Chiado is the favourite of many locals.")
    assert "\n- Adapter: Portugal uses type F plugs" in lisbon[1].text
    everything = " ".join(p.text for s in sources for p in s.pieces)
    for left_out in (
        "regenerated",
        "Which one do you mean?",
        "what about the pastel",
        "Manchester",
        "feeds = [",
        "file-service",
    ):
        assert left_out not in everything


def test_chatgpt_skips_tool_calls_and_falls_back_to_the_conversation_time() -> None:
    sourdough = parse_file(DATA / "chatgpt/conversations.json", "chatgpt")[1].pieces

    assert [p.locator for p in sourdough] == ["u21", "a21", "u22", "a22", "u23"]
    assert sourdough[0].time == utc("2024-03-16T08:40:02.123456")  # its own time is null
    assert sourdough[-1].time == utc("2024-03-16T08:52:30.123456")


def test_chatgpt_minified_export_without_current_node_takes_the_newest_branch(
    tmp_path: Path,
) -> None:
    conversations = json.loads((DATA / "chatgpt/conversations.json").read_text("utf-8"))
    del conversations[0]["current_node"]
    conversations[0]["title"] = None
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(conversations, separators=(",", ":")), encoding="utf-8")

    sources = parse_file(path, "chatgpt")

    assert sources[0].title == "Untitled ChatGPT conversation"
    assert [p.locator for p in sources[0].pieces][-2:] == ["f6b8-user-3b", "a7c9-asst-3b"]


def test_chatgpt_parent_loop_is_walked_once(tmp_path: Path) -> None:
    def node(ident: str, parent: str, role: str, text: str) -> dict[str, object]:
        message = {
            "id": ident,
            "author": {"role": role},
            "create_time": 1710000000 + len(text),
            "content": {"content_type": "text", "parts": [text]},
        }
        return {"id": ident, "message": message, "parent": parent, "children": []}

    loop = [
        {
            "title": "Loop",
            "id": "c1",
            "create_time": 1710000000,
            "current_node": "b",
            "mapping": {
                "a": node("a", "b", "user", "hello"),
                "b": node("b", "a", "assistant", "hi there"),
            },
        }
    ]
    path = write(tmp_path, "conversations.json", json.dumps(loop))

    [source] = parse_file(path, "chatgpt")

    assert [(p.locator, p.speaker) for p in source.pieces] == [("a", "user"), ("b", "ChatGPT")]


def test_chatgpt_conversation_without_mapping_is_refused_by_number(tmp_path: Path) -> None:
    good = {"title": "Fine", "id": "c1", "create_time": 1710000000, "mapping": {}}
    path = write(tmp_path, "conversations.json", json.dumps([good, {"title": "Bad", "id": "c2"}]))

    with pytest.raises(UnreadableFile) as caught:
        chatgpt.parse(path.read_bytes(), ParseContext(path, MODIFIED))

    assert caught.value.reason == "not a ChatGPT export: conversation 2 has no mapping"


# ---- Claude ------------------------------------------------------------------------


def test_claude_export_reads_text_blocks_and_skips_tool_only_turns() -> None:
    sources = parse_file(DATA / "claude/conversations.json", "claude")

    # The second conversation has no messages and is left out.
    assert [(s.key, s.title, len(s.pieces)) for s in sources] == [
        ("claude:5e0c8f2a-41d7-4c2b-9a8e-0f3b6d1c2e71", "Planning Mum's 60th birthday", 5),
        ("claude:c47e9a13-5b2f-4d8c-a1e6-9f0b3c5d7e24", "Untitled Claude conversation", 3),
    ]
    party = sources[0].pieces
    assert [p.locator[-2:] for p in party] == ["01", "02", "03", "04", "06"]
    assert [p.speaker for p in party] == ["user", "Claude", "user", "Claude", "user"]
    assert party[0].time == utc("2024-04-02T18:11:04.102334")
    assert party[-1].time == utc("2024-04-02T18:40:55.120931")
    assert party[1].text == (
        "Lovely idea! Start with three things, in this order:\n\n"
        "1. Fix the guest list, so you know the room size.\n"
        "2. Book a venue with a private room: Sunday lunch slots go first.\n"
        "3. Decide who keeps Mum busy that morning."
    )
    assert party[3].text.endswith("both of the Okonkwo cousins. 🎂")
    # No content blocks: the flat text is read, stripped.
    assert party[4].text == (
        "Booked the Orangery at the Majestic for 12:30. Deposit paid!\nNow: cake."
    )
    everything = " ".join(p.text for s in sources for p in s.pieces)
    for left_out in ("search results", "not supported", "replied is no", "Auntie Grace"):
        assert left_out not in everything
    bike = sources[1].pieces
    assert bike[-1].time == utc("2024-04-09T21:19:02.774190")


def test_claude_conversation_without_messages_list_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "conversations.json", json.dumps([{"uuid": "u1", "name": "x"}]))

    with pytest.raises(UnreadableFile, match="conversation 1 has no chat_messages list"):
        claude.parse(path.read_bytes(), ParseContext(path, MODIFIED))


def test_chatgpt_and_claude_exports_are_not_confused() -> None:
    gpt, anthropic = DATA / "chatgpt/conversations.json", DATA / "claude/conversations.json"
    gpt_head, anthropic_head = gpt.read_bytes()[:HEAD_BYTES], anthropic.read_bytes()[:HEAD_BYTES]

    assert chatgpt.sniff(gpt, gpt_head)
    assert not claude.sniff(gpt, gpt_head)
    assert not telegram.sniff(gpt, gpt_head)
    assert claude.sniff(anthropic, anthropic_head)
    assert not chatgpt.sniff(anthropic, anthropic_head)
    assert not telegram.sniff(anthropic, anthropic_head)


# ---- Telegram ----------------------------------------------------------------------


def test_telegram_chat_export() -> None:
    [crew] = parse_file(DATA / "telegram/result.json", "telegram")

    assert (crew.key, crew.title) == ("telegram:4829301177", "Climbing crew 🧗")
    assert [p.locator for p in crew.pieces] == [
        "4102",
        "4103",
        "4104",
        "4106",
        "4107",
        "4110",
        "4111",
        "4112",
    ]
    assert [p.speaker for p in crew.pieces] == [
        "Léa Martin",
        "Jürgen Vogt",
        "Alex Reed",
        "Léa Martin",
        "Sam Patel",
        "Jürgen Vogt",
        "user555000111",
        "Alex Reed",
    ]
    # date_unixtime wins over the exporting machine's wall clock (UTC+1 here).
    assert crew.pieces[0].time == utc("2024-03-09T09:03:40")
    assert crew.pieces[-1].time == utc("2024-03-10T08:30:00")
    assert crew.pieces[2].text == (
        "Saturday works. Shall we try Berta Block in Wedding? "
        "They reset the overhang this week: https://www.bertablock.de/"
    )
    assert crew.pieces[3].text == (
        "Yes! Meet at 11 at the entrance.\nI'll bring the spare chalk bag.\n"
        "Sam, don't forget your shoes this time 😅"
    )
    assert crew.pieces[5].text == "My first 6a+ in Berlin!"  # a photo's caption


def test_telegram_full_export_reads_every_chat() -> None:
    sources = parse_file(DATA / "telegram/full/result.json", "telegram")

    assert [(s.key, s.title, len(s.pieces)) for s in sources] == [
        ("telegram:209981174", "Sam Patel", 2),
        ("telegram:133700042", "Saved Messages", 1),
    ]
    assert [p.locator for p in sources[0].pieces] == ["90311", "90313"]  # the call is skipped
    # An old export has no date_unixtime: the wall-clock date is kept as written.
    assert sources[1].pieces[0].time == datetime(2021, 11, 3, 22, 47, 10)
    assert sources[1].pieces[0].speaker == "Alex Reed"


def test_telegram_message_without_sender_is_unknown(tmp_path: Path) -> None:
    chat = {
        "name": "Old group",
        "type": "private_group",
        "id": 7,
        "messages": [
            {
                "id": 1,
                "type": "message",
                "date": "2019-05-01T10:00:00",
                "from": None,
                "text": "anyone here?",
            },
            {"id": 2, "type": "message", "date": "not a date", "from": "Bo", "text": "yes"},
        ],
    }
    path = write(tmp_path, "result.json", json.dumps(chat))

    [source] = parse_file(path, "telegram")

    assert [(p.locator, p.speaker) for p in source.pieces] == [("1", "Unknown")]


def test_telegram_object_of_another_shape_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "result.json", json.dumps({"settings": {"theme": "dark"}}))

    assert sniffed(path) is None
    with pytest.raises(UnreadableFile, match="neither a chat's messages nor a chats list"):
        telegram.parse(path.read_bytes(), ParseContext(path, MODIFIED))


# ---- WhatsApp ----------------------------------------------------------------------


def test_whatsapp_android_export() -> None:
    [chat] = parse_file(DATA / "whatsapp/WhatsApp Chat with Sam.txt", "whatsapp")

    assert (chat.key, chat.title) == ("whatsapp:WhatsApp chat with Sam", "WhatsApp chat with Sam")
    assert [p.locator for p in chat.pieces] == [
        "2024-03-12 09:14:00 Sam Patel",
        "2024-03-12 09:20:00 Alex",
        "2024-03-12 09:21:00 Sam Patel",
        "2024-03-12 12:48:00 Alex",
        "2024-03-13 08:02:00 Sam Patel",
        "2024-03-13 08:05:00 Alex",
        "2024-03-13 08:07:00 Sam Patel",
        "2024-03-14 18:30:00 Sam Patel",
        "2024-03-14 18:41:00 Alex",
    ]
    assert [p.speaker for p in chat.pieces] == [
        "Sam Patel",
        "Alex",
        "Sam Patel",
        "Alex",
        "Sam Patel",
        "Alex",
        "Sam Patel",
        "Sam Patel",
        "Alex",
    ]
    assert chat.pieces[0].time == datetime(2024, 3, 12, 9, 14)  # wall clock, day first
    assert chat.pieces[-1].time == datetime(2024, 3, 14, 18, 41)
    assert chat.pieces[4].text == (
        "That was such a good session last night\nAlso my forearms are destroyed\n\n"
        "Bringing the tape next time"
    )
    assert chat.pieces[7].text == "The new overhang at the Arch!"  # the photo's caption
    assert chat.pieces[8].text == "Wow. Project for Saturday"
    everything = " ".join(p.text for p in chat.pieces)
    for left_out in ("Media omitted", "end-to-end", "deleted", "phone number", "file attached"):
        assert left_out not in everything


def test_whatsapp_ios_export_month_first_with_marks_and_crlf() -> None:
    [chat] = parse_file(DATA / "whatsapp/WhatsApp Chat - Family/_chat.txt", "whatsapp")

    assert chat.title == "WhatsApp chat with Family"  # from the folder iOS zipped it in
    assert [p.locator for p in chat.pieces] == [
        "2024-03-14 09:05:40 Dad",
        "2024-03-14 09:31:02 Zoë",
        "2024-03-14 12:15:57 Alex",
        "2024-03-14 12:18:03 Mum",
        "2024-03-14 18:44:20 Zoë",
        "2024-03-15 00:03:09 Alex",
    ]
    assert [p.speaker for p in chat.pieces] == ["Dad", "Zoë", "Alex", "Mum", "Zoë", "Alex"]
    assert chat.pieces[0].time == datetime(2024, 3, 14, 9, 5, 40)
    assert chat.pieces[2].time == datetime(2024, 3, 14, 12, 15, 57)  # 12 PM is noon
    assert chat.pieces[-1].time == datetime(2024, 3, 15, 0, 3, 9)  # 12 AM is midnight
    assert chat.pieces[3].text == (
        "Victoria sponge please, Nana can't have lemon anymore.\n"
        "Also bring the blue folding chairs from the garage.\nThey're behind the bikes."
    )
    assert chat.pieces[4].text == "🎂🎂🎂"
    assert chat.pieces[5].text == "Cake ordered, collecting Saturday at 11"
    everything = " ".join(p.text for p in chat.pieces)
    for left_out in ("omitted", "created group", "Missed voice call", "attached", "\u200e"):
        assert left_out not in everything


@pytest.mark.parametrize(
    ("lines", "first_time"),
    [
        # Nothing over 12: day first is assumed.
        (
            ["05/03/2024, 10:00 - Ana: hola", "06/03/2024, 11:00 - Ben: hi"],
            datetime(2024, 3, 5, 10, 0),
        ),
        # A second field over 12 makes the whole file month first.
        (
            ["3/5/24, 10:00 AM - Ana: hola", "3/13/24, 9:30 PM - Ben: hi"],
            datetime(2024, 3, 5, 10, 0),
        ),
        # Dots and a two-digit year, 24 hours.
        (
            ["12.03.24, 14:05 - Ana: hola", "12.03.24, 14:06 - Ben: hi"],
            datetime(2024, 3, 12, 14, 5),
        ),
        # Year first.
        (
            ["2024-03-12 14:05 - Ana: hola", "2024-03-12 14:06 - Ben: hi"],
            datetime(2024, 3, 12, 14, 5),
        ),
    ],
)
def test_whatsapp_date_styles(tmp_path: Path, lines: list[str], first_time: datetime) -> None:
    path = write(tmp_path, "WhatsApp Chat with Ana.txt", "\n".join(lines) + "\n")

    [chat] = parse_file(path, "whatsapp")

    assert chat.pieces[0].time == first_time
    assert [p.speaker for p in chat.pieces] == ["Ana", "Ben"]


@pytest.mark.parametrize(
    ("relative", "title"),
    [
        ("WhatsApp Chat with Sam (1).txt", "WhatsApp chat with Sam"),
        ("ios/_chat.txt", "WhatsApp chat (ios)"),
        ("export.txt", "WhatsApp chat (export)"),
    ],
)
def test_whatsapp_titles(tmp_path: Path, relative: str, title: str) -> None:
    assert whatsapp.chat_title(tmp_path / relative) == title


def test_whatsapp_with_only_notices_has_no_source(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "WhatsApp Chat with Bo.txt",
        (
            "01/02/2024, 10:00 - Messages and calls are end-to-end encrypted.\n"
            "01/02/2024, 10:01 - Bo: <Media omitted>\n"
        ),
    )

    assert whatsapp.parse(path.read_bytes(), ParseContext(path, MODIFIED)) == []


# ---- chat logs ---------------------------------------------------------------------


def test_markdown_standup_log_under_date_headings() -> None:
    [log] = parse_file(DATA / "chatlog/2024-03-standup.md", "chatlog")

    assert log.key == f"chatlog:{(DATA / 'chatlog/2024-03-standup.md').absolute()}"
    assert log.title == "2024-03-standup"
    assert [p.locator for p in log.pieces] == [
        "2024-03-11 00:00:00 Priya",
        "2024-03-11 00:00:01 Tomás",
        "2024-03-11 00:00:02 Jürgen",
        "2024-03-11 00:00:03 Alex",
        "2024-03-12 00:00:00 Priya",
        "2024-03-12 00:00:01 Tomás",
        "2024-03-12 00:00:02 Alex",
    ]
    assert [p.speaker for p in log.pieces] == [
        "Priya",
        "Tomás",
        "Jürgen",
        "Alex",
        "Priya",
        "Tomás",
        "Alex",
    ]
    # The heading's day, one second per turn to keep the order.
    assert [p.time for p in log.pieces] == [
        datetime(2024, 3, 11, 0, 0, 0),
        datetime(2024, 3, 11, 0, 0, 1),
        datetime(2024, 3, 11, 0, 0, 2),
        datetime(2024, 3, 11, 0, 0, 3),
        datetime(2024, 3, 12, 0, 0, 0),
        datetime(2024, 3, 12, 0, 0, 1),
        datetime(2024, 3, 12, 0, 0, 2),
    ]
    assert log.pieces[3].text == (
        "I'm out Wednesday morning for the dentist 🦷\n"
        "Back online by 13:00, ping me on Signal if anything breaks."
    )
    # Text after the separator belongs to no turn.
    assert log.pieces[-1].text == "Booked the big room for Friday's retro, 15:00–16:00."


def test_irc_log_skips_joins_quits_and_topic_changes() -> None:
    [log] = parse_file(DATA / "chatlog/irc.log", "chatlog")

    assert [p.locator for p in log.pieces] == [
        "2024-03-12 20:01:00 alex",
        "2024-03-12 20:02:00 marta",
        "2024-03-12 20:03:00 kenji",
        "2024-03-12 20:04:00 alex",
        "2024-03-12 20:09:00 marta",
        "2024-03-13 08:40:00 alex",
        "2024-03-13 08:52:00 marta",
    ]
    assert [p.speaker for p in log.pieces] == [
        "alex",
        "marta",
        "kenji",
        "alex",
        "marta",
        "alex",
        "marta",
    ]
    assert log.pieces[0].time == datetime(2024, 3, 12, 20, 1)
    assert log.pieces[-1].time == datetime(2024, 3, 13, 8, 52)
    assert log.pieces[2].text == "alex: are you coming to the meetup in Kraków on the 21st?"


def test_chat_log_with_times_on_each_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "call.txt",
        (
            "2024-03-12 14:05 Alice: Are you at the café?\n"
            "2024-03-12 14:05:40 Bob: Two minutes away\n"
            "stuck behind a bus\n"
            "**Alice** (2024-03-12 14:09): Got you a flat white ☕\n"
        ),
    )

    [log] = parse_file(path, "chatlog")

    assert [(p.locator, p.speaker, p.time, p.text) for p in log.pieces] == [
        (
            "2024-03-12 14:05:00 Alice", "Alice", datetime(2024, 3, 12, 14, 5),
            "Are you at the café?",
        ),
        (
            "2024-03-12 14:05:40 Bob",
            "Bob",
            datetime(2024, 3, 12, 14, 5, 40),
            "Two minutes away\nstuck behind a bus",
        ),
        (
            "2024-03-12 14:09:00 Alice", "Alice", datetime(2024, 3, 12, 14, 9),
            "Got you a flat white ☕",
        ),
    ]


# ---- files that are not conversations ----------------------------------------------


@pytest.mark.parametrize("relative", ["not-chats/lisbon-ideas.md", "not-chats/shopping.txt"])
def test_notes_are_not_claimed_by_any_chat_format(relative: str) -> None:
    assert sniffed(DATA / relative) is None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("note.md", "# 2024-03-12\n\nNote: something\n"),
        (
            "journal.md",
            "# 2024-03-12\n\nBreakfast: porridge\nLunch: soup\nWalked: 5 km\n"
            "Dinner: pasta with Sam\n",
        ),
        ("diary.txt", "12 March 2024\n\nSam: came round for dinner.\nGreat evening.\n"),
    ],
)
def test_notes_with_colons_are_not_chat_logs(tmp_path: Path, name: str, text: str) -> None:
    assert sniffed(write(tmp_path, name, text)) is None


def test_whatsapp_and_chat_log_sniffers_leave_each_other_alone() -> None:
    android = DATA / "whatsapp/WhatsApp Chat with Sam.txt"
    standup = DATA / "chatlog/2024-03-standup.md"

    assert not chatlog.sniff(android, android.read_bytes())
    assert not whatsapp.sniff(standup.with_suffix(".txt"), standup.read_bytes())


@pytest.mark.parametrize(
    ("relative", "fmt", "named"),
    [
        ("chatgpt/conversations.json", chatgpt.FORMAT, "a ChatGPT export"),
        ("claude/conversations.json", claude.FORMAT, "a Claude export"),
        ("telegram/result.json", telegram.FORMAT, "a Telegram export"),
    ],
)
def test_truncated_json_export_says_so(relative: str, fmt: Format, named: str) -> None:
    path = DATA / relative
    raw = path.read_bytes()

    with pytest.raises(UnreadableFile) as caught:
        fmt.parse(raw[: len(raw) // 2], ParseContext(path, MODIFIED))

    assert caught.value.reason.startswith("the JSON ends early, at line ")
    assert "is the file truncated?" in caught.value.reason
    assert f"expected {named}" in caught.value.reason


def test_broken_json_in_the_middle_is_reported_with_its_place(tmp_path: Path) -> None:
    path = write(tmp_path, "conversations.json", '[{"uuid": "u1", "chat_messages": [}]')

    expected = r"not valid JSON: Expecting value \(line 1, column 35\)"
    with pytest.raises(UnreadableFile, match=expected):
        claude.parse(path.read_bytes(), ParseContext(path, MODIFIED))


def test_binary_file_named_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)

    assert sniffed(path) is None
    with pytest.raises(UnreadableFile, match="binary"):
        chatgpt.parse(path.read_bytes(), ParseContext(path, MODIFIED))


@pytest.mark.parametrize("suffix", [".json", ".txt", ".md", ".log"])
def test_sniffers_never_raise_on_junk(tmp_path: Path, suffix: str) -> None:
    noise = random.Random(7)
    heads = [
        b"",
        b"\xef\xbb\xbf",
        b"\xff\xfe[\x00{\x00",
        b"[" * 5000,
        b'[{"mapping": {',
        bytes(noise.randrange(256) for _ in range(4096)),
        b"12/03/2024, 99:99 - " * 300,
        b"# 2024-02-31\nA: b\n" * 50,
        b"[9999-99-99 99:99] <a> b\n" * 50,
        "\u200e[".encode() * 1000,
    ]
    path = tmp_path / f"file{suffix}"
    for head in heads:
        for fmt in CHAT_FORMATS[1:]:  # the formats this module covers
            assert fmt.sniff is not None
            assert fmt.sniff(path, head) in (True, False)


JUNK: tuple[object, ...] = (None, [], {}, [[]], {"a": []}, 0, -1.5, 1e308, True, "", "x")


def _spoil(document: object, noise: random.Random) -> object:
    """`document` with one value somewhere inside it replaced by junk of another type."""
    if isinstance(document, dict) and document and noise.random() < 0.8:
        key = noise.choice(list(document))
        return {**document, key: _spoil(document[key], noise)}
    if isinstance(document, list) and document and noise.random() < 0.8:
        index = noise.randrange(len(document))
        return [*document[:index], _spoil(document[index], noise), *document[index + 1 :]]
    return noise.choice(JUNK)


@pytest.mark.parametrize(
    ("relative", "fmt"),
    [
        ("chatgpt/conversations.json", chatgpt.FORMAT),
        ("claude/conversations.json", claude.FORMAT),
        ("telegram/result.json", telegram.FORMAT),
        ("telegram/full/result.json", telegram.FORMAT),
    ],
)
def test_damaged_json_exports_fail_only_as_unreadable(relative: str, fmt: Format) -> None:
    path = DATA / relative
    document = json.loads(path.read_text("utf-8"))
    noise = random.Random(relative)
    outcomes = set()
    for _ in range(300):
        raw = json.dumps(_spoil(document, noise)).encode()
        try:
            sources = fmt.parse(raw, ParseContext(path, MODIFIED))
        except UnreadableFile:
            outcomes.add("refused")
        else:
            outcomes.add("read")
            for source in sources:
                assert len({p.locator for p in source.pieces}) == len(source.pieces)
    assert outcomes == {"read", "refused"}
