"""The reverie-jsonl format (docs/formats.md): what each line holds, how lines are read
from the ledger, and how a file is checked before anything is written.

One record shape serves export, import and the comparison with what a store already
holds, so a record read from the ledger and the same record read back from a file are
equal exactly when the two agree. Columns derived from others (timestamps, days, text
digests, the full-text and vector indexes, per-day counts) are not in the format; the
importer recomputes them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from reverie.core.errors import BadInput, InputFileError
from reverie.core.store.schema import SCHEMA_VERSION
from reverie.core.timeutil import day_of, parse_time, to_ts
from reverie.core.types import Actor, MemoryKind, MemoryStatus

FORMAT = "reverie-jsonl"
VERSION = 1
MAX_FILE_BYTES = 1024**3
PAGE = 500

Record = dict[str, Any]
Check = Callable[[Any], str | None]  # the problem with a value, or None when it is fine


def _id(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _time(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be an ISO-8601 time string"
    try:
        parse_time(value)
    except BadInput:
        return f"{value!r} is not an ISO-8601 time"
    return None


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _number(value: Any) -> str | None:
    # bool is an int in Python but not a number in this format.
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return None if ok else "must be a finite number"


def _count(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "must be a whole number, 0 or more"


def _ids(value: Any) -> str | None:
    if not isinstance(value, list) or any(_id(item) for item in value):
        return "must be a list of ids"
    return None if len(set(value)) == len(value) else "lists an id twice"


def _any(value: Any) -> str | None:
    return None


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _one_of(choices: Sequence[str]) -> Check:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


# Every line type, its fields in the order they are written, and how each is checked.
FIELDS: dict[str, dict[str, Check]] = {
    "source": {"id": _id, "kind": _text, "name": _text, "trust": _text, "added": _time},
    "import": {
        "source": _id, "path": _text, "file_sha256": _text, "at": _time,
        "episodes_added": _count,
    },
    "episode": {
        "id": _id, "source": _id, "locator": _text, "session": _optional(_text),
        "speaker": _text, "text": _text, "time": _time, "recorded": _time, "extracted": _flag,
    },
    "memory": {
        "id": _id, "kind": _one_of([k.value for k in MemoryKind]), "text": _text,
        "about": _text, "valid_from": _time, "valid_to": _optional(_time), "recorded": _time,
        "retired": _optional(_time), "status": _one_of([s.value for s in MemoryStatus]),
        "pinned": _flag, "user_edited": _flag, "confidence": _number, "trust": _text,
        "superseded_by": _optional(_id), "episodes": _ids,
        "review": _flag, "time_note": _optional(_text),
    },
    "batch": {
        "id": _id, "actor": _one_of([a.value for a in Actor]), "label": _text, "at": _time,
        "undone_by": _optional(_id),
    },
    "history": {
        "batch": _text, "memory": _id, "actor": _one_of([a.value for a in Actor]),
        "action": _text, "before": _any, "after": _any, "at": _time,
        "undone_by": _optional(_id),
    },
    "forgotten": {"source": _id, "locator": _text, "at": _time},
}
# Fields added after version 1 was first written: a file without them gets these values.
DEFAULTS: dict[str, dict[str, Any]] = {"memory": {"review": False, "time_note": None}}
TYPES = tuple(FIELDS)  # also the order in which a file lists, and an import writes, them


def header(schema: int) -> Record:
    """The first line of every reverie-jsonl file."""
    return {"format": FORMAT, "version": VERSION, "schema": schema}


def dump(record: Record) -> str:
    """One record as the line written for it: the same bytes for the same record."""
    return json.dumps(record, ensure_ascii=False) + "\n"


# ---- reading records from the ledger -------------------------------------------------

_SELECT = {
    "source": "SELECT id, kind, name, trust, added FROM sources",
    "import": "SELECT source_id, path, file_sha256, at, episodes_added FROM imports",
    "episode": "SELECT id, source_id, locator, session, speaker, text, time, recorded,"
    " extracted FROM episodes",
    "memory": "SELECT id, kind, text, about, valid_from, valid_to, recorded, retired, status,"
    " pinned, user_edited, confidence, trust, superseded_by, review, time_note FROM memories",
    "batch": "SELECT id, actor, label, at, undone_by FROM batches",
    "history": "SELECT batch, memory_id, actor, action, before, after, at, undone_by"
    " FROM history",
    "forgotten": "SELECT source_id, locator, at FROM forgotten",
}
# The order of export: the order things were stored in, so an import (which appends in
# file order) stores them in the same relative order and exports them the same way.
_ORDER = {
    "source": "id", "import": "id", "episode": "seq", "memory": "seq", "batch": "rowid",
    "history": "seq", "forgotten": "source_id, locator",
}


def ledger_records(conn: Any, kind: str) -> Iterator[Record]:
    """Every stored record of one type, in export order, read a page at a time."""
    cursor = conn.execute(f"{_SELECT[kind]} ORDER BY {_ORDER[kind]}")
    while rows := cursor.fetchmany(PAGE):
        yield from _to_records(conn, kind, rows)


def records_where(conn: Any, kind: str, column: str, values: Sequence[Any]) -> list[Record]:
    """Stored records of one type whose `column` is one of `values`, in export order."""
    found: list[Record] = []
    for start in range(0, len(values), PAGE):
        chunk = list(values[start : start + PAGE])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"{_SELECT[kind]} WHERE {column} IN ({marks}) ORDER BY {_ORDER[kind]}", chunk
        ).fetchall()
        found.extend(_to_records(conn, kind, rows))
    return found


def _to_records(conn: Any, kind: str, rows: list[Any]) -> list[Record]:
    if kind != "memory":
        return [_ROW_TO_RECORD[kind](row) for row in rows]
    cited = _provenance(conn, [row["id"] for row in rows])
    return [_memory(row, cited.get(row["id"], [])) for row in rows]


def _provenance(conn: Any, memory_ids: list[str]) -> dict[str, list[str]]:
    if not memory_ids:
        return {}
    marks = ",".join("?" * len(memory_ids))
    rows = conn.execute(
        "SELECT memory_id, episode_id FROM memory_sources"
        f" WHERE memory_id IN ({marks}) ORDER BY memory_id, episode_id",
        memory_ids,
    ).fetchall()
    cited: dict[str, list[str]] = {}
    for row in rows:
        cited.setdefault(row["memory_id"], []).append(row["episode_id"])
    return cited


def _memory(row: Any, episodes: list[str]) -> Record:
    return {
        "id": row["id"], "kind": row["kind"], "text": row["text"], "about": row["about"],
        "valid_from": row["valid_from"], "valid_to": row["valid_to"],
        "recorded": row["recorded"], "retired": row["retired"], "status": row["status"],
        "pinned": bool(row["pinned"]), "user_edited": bool(row["user_edited"]),
        "confidence": float(row["confidence"]), "trust": row["trust"],
        "superseded_by": row["superseded_by"], "episodes": episodes,
        "review": bool(row["review"]), "time_note": row["time_note"],
    }


def json_value(stored: str | None) -> Any:
    """A history before/after text as written to a file: its JSON value when storing that
    value again (`json_text`) gives back the very same text, else the text itself."""
    if stored is None:
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        return stored
    return value if isinstance(value, dict | list) and json_text(value) == stored else stored


def json_text(value: Any) -> str | None:
    """The text stored for a before/after value read from a file (see `json_value`)."""
    if value is None or isinstance(value, str):
        return value
    # The history's own canonical form (store/edits.py), so an imported row reads the same.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


_ROW_TO_RECORD: dict[str, Callable[[Any], Record]] = {
    "source": lambda r: {
        "id": r["id"], "kind": r["kind"], "name": r["name"], "trust": r["trust"],
        "added": r["added"],
    },
    "import": lambda r: {
        "source": r["source_id"], "path": r["path"], "file_sha256": r["file_sha256"],
        "at": r["at"], "episodes_added": int(r["episodes_added"]),
    },
    "episode": lambda r: {
        "id": r["id"], "source": r["source_id"], "locator": r["locator"],
        "session": r["session"], "speaker": r["speaker"], "text": r["text"],
        "time": r["time"], "recorded": r["recorded"], "extracted": bool(r["extracted"]),
    },
    "batch": lambda r: {
        "id": r["id"], "actor": r["actor"], "label": r["label"], "at": r["at"],
        "undone_by": r["undone_by"],
    },
    "history": lambda r: {
        "batch": r["batch"], "memory": r["memory_id"], "actor": r["actor"],
        "action": r["action"], "before": json_value(r["before"]),
        "after": json_value(r["after"]), "at": r["at"], "undone_by": r["undone_by"],
    },
    "forgotten": lambda r: {"source": r["source_id"], "locator": r["locator"], "at": r["at"]},
}


# ---- reading and checking a file -----------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One valid record of a file and the line number it stood on."""

    number: int
    type: str
    record: Record  # the fields of FIELDS[type], without "type"


