"""Synthetic personal notes for the capture benchmark: a folder of Markdown and text files.

Everything comes from one seed, so a run of the benchmark and its test see the same
bytes. The folder looks like a person's notes: dated journal entries, topic notes and
project notes in Markdown, meeting notes and an inbox of plain text files, in
sub-folders. A file has a size drawn from a log-normal law (median about 1 KB, from a
few lines to several KB), an optional title, sections under headings, paragraphs of
two to six sentences and now and then a bullet list.

Sentences are built from templates whose slots are filled from the vocabularies of
bench/_synthetic.py (people, places, things, food, …) and a few more of its own, so
the words vary as real notes do rather than repeating one paragraph. No line looks
like `Name: text`, so no file is mistaken for a chat log.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench._synthetic import LAST_DAY, PEOPLE, SLOTS

SEED = 2026
MEDIAN_BYTES = 900  # the target size's median; whole sentences push files a little over
SIZE_SPREAD = 0.75  # sigma of the log-normal size law
MIN_BYTES, MAX_BYTES = 100, 7000
JOURNAL_DAYS = 3650  # journal entries fall in the ten years before LAST_DAY

WORDS: dict[str, tuple[str, ...]] = {
    **SLOTS,
    "p": tuple(PEOPLE),
    "q": tuple(PEOPLE),
    "feeling": tuple(
        "tired|relieved|restless|happy|a bit anxious|calm|grateful|annoyed|hopeful|"
        "proud|overwhelmed|lonely|excited|content|distracted".split("|")
    ),
    "weather": tuple(
        "rain all day|bright sunshine|thick fog|a cold wind|snow in the morning|"
        "a heatwave|grey skies|a thunderstorm in the evening|mild spring air|"
        "frost on the windows".split("|")
    ),
    "when": tuple(
        "this morning|last night|after lunch|on the way home|before work|at the weekend|"
        "yesterday|late in the evening|during the break|on the train".split("|")
    ),
    "topic": tuple(
        "the quarterly report|the onboarding guide|the budget review|the new website|"
        "the customer survey|the hiring plan|the data migration|the team offsite|"
        "the grant proposal|the release schedule|the office move|the safety audit|"
        "the supplier contract|the training course|the annual accounts".split("|")
    ),
    "book": tuple(
        "a history of the Silk Road|a novel about a lighthouse keeper|a book on habits|"
        "a biography of a chess player|a cookbook from Sicily|a thriller set in Oslo|"
        "an essay collection about walking|a guide to mushrooms|a memoir by a surgeon|"
        "a short book on stoicism".split("|")
    ),
    "chore": tuple(
        "fix the leaking tap|renew the car insurance|book the dentist|water the plants|"
        "pay the electricity bill|sort the recycling|clean the fridge|back up the laptop|"
        "return the library books|call the landlord|order new glasses|defrost the freezer|"
        "replace the bike chain|file the receipts".split("|")
    ),
    "verb": tuple(
        "finish|start|rethink|postpone|talk about|write down|look into|simplify|"
        "double-check|celebrate".split("|")
    ),
}
# Each slot may appear twice in a template: {food} and {food2} are two draws of `food`.
SENTENCES = (
    "{when} I went {activity} with {p} near {place}.",
    "{p} told me about the {thing} and I promised to help.",
    "We had {food} for {meal} and it was better than last time.",
    "{when} there was {weather}, so I stayed in and read {book}.",
    "I felt {feeling} after the meeting about {topic}.",
    "{p} thinks we should {verb} {topic} before the end of {month}.",
    "Remember to {chore} before {weekday}.",
    "{p} and {q} are planning a trip to {city} in {month}.",
    "The {thing} is still at {place}, I need to pick it up.",
    "I tried {food} at a small place in {city} and want to go back.",
    "{p} works as a {job} now and seems much happier.",
    "My {relation} {p} called {when} and we talked for an hour.",
    "I keep putting off {topic}, maybe because it feels too big.",
    "It took longer than expected to {chore}, but it is done.",
    "{p} recommended {book}, which I started {when}.",
    "We listened to {music} while cooking {food} for {q}.",
    "Next {weekday} I want to {verb} the plan for {topic}.",
    "The {pet} is called {petname} and it sleeps all afternoon.",
    "I am {feeling} about the trip to {city}, there is still a lot to organise.",
    "{when} {p} brought {food2} and we ate it at {place}.",
    "Note to self, {activity} is the one thing that clears my head.",
    "{p} asked whether I still have the {thing}.",
    "I should write to {p} about {topic} and the {thing}.",
    "The forecast says {weather} for the whole week.",
    "I spent most of {weekday} on {topic} and got less done than I hoped.",
    "{p} finally moved to {city} and loves the neighbourhood.",
    "I want to learn {activity} properly this year, maybe with {q}.",
    "At {place} I ran into {p}, who now has a {pet}.",
    "It would be good to {verb} how we split the cost of the {thing}.",
    "We agreed that {p} will {chore} and I will handle {topic}.",
)
ITEMS = (
    "{chore}", "call {p} about the {thing}", "buy {food}", "{verb} {topic}",
    "ask {q} about {city}", "look for a new {thing}", "book {activity} for {weekday}",
)
HEADINGS: dict[str, tuple[str, ...]] = {
    "journal": ("Morning", "Work", "Evening", "Thoughts", "Grateful for", "To do"),
    "notes": ("Ideas", "Open questions", "What I know so far", "Summary", "Next steps",
              "Background", "Links to follow up"),
    "projects": ("Goal", "Status", "Risks", "Decisions", "Next steps", "Budget"),
    "meetings": ("Agenda", "Discussion", "Decisions", "Action items"),
    "inbox": (),
}
# Where notes go: (folder kind, share of files, suffix).
KINDS = (("journal", 0.35, ".md"), ("notes", 0.3, ".md"), ("projects", 0.15, ".md"),
         ("meetings", 0.1, ".txt"), ("inbox", 0.1, ".txt"))
TOPIC_FOLDERS = ("cooking", "travel", "health", "reading", "home", "money", "garden",
                 "family", "learning", "music")
PROJECTS = ("kitchen-renovation", "allotment", "photo-book", "marathon", "website",
            "wedding", "move-to-lisbon", "thesis")


@dataclass(frozen=True)
class NotesFolder:
    """A generated folder: its files in generation order, their bytes, and where."""

    root: Path
    files: tuple[Path, ...]
    total_bytes: int

    @property
    def median_bytes(self) -> float:
        """The median file size."""
        sizes = sorted(path.stat().st_size for path in self.files)
        middle = len(sizes) // 2
        return float(sizes[middle]) if len(sizes) % 2 else (sizes[middle - 1]
                                                            + sizes[middle]) / 2

    @property
    def folders(self) -> int:
        """How many distinct folders hold files."""
        return len({path.parent for path in self.files})


class Writer:
    """Fills templates from the vocabularies with one seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def fill(self, template: str) -> str:
        """The template with every `{slot}` drawn from its vocabulary."""
        text = re.sub(r"\{(\w+?)2?\}", lambda m: self.rng.choice(WORDS[m.group(1)]), template)
        return text[0].upper() + text[1:]

    def paragraph(self, low: int = 2, high: int = 6) -> str:
        """Two to six sentences, wrapped as one line as most editors save them."""
        count = self.rng.randint(low, high)
        return " ".join(self.fill(t) for t in self.rng.sample(SENTENCES, count))

    def bullets(self) -> str:
        """A short list of things to do."""
        return "\n".join("- " + self.fill(self.rng.choice(ITEMS))
                         for _ in range(self.rng.randint(2, 6)))

    def title(self) -> str:
        """A note's title: a to-do item or a thing with a place."""
        return self.fill(self.rng.choice(("{thing} at {place}", "{activity} in {city}",
                                          "{topic}", "{chore}", "{food} recipes")))


