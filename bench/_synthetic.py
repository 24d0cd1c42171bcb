"""Synthetic memories for the store benchmarks: text, times, kinds, people and vectors.

Everything is derived from a seed, batch by batch, so that separate processes (the
store and its baselines) see exactly the same data without holding a million vectors
in memory or on disk twice.

Text comes from templates per memory kind with slots filled from small vocabularies
whose words are drawn with Zipf-like weights, as in real notes: a few people, places
and things recur, most are rare. Vectors come from `BagOfWordsEmbedder`, a stand-in
for the real embedder: a sum of fixed pseudo-random word vectors, so that memories
sharing words lie near each other (as real embeddings cluster by topic) while no model
runs. The benchmark thereby times the store, not an embedder.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from reverie.core.types import MemoryKind

DIM = 384
LAST_DAY = date(2026, 11, 20)
DAYS = 1096  # three years of days, ending the day before the benchmark's date
# A memory's vector is its text's unit vector plus noise of about this length, so that
# memories with the same words are near but not identical (as real embeddings are).
JITTER = 0.35

PEOPLE = (
    "Sam Alex Maya Jon Gina Priya Tom Lena Omar Chloe Ravi Nora Ben Iris Leo Zoe Hugo Ada "
    "Finn Mira Theo Ella Kai Rosa Ivan Lucy Noah Sara Eli Tara Mum Dad"
).split()
SLOTS: dict[str, tuple[str, ...]] = {
    "place": tuple(
        "the lake|the old harbour|the climbing gym|the bakery on Elm Street|the library|"
        "the night market|the office|the station|the botanical garden|the cinema|the pub|"
        "the beach|the museum|the farmers market|the football ground|the hospital|the park|"
        "the ramen bar|the bookshop|the community hall|the pool|the airport|the gallery|"
        "the ski lodge|the cafe by the river|the hardware store|the vet|the school".split("|")
    ),
    "city": tuple(
        "Lisbon Porto Berlin Leipzig Oslo Kyoto Osaka Lyon Nantes Dublin Cork Seville "
        "Valencia Krakow Gdansk Vienna Graz Zurich Basel Bologna Turin Prague Brno Tallinn "
        "Riga Vilnius Ghent Utrecht Edinburgh Glasgow".split()
    ),
    "thing": tuple(
        "kayak|tax return|birthday present|laptop|spare key|passport|camping stove|bicycle|"
        "wedding invitation|garden shed|guitar|car insurance|rent contract|phone charger|"
        "photo album|winter jacket|board game|recipe book|train tickets|dentist appointment|"
        "job application|sourdough starter|paint samples|running shoes|library card|"
        "concert tickets|sofa|printer|tent|watercolour set|drone|coffee grinder|"
        "vinyl player|yoga mat|fishing rod|sewing machine|telescope|chess set|hiking boots|"
        "travel guide".split("|")
    ),
    "activity": tuple(
        "kayaking|hiking|bouldering|swimming|running|cycling|skiing|sailing|birdwatching|"
        "dancing|fishing|camping|painting|baking|gardening|karaoke|ice skating|surfing|"
        "pottery|photography|volunteering|stargazing".split("|")
    ),
    "food": tuple(
        "green tea|black coffee|ramen|sushi|tapas|pho|dumplings|falafel|pizza|curry|"
        "pancakes|oysters|goulash|paella|tacos|risotto|kimchi|porridge|croissants|"
        "dark chocolate|blue cheese|lemon cake|mint ice cream|olives".split("|")
    ),
    "job": tuple(
        "nurse|teacher|carpenter|software engineer|architect|chef|pharmacist|lawyer|"
        "journalist|electrician|dentist|librarian|pilot|translator|florist|accountant|"
        "physiotherapist|game designer|barista|social worker".split("|")
    ),
    "relation": tuple(
        "sister|brother|cousin|neighbour|colleague|best friend|flatmate|aunt|uncle|"
        "manager|old classmate|climbing partner|godmother|landlord".split("|")
    ),
    "month": tuple(
        "January February March April May June July August September October November "
        "December".split()
    ),
    "weekday": tuple("Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()),
    "pet": tuple("dog cat rabbit parrot tortoise hamster goldfish ferret".split()),
    "petname": tuple(
        "Biscuit Pepper Luna Milo Olive Mochi Ziggy Bean Pickle Nala Rusty Clover".split()
    ),
    "music": tuple(
        "jazz|folk|techno|opera|punk|bossa nova|blues|hip hop|baroque|reggae|k-pop|"
        "ambient".split("|")
    ),
    "meal": tuple("breakfast lunch dinner brunch".split()),
}
TEMPLATES: dict[MemoryKind, tuple[str, ...]] = {
    MemoryKind.EVENT: (
        "{p} and I went {activity} at {place}",
        "had {meal} with {p} at {place} and talked about the {thing}",
        "{p} called about the {thing}",
        "met {p} at {place} in {city}",
        "{p} lost the {thing} on the way to {place}",
        "went {activity} with {p} and {q} near {city}",
    ),
    MemoryKind.FACT: (
        "{p} works as a {job} in {city}",
        "{p} lives near {place} in {city}",
        "{p} was born in {month} in {city}",
        "{p} has a {pet} called {petname}",
        "the {thing} is kept at {place}",
    ),
    MemoryKind.PREFERENCE: (
        "{p} prefers {food} to {food2}",
        "{p} loves {activity} but finds {activity2} boring",
        "{p} listens to {music} while cooking",
        "{p} never eats {food}",
    ),
    MemoryKind.PERSON: (
        "{p} is my {relation}",
        "{p} is {q}'s {relation}",
        "{p} met {q} through {activity}",
    ),
    MemoryKind.PLAN: (
        "{p} plans to visit {city} in {month}",
        "{p} wants to try {activity} next {month}",
        "remember to bring the {thing} to {p} on {weekday}",
        "book {meal} at {place} for {p}'s birthday in {month}",
    ),
    MemoryKind.SUMMARY: (
        "{weekday}: {activity} with {p}, then {meal} at {place}; {q} called about the {thing}",
    ),
}
KIND_WEIGHTS: dict[MemoryKind, float] = {
    MemoryKind.EVENT: 0.40, MemoryKind.FACT: 0.22, MemoryKind.PREFERENCE: 0.12,
    MemoryKind.PERSON: 0.08, MemoryKind.PLAN: 0.16, MemoryKind.SUMMARY: 0.02,
}
QUERY_TEMPLATES = (
    "when did I go {activity} with {p}",
    "what does {p} think about {food}",
    "where does {p} work",
    "{thing} {city}",
    "who is {p}",
    "what did we do at {place}",
    "{p} {activity} {month}",
    "plans for {city}",
    "what happened to the {thing}",
    "{music} music",
)
_SLOT = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"\w+")


def zipf_cdf(n: int, exponent: float = 1.0) -> np.ndarray:
    """Cumulative probabilities of ranks 1..n, each rank weighing 1/rank**exponent."""
    raw = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return np.cumsum(raw / raw.sum())


def draw(rng: np.random.Generator, cdf: np.ndarray) -> int:
    """An index drawn by the cumulative probabilities `cdf`.

    Much cheaper per call than `Generator.choice(p=...)`, which rebuilds the table.
    """
    return min(int(np.searchsorted(cdf, rng.random(), side="right")), len(cdf) - 1)


class BagOfWordsEmbedder:
    """Deterministic 384-d unit vectors: the normalised sum of fixed random word vectors.

    Implements the `Embedder` protocol for the benchmark. It is not a language model:
    it only makes texts that share words land near each other, cheaply.
    """

    def __init__(self, seed: int = 7) -> None:
        self._seed = seed
        self._words: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        """The model name stored with each vector."""
        return "bench-bag-of-words-384"

    @property
    def dim(self) -> int:
        """The vector length."""
        return DIM

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, float32, shape (len(texts), 384)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row] += self._word(word)
        return normalise(out)

    def _word(self, word: str) -> np.ndarray:
        vector = self._words.get(word)
        if vector is None:
            digest = hashlib.blake2b(f"{self._seed}:{word}".encode(), digest_size=8).digest()
            rng = np.random.default_rng(int.from_bytes(digest, "little"))
            vector = rng.standard_normal(DIM).astype(np.float32)
            self._words[word] = vector
        return vector


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    scaled: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return scaled


@dataclass(frozen=True)
class SyntheticMemory:
    """One memory as every system under test writes it."""

    id: str
    kind: MemoryKind
    text: str
    about: str
    time: datetime


@dataclass(frozen=True)
class SyntheticEpisode:
    """The turn a batch of memories cites."""

    id: str
    time: datetime
    text: str


@dataclass(frozen=True)
class Batch:
    """What one write transaction holds: a session's memories, all on one day.

    Each batch cites one episode (the session's turn), as extraction cites its turn.
    """

    index: int
    episode: SyntheticEpisode
    memories: tuple[SyntheticMemory, ...]
    vectors: np.ndarray


class Corpus:
    """`size` memories in batches of `batch_size`, spread over three years of days."""

    def __init__(self, size: int, batch_size: int = 100, seed: int = 2026) -> None:
        self.size = size
        self.batch_size = batch_size
        self.seed = seed
        self.embedder = BagOfWordsEmbedder(seed)
        self._slot_cdfs = {slot: zipf_cdf(len(words)) for slot, words in SLOTS.items()}
        self._people_cdf = zipf_cdf(len(PEOPLE), 0.8)
        self._kinds = list(KIND_WEIGHTS)
        weights = np.array(list(KIND_WEIGHTS.values()))
        self._kind_cdf = np.cumsum(weights / weights.sum())
        self._batch_days = self._draw_batch_days()

    @property
    def batch_count(self) -> int:
        """How many write transactions build the corpus."""
        return -(-self.size // self.batch_size)

    def _draw_batch_days(self) -> np.ndarray:
        # Days differ in how much happens (gamma weights) and weekends are busier; a
        # batch's day is drawn independently, so a day's rows are scattered over the
        # file as when several sources are imported and extracted in any order.
        rng = np.random.default_rng([self.seed, 0])
        weights = rng.gamma(2.0, 1.0, DAYS)
        weekday = np.array([(LAST_DAY - timedelta(days=i)).weekday() for i in range(DAYS)])
        weights[weekday >= 5] *= 1.6
        weights /= weights.sum()
        return rng.choice(DAYS, size=self.batch_count, p=weights)

    def days(self) -> list[date]:
        """Every day that holds at least one memory."""
        return sorted({LAST_DAY - timedelta(days=int(i)) for i in self._batch_days})

    def batches(self) -> Iterator[Batch]:
        """The batches in write order; each is generated from the seed on demand."""
        for index in range(self.batch_count):
            yield self.batch(index)

    def batch(self, index: int) -> Batch:
        """Batch `index` (the same every time and in every process)."""
        rng = np.random.default_rng([self.seed, 1, index])
        episode = self.episode(index)
        count = min(self.batch_size, self.size - index * self.batch_size)
        memories = tuple(self._memory(rng, index, i, episode.time) for i in range(count))
        vectors = self.embedder.embed([m.text for m in memories])
        noise = rng.standard_normal(vectors.shape) * (JITTER / np.sqrt(DIM))
        return Batch(
            index=index, episode=episode, memories=memories, vectors=normalise(vectors + noise)
        )

    def episode(self, index: int) -> SyntheticEpisode:
        """The turn batch `index` cites: when its session started and what was said."""
        rng = np.random.default_rng([self.seed, 5, index])
        day = LAST_DAY - timedelta(days=int(self._batch_days[index]))
        start = datetime(day.year, day.month, day.day, int(rng.integers(7, 21)))
        return SyntheticEpisode(
            id=f"ep_bench_{index:07d}", time=start,
            text=self._sentence(rng, MemoryKind.SUMMARY),
        )

    def _memory(
        self, rng: np.random.Generator, batch: int, i: int, start: datetime
    ) -> SyntheticMemory:
        kind = self._kinds[draw(rng, self._kind_cdf)]
        about = "me" if rng.random() < 0.3 else PEOPLE[self._person(rng)]
        # Within a session the times spread over up to two hours, so pages sort by time.
        when = start + timedelta(minutes=int(rng.integers(0, 120)))
        return SyntheticMemory(
            id=f"mem_bench_{batch:07d}_{i:03d}", kind=kind, text=self._sentence(rng, kind),
            about=about, time=when,
        )

    def _person(self, rng: np.random.Generator) -> int:
        return draw(rng, self._people_cdf)

    def _sentence(self, rng: np.random.Generator, kind: MemoryKind) -> str:
        templates = TEMPLATES[kind]
        return self._fill(rng, templates[int(rng.integers(len(templates)))])

    def _fill(self, rng: np.random.Generator, template: str) -> str:
        used: set[str] = set()

        def pick(match: re.Match[str]) -> str:
            slot = match.group(1).rstrip("2")
            words = PEOPLE if slot in {"p", "q"} else SLOTS[slot]
            cdf = self._people_cdf if slot in {"p", "q"} else self._slot_cdfs[slot]
            word = words[draw(rng, cdf)]
            while word in used:  # "Sam prefers tea to tea" reads like a bug, not a note
                word = words[int(rng.integers(len(words)))]
            used.add(word)
            return word

        return _SLOT.sub(pick, template)

    def queries(self, count: int) -> list[str]:
        """`count` search queries about the corpus's people, places and things.

        Drawn uniformly rather than by Zipf weight, so they mix common and rare words.
        """
        rng = np.random.default_rng([self.seed, 2])
        out = []
        for _ in range(count):
            template = QUERY_TEMPLATES[int(rng.integers(len(QUERY_TEMPLATES)))]
            out.append(_SLOT.sub(lambda m: _uniform(rng, m.group(1)), template))
        return out

    def sample_days(self, count: int) -> list[str]:
        """`count` days (ISO) that hold memories, drawn with replacement."""
        rng = np.random.default_rng([self.seed, 3])
        days = self.days()
        return [days[int(i)].isoformat() for i in rng.integers(0, len(days), count)]

    def sample_kinds(self, count: int) -> list[str]:
        """`count` memory kinds for filtered timeline pages, drawn by frequency."""
        rng = np.random.default_rng([self.seed, 4])
        return [self._kinds[draw(rng, self._kind_cdf)].value for _ in range(count)]


def _uniform(rng: np.random.Generator, slot: str) -> str:
    words = PEOPLE if slot in {"p", "q"} else SLOTS[slot]
    return words[int(rng.integers(len(words)))]