@dataclass
class ExchangeFile:
    """A reverie-jsonl file that passed every check, its records grouped by type."""

    path: Path
    schema: int
    lines: dict[str, list[Line]] = field(default_factory=lambda: {t: [] for t in TYPES})


def read_exchange_file(path: Path) -> ExchangeFile:
    """Read and check a whole file; raise `InputFileError` listing every bad line."""
    text = _read_text(path)
    # Split on "\n" only: str.splitlines would also split inside a text holding U+2028.
    raw_lines = [line.removesuffix("\r") for line in text.split("\n")]
    problems: list[tuple[int, str]] = []
    schema = _check_header(raw_lines[0], problems)
    if problems:  # the lines of another format or version cannot be judged by this one
        raise InputFileError(str(path), problems)
    document = ExchangeFile(path, schema)
    for number, raw in enumerate(raw_lines[1:], start=2):
        if not raw.strip():
            continue
        try:
            line = _parse_line(number, raw)
        except BadInput as exc:
            problems.append((number, str(exc)))
            continue
        document.lines[line.type].append(line)
    problems.extend(_repeats(document))
    if problems:
        raise InputFileError(str(path), sorted(problems))
    return document


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadInput(f"{path}: {size} bytes is over the {MAX_FILE_BYTES} byte limit")
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _check_header(raw: str, problems: list[tuple[int, str]]) -> int:
    try:
        first = json.loads(raw)
    except ValueError:
        first = None
    if not isinstance(first, dict) or first.get("format") != FORMAT:
        problems.append((1, f"not a {FORMAT} file: the first line must be its header"))
        return 0
    schema = first.get("schema")
    if first.get("version") != VERSION:
        problems.append((1, f"{FORMAT} version {first.get('version')!r}; this Reverie reads "
                            f"version {VERSION}"))
    if not isinstance(schema, int) or _count(schema) is not None:
        problems.append((1, "the header's schema must be a whole number"))
        return 0
    if schema > SCHEMA_VERSION:
        problems.append((1, f"written by a newer Reverie (schema {schema}, this one knows "
                            f"{SCHEMA_VERSION}); update Reverie to import it"))
    return int(schema)