def note_text(writer: Writer, kind: str, target: int, markdown: bool) -> str:
    """A note of about `target` bytes: maybe a title, sections, paragraphs and lists."""
    rng = writer.rng
    blocks: list[str] = []
    if rng.random() < 0.7:
        blocks.append(("# " if markdown else "") + writer.title())
    headings = HEADINGS[kind] if markdown and rng.random() < 0.6 else ()
    size = sum(len(b) + 2 for b in blocks)
    for round_ in range(1000):
        if headings and (round_ == 0 or rng.random() < 0.5):
            blocks.append("## " + rng.choice(headings))
        blocks.append(writer.bullets() if rng.random() < 0.15 else writer.paragraph())
        size += len(blocks[-1]) + 2
        if size >= target:
            break
    return "\n\n".join(blocks) + "\n"


def note_name(writer: Writer, kind: str, suffix: str) -> Path:
    """Where a note of `kind` goes, relative to the folder (made unique by the caller)."""
    rng = writer.rng
    day = LAST_DAY - timedelta(days=rng.randrange(JOURNAL_DAYS))
    slug = re.sub(r"[^a-z0-9]+", "-", writer.title().lower()).strip("-")
    if kind == "journal":
        return Path("journal", str(day.year), f"{day.isoformat()}{suffix}")
    if kind == "notes":
        return Path("notes", rng.choice(TOPIC_FOLDERS), slug + suffix)
    if kind == "projects":
        return Path("projects", rng.choice(PROJECTS), slug + suffix)
    if kind == "meetings":
        return Path("meetings", str(day.year), f"{day.isoformat()} {slug}{suffix}")
    return Path("inbox", slug + suffix)


def unique(relative: Path, used: set[Path]) -> Path:
    """`relative`, or `name 2`, `name 3`, … when that path is taken."""
    candidate, number = relative, 1
    while candidate in used:
        number += 1
        candidate = relative.with_name(f"{relative.stem} {number}{relative.suffix}")
    used.add(candidate)
    return candidate


def target_size(rng: random.Random) -> int:
    """A file size from the log-normal law, within the bounds."""
    drawn = rng.lognormvariate(math.log(MEDIAN_BYTES), SIZE_SPREAD)
    return int(min(MAX_BYTES, max(MIN_BYTES, drawn)))


def generate(root: Path, count: int, seed: int = SEED) -> NotesFolder:
    """Write `count` notes under `root` (created); the same seed gives the same bytes."""
    writer = Writer(random.Random(seed))
    kinds = [kind for kind, _, _ in KINDS]
    weights = [share for _, share, _ in KINDS]
    suffixes = {kind: suffix for kind, _, suffix in KINDS}
    used: set[Path] = set()
    files: list[Path] = []
    total = 0
    for _ in range(count):
        kind = writer.rng.choices(kinds, weights)[0]
        relative = unique(note_name(writer, kind, suffixes[kind]), used)
        data = note_text(writer, kind, target_size(writer.rng),
                         markdown=suffixes[kind] == ".md").encode("utf-8")
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files.append(path)
        total += len(data)
    return NotesFolder(root, tuple(files), total)


def appended_paragraph(rng: random.Random) -> str:
    """A paragraph to add at a note's end: short enough to be one chunk of its own."""
    return "\n" + Writer(rng).paragraph(2, 4) + "\n"


def pick(files: Sequence[Path], count: int, rng: random.Random,
         taken: set[Path]) -> list[Path]:
    """`count` files not yet in `taken` (which grows), in a seeded random order."""
    free = [path for path in files if path not in taken]
    chosen = rng.sample(free, min(count, len(free)))
    taken.update(chosen)
    return chosen

