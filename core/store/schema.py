"""The ledger's schema, versioned from the first release.

Each migration is a script run once, in order, inside one transaction; the version
reached is kept in `PRAGMA user_version`. A ledger written by a newer Reverie is
refused rather than guessed at.
"""

from __future__ import annotations

from typing import Any

from reverie.core.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    # 1: sources, episodes, memories with provenance, history, stored vectors, the
    # pending-index outbox and the full-text index.
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        trust TEXT NOT NULL,
        added TEXT NOT NULL
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL REFERENCES sources(id),
        path TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        at TEXT NOT NULL,
        episodes_added INTEGER NOT NULL
    );
    CREATE TABLE episodes (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        source_id TEXT NOT NULL REFERENCES sources(id),
        locator TEXT NOT NULL,
        session TEXT,
        speaker TEXT NOT NULL,
        text TEXT NOT NULL,
        time TEXT NOT NULL,
        ts REAL NOT NULL,
        day TEXT NOT NULL,
        text_sha256 TEXT NOT NULL,
        recorded TEXT NOT NULL,
        extracted INTEGER NOT NULL DEFAULT 0,
        UNIQUE (source_id, locator)
    );
    CREATE INDEX episodes_by_day ON episodes (day, ts);
    CREATE INDEX episodes_unextracted ON episodes (extracted, source_id, ts);
    CREATE TABLE memories (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        about TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_from_ts REAL NOT NULL,
        valid_to TEXT,
        day TEXT NOT NULL,
        recorded TEXT NOT NULL,
        recorded_ts REAL NOT NULL,
        retired TEXT,
        status TEXT NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        user_edited INTEGER NOT NULL DEFAULT 0,
        confidence REAL NOT NULL,
        trust TEXT NOT NULL,
        superseded_by TEXT
    );
    CREATE INDEX memories_by_day ON memories (day, valid_from_ts);
    CREATE TABLE memory_sources (
        memory_id TEXT NOT NULL REFERENCES memories(id),
        episode_id TEXT NOT NULL REFERENCES episodes(id),
        PRIMARY KEY (memory_id, episode_id)
    );
    CREATE INDEX memory_sources_by_episode ON memory_sources (episode_id);
    CREATE TABLE history (
        seq INTEGER PRIMARY KEY,
        batch TEXT NOT NULL,
        memory_id TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT,
        after TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX history_by_memory ON history (memory_id, seq);
    CREATE TABLE vectors (
        item_id TEXT NOT NULL,
        model TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (item_id, model)
    );
    CREATE TABLE index_outbox (
        seq INTEGER PRIMARY KEY,
        item_id TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('upsert', 'delete'))
    );
    CREATE VIRTUAL TABLE fts USING fts5(
        text, item_id UNINDEXED, kind UNINDEXED,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Any) -> int:
    """Bring the ledger on `conn` to `SCHEMA_VERSION`; return the version found."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"this data directory was written by a newer Reverie (schema {found}, "
            f"this one knows {SCHEMA_VERSION}); update Reverie to open it"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


def _statements(script: str) -> list[str]:
    # Scripts hold no semicolons inside literals, so a split is exact here.
    return [part.strip() for part in script.split(";") if part.strip()]