def is_exchange_file(path: Path) -> bool:
    """True when the first line of `path` is a reverie-jsonl header."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(64 * 1024)
        parsed = json.loads(first.decode("utf-8-sig"))
    except (OSError, ValueError):
        return False
    return isinstance(parsed, dict) and parsed.get("format") == FORMAT


def _parse_line(number: int, raw: str) -> Line:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise BadInput(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise BadInput("not a JSON object")
    kind = value.pop("type", None)
    if kind not in FIELDS:
        raise BadInput(f"unknown type {kind!r}; expected one of {', '.join(TYPES)}")
    fields = FIELDS[kind]
    value = {**DEFAULTS.get(kind, {}), **value}
    missing = [name for name in fields if name not in value]
    unknown = sorted(set(value) - set(fields))
    if missing or unknown:
        parts = [f"missing field {n!r}" for n in missing]
        parts += [f"unknown field {n!r}" for n in unknown]
        raise BadInput(f"{kind}: " + ", ".join(parts))
    for name, check in fields.items():
        problem = check(value[name])
        if problem:
            raise BadInput(f"{kind} field {name!r} {problem}")
    return Line(number, kind, {name: value[name] for name in fields})


def _repeats(document: ExchangeFile) -> list[tuple[int, str]]:
    """Lines that repeat another's identity (an id, or a turn's place in its source)."""
    by_id, by_place = itemgetter("id"), itemgetter("source", "locator")
    identities = (
        ("source", "source", by_id), ("episode", "episode", by_id),
        ("episode", "turn place", by_place), ("memory", "memory", by_id),
        ("batch", "batch", by_id), ("forgotten", "tombstone", by_place),
    )
    problems: list[tuple[int, str]] = []
    for kind, what, key in identities:
        problems.extend(_repeated(document.lines[kind], key, what))
    return problems


def _repeated(lines: list[Line], key: Callable[[Record], Any], what: str) -> list[tuple[int, str]]:
    seen: dict[Any, int] = {}
    problems: list[tuple[int, str]] = []
    for line in lines:
        first = seen.setdefault(key(line.record), line.number)
        if first != line.number:
            problems.append((line.number, f"{what} repeats line {first}"))
    return problems


# ---- writing records to the ledger ---------------------------------------------------


def insert_record(conn: Any, kind: str, record: Record) -> int:
    """Write one checked record as it is, its derived columns computed from it; return
    the new row's rowid (an episode's or memory's seq).

    The full-text and vector indexes are fed by the caller, which knows the vectors.
    """
    return int(_INSERT[kind](conn, record).lastrowid)


def _insert_episode(conn: Any, r: Record) -> Any:
    when = parse_time(r["time"])
    return conn.execute(
        "INSERT INTO episodes (id, source_id, locator, session, speaker, text, time, ts, day,"
        " text_sha256, recorded, extracted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            r["id"], r["source"], r["locator"], r["session"], r["speaker"], r["text"],
            r["time"], to_ts(when), day_of(when), turn_digest(r["speaker"], r["text"]),
            r["recorded"], int(r["extracted"]),
        ),
    )


def turn_digest(speaker: str, text: str) -> str:
    """The digest a turn is stored with, as the chat importer and chat sessions make it
    (it is how a re-imported turn is recognised)."""
    return hashlib.sha256(f"{speaker}\0{text}".encode()).hexdigest()


def _insert_memory(conn: Any, r: Record) -> Any:
    valid_from, recorded = parse_time(r["valid_from"]), parse_time(r["recorded"])
    cursor = conn.execute(
        "INSERT INTO memories (id, kind, text, about, valid_from, valid_from_ts, valid_to, day,"
        " recorded, recorded_ts, retired, status, pinned, user_edited, confidence, trust,"
        " superseded_by, review, time_note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            r["id"], r["kind"], r["text"], r["about"], r["valid_from"], to_ts(valid_from),
            r["valid_to"], day_of(valid_from), r["recorded"], to_ts(recorded), r["retired"],
            r["status"], int(r["pinned"]), int(r["user_edited"]), r["confidence"], r["trust"],
            r["superseded_by"], int(r["review"]), r["time_note"],
        ),
    )
    conn.executemany(
        "INSERT INTO memory_sources (memory_id, episode_id) VALUES (?, ?)",
        [(r["id"], episode_id) for episode_id in r["episodes"]],
    )
    return cursor


def _insert_history(conn: Any, r: Record) -> Any:
    return conn.execute(
        "INSERT INTO history (batch, memory_id, actor, action, before, after, at, undone_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            r["batch"], r["memory"], r["actor"], r["action"], json_text(r["before"]),
            json_text(r["after"]), r["at"], r["undone_by"],
        ),
    )


# Each returns its cursor, whose lastrowid is the new row's.
_INSERT: dict[str, Callable[[Any, Record], Any]] = {
    "source": lambda conn, r: conn.execute(
        "INSERT INTO sources (id, kind, name, trust, added) VALUES (?, ?, ?, ?, ?)",
        (r["id"], r["kind"], r["name"], r["trust"], r["added"]),
    ),
    "import": lambda conn, r: conn.execute(
        "INSERT INTO imports (source_id, path, file_sha256, at, episodes_added)"
        " VALUES (?, ?, ?, ?, ?)",
        (r["source"], r["path"], r["file_sha256"], r["at"], r["episodes_added"]),
    ),
    "episode": _insert_episode,
    "memory": _insert_memory,
    "batch": lambda conn, r: conn.execute(
        "INSERT INTO batches (id, actor, label, at, undone_by) VALUES (?, ?, ?, ?, ?)",
        (r["id"], r["actor"], r["label"], r["at"], r["undone_by"]),
    ),
    "history": _insert_history,
    "forgotten": lambda conn, r: conn.execute(
        "INSERT INTO forgotten (source_id, locator, at) VALUES (?, ?, ?)",
        (r["source"], r["locator"], r["at"]),
    ),
}
