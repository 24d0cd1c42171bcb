"""The ledger's schema, versioned from the first release.

Each migration is a script run once, in order, inside one transaction; the version
reached is kept in `PRAGMA user_version`. A ledger written by a newer Reverie is
refused rather than guessed at.
"""

from __future__ import annotations

from typing import Any

from reverie.core.errors import StoreError

# Every person's mentions per day, from the memories and links as they stand: what the
# triggers of migration 7 keep up to date (tests compare the two after every kind of edit).
PERSON_DAYS_BACKFILL = """
    INSERT INTO person_days (key, day, n)
        SELECT key, day, COUNT(*) FROM (
            SELECT lower(about) AS key, day, id FROM memories
            WHERE status IN ('active', 'superseded')
            UNION
            SELECT lower(e.name), m.day, m.id FROM memory_entities me, entities e, memories m
            WHERE e.id = me.entity_id AND m.id = me.memory_id AND e.kind = 'person'
              AND m.status IN ('active', 'superseded')
        ) GROUP BY key, day
"""

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
    # 2: undoable batches, per-day counts kept by triggers (the timeline reads them at
    # any size), tombstones so a forgotten turn is never imported again, a small
    # key-value table, indexes for the timeline's filters, and FTS5 secure-delete so a
    # deleted row's words leave the full-text index at once. FTS rows get fixed rowids
    # (an episode's seq, a memory's -seq) so one is found without scanning the table.
    """
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        actor TEXT NOT NULL,
        label TEXT NOT NULL,
        at TEXT NOT NULL,
        undone_by TEXT
    );
    INSERT INTO batches (id, actor, label, at)
        SELECT batch, MIN(actor), 'extraction', MIN(at) FROM history GROUP BY batch;
    ALTER TABLE history ADD COLUMN undone_by TEXT;
    CREATE INDEX history_by_batch ON history (batch, seq);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE forgotten (
        source_id TEXT NOT NULL,
        locator TEXT NOT NULL,  -- '' stands for the whole source
        at TEXT NOT NULL,
        PRIMARY KEY (source_id, locator)
    ) WITHOUT ROWID;
    CREATE TABLE day_counts (
        day TEXT PRIMARY KEY,
        episodes INTEGER NOT NULL DEFAULT 0,
        memories INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    INSERT INTO day_counts (day, episodes, memories)
        SELECT day, SUM(e), SUM(m) FROM (
            SELECT day, 1 AS e, 0 AS m FROM episodes
            UNION ALL SELECT day, 0, 1 FROM memories WHERE status IN ('active', 'superseded')
        ) GROUP BY day;
    CREATE TRIGGER episodes_count_insert AFTER INSERT ON episodes BEGIN
        INSERT INTO day_counts (day, episodes, memories) VALUES (NEW.day, 1, 0)
            ON CONFLICT (day) DO UPDATE SET episodes = episodes + 1;
    END;
    CREATE TRIGGER episodes_count_delete AFTER DELETE ON episodes BEGIN
        UPDATE day_counts SET episodes = episodes - 1 WHERE day = OLD.day;
    END;
    CREATE TRIGGER memories_count_insert AFTER INSERT ON memories
    WHEN NEW.status IN ('active', 'superseded') BEGIN
        INSERT INTO day_counts (day, episodes, memories) VALUES (NEW.day, 0, 1)
            ON CONFLICT (day) DO UPDATE SET memories = memories + 1;
    END;
    CREATE TRIGGER memories_count_delete AFTER DELETE ON memories
    WHEN OLD.status IN ('active', 'superseded') BEGIN
        UPDATE day_counts SET memories = memories - 1 WHERE day = OLD.day;
    END;
    CREATE TRIGGER memories_count_update AFTER UPDATE OF status, day ON memories BEGIN
        UPDATE day_counts SET memories = memories - 1
            WHERE day = OLD.day AND OLD.status IN ('active', 'superseded');
        INSERT INTO day_counts (day, episodes, memories)
            SELECT NEW.day, 0, 1 WHERE NEW.status IN ('active', 'superseded')
            ON CONFLICT (day) DO UPDATE SET memories = memories + 1;
    END;
    CREATE INDEX day_counts_nonempty ON day_counts (day) WHERE episodes + memories > 0;
    CREATE INDEX episodes_by_source ON episodes (source_id, day, ts);
    CREATE INDEX memories_by_kind ON memories (kind, day, valid_from_ts);
    CREATE INDEX memories_by_about ON memories (about COLLATE NOCASE, day, valid_from_ts);
    CREATE INDEX memories_by_status ON memories (status, day);
    INSERT INTO fts (fts, rank) VALUES ('secure-delete', 1);
    DELETE FROM fts;
    INSERT INTO fts (rowid, text, item_id, kind)
        SELECT seq, speaker || ': ' || text, id, 'episode' FROM episodes;
    INSERT INTO fts (rowid, text, item_id, kind) SELECT -seq, text, id, 'memory' FROM memories;
    """,
    # 3: capture. Watched folders and exports with their patterns; one row per file seen
    # there (its size, mtime and hash for the catch-up scan, its state and the reason it
    # was skipped); which sources each file fed, so a deleted file takes only its own
    # episodes with it; and a trust level per source that extraction passes on.
    """
    CREATE TABLE watched (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        is_folder INTEGER NOT NULL,
        include TEXT NOT NULL DEFAULT '[]',
        exclude TEXT NOT NULL DEFAULT '[]',
        paused INTEGER NOT NULL DEFAULT 0,
        added TEXT NOT NULL,
        last_scan TEXT,
        mode TEXT,
        error TEXT
    );
    CREATE TABLE files (
        path TEXT PRIMARY KEY,
        watch_id INTEGER REFERENCES watched(id),
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT,
        format TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        pieces INTEGER NOT NULL DEFAULT 0,
        checked TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX files_by_watch ON files (watch_id, status);
    CREATE TABLE file_sources (
        path TEXT NOT NULL,
        source_id TEXT NOT NULL,
        PRIMARY KEY (path, source_id)
    ) WITHOUT ROWID;
    CREATE INDEX file_sources_by_source ON file_sources (source_id);
    """,
    # 4: extraction and consolidation. A memory may wait in the review inbox and keeps
    # how its time was worked out; recalls feed the fade score; an episode counts failed
    # extraction attempts (after two it waits for a later run). People and places are
    # entities memories link to; summaries and merges link memories to memories. Each
    # consolidation run is journaled change by change (ids and figures, never text), so
    # a killed run resumes without applying anything twice.
    """
    ALTER TABLE memories ADD COLUMN review INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE memories ADD COLUMN time_note TEXT;
    ALTER TABLE memories ADD COLUMN recalls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE memories ADD COLUMN last_recalled TEXT;
    CREATE INDEX memories_in_review ON memories (review) WHERE review = 1;
    ALTER TABLE episodes ADD COLUMN extract_attempts INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE entities (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('person', 'place')),
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        UNIQUE (kind, key)
    );
    CREATE TABLE memory_entities (
        memory_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        PRIMARY KEY (memory_id, entity_id)
    ) WITHOUT ROWID;
    CREATE INDEX memory_entities_by_entity ON memory_entities (entity_id);
    CREATE TABLE memory_links (
        from_id TEXT NOT NULL,
        relation TEXT NOT NULL,
        to_id TEXT NOT NULL,
        PRIMARY KEY (from_id, relation, to_id)
    ) WITHOUT ROWID;
    CREATE INDEX memory_links_to ON memory_links (to_id, relation);
    CREATE TABLE consolidation_runs (
        id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        state TEXT NOT NULL,
        tokens INTEGER NOT NULL DEFAULT 0,
        figures TEXT
    );
    CREATE TABLE consolidation_changes (
        run_id TEXT NOT NULL REFERENCES consolidation_runs(id),
        seq INTEGER NOT NULL,
        key TEXT NOT NULL UNIQUE,
        op TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        batch TEXT,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX consolidation_changes_by_state ON consolidation_changes (state);
    """,
    # 5: retrieval. A turn is often understood only with the one before it ("Took a
    # short trip last week" answers "where did you go?"), so each episode's FTS row also
    # holds the previous episode of its source as a second, lower-weighted column. Forget
    # rewrites the follower's row (records.remove_episode), so no forgotten text stays
    # there. People named in a query are found among speakers by an index skip-scan.
    """
    DROP TABLE fts;
    CREATE VIRTUAL TABLE fts USING fts5(
        text, context, item_id UNINDEXED, kind UNINDEXED,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO fts (fts, rank) VALUES ('secure-delete', 1);
    CREATE INDEX episodes_in_source_order ON episodes (source_id, seq);
    CREATE INDEX episodes_by_speaker ON episodes (speaker);
    INSERT INTO fts (rowid, text, context, item_id, kind)
        SELECT e.seq, e.speaker || ': ' || e.text,
            COALESCE((SELECT p.text FROM episodes p WHERE p.source_id = e.source_id
                      AND p.seq < e.seq ORDER BY p.seq DESC LIMIT 1), ''),
            e.id, 'episode'
        FROM episodes e;
    INSERT INTO fts (rowid, text, context, item_id, kind)
        SELECT -seq, text, '', id, 'memory' FROM memories;
    """,
    # 6: the timeline browser. A memory's detail lists the memories it replaced, found by
    # `superseded_by`; the timeline's filters list the days holding pinned memories or
    # memories of one kind without reading every memory.
    """
    CREATE INDEX memories_superseded_by ON memories (superseded_by)
        WHERE superseded_by IS NOT NULL;
    CREATE INDEX memories_pinned ON memories (day) WHERE pinned = 1;
    CREATE INDEX memories_by_kind_day ON memories (kind, day);
    """,
    # 7: people. How many memories mention each person, day by day, kept by triggers
    # (as day_counts is), so the People screen reads a person's figures from a few
    # hundred rows at any size instead of every memory that mentions them. A memory
    # mentions a person when it is about them or links their entity, exactly as the
    # timeline's person filter reads it: names compared as SQLite's NOCASE compares
    # them (`lower()`, ASCII), so a memory about Maya that also links Maya counts once.
    # Keys are `lower(name)`; the owner and `summary` have rows too, and are skipped
    # when read.
    """
    CREATE TABLE person_days (
        key TEXT NOT NULL,
        day TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (key, day)
    ) WITHOUT ROWID;
    """ + PERSON_DAYS_BACKFILL + """;
    CREATE TRIGGER memories_people_insert AFTER INSERT ON memories
    WHEN NEW.status IN ('active', 'superseded') BEGIN
        INSERT INTO person_days (key, day, n) VALUES (lower(NEW.about), NEW.day, 1)
            ON CONFLICT (key, day) DO UPDATE SET n = n + 1;
        INSERT INTO person_days (key, day, n)
            SELECT lower(e.name), NEW.day, 1 FROM memory_entities me, entities e
            WHERE me.memory_id = NEW.id AND e.id = me.entity_id AND e.kind = 'person'
              AND lower(e.name) != lower(NEW.about)
            ON CONFLICT (key, day) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER memories_people_delete AFTER DELETE ON memories
    WHEN OLD.status IN ('active', 'superseded') BEGIN
        UPDATE person_days SET n = n - 1 WHERE key = lower(OLD.about) AND day = OLD.day;
        UPDATE person_days SET n = n - 1 WHERE day = OLD.day AND key IN (
            SELECT lower(e.name) FROM memory_entities me, entities e
            WHERE me.memory_id = OLD.id AND e.id = me.entity_id AND e.kind = 'person'
              AND lower(e.name) != lower(OLD.about));
    END;
    CREATE TRIGGER memories_people_update AFTER UPDATE OF about, status, day ON memories
    BEGIN
        UPDATE person_days SET n = n - 1 WHERE key = lower(OLD.about) AND day = OLD.day
            AND OLD.status IN ('active', 'superseded');
        UPDATE person_days SET n = n - 1 WHERE day = OLD.day
            AND OLD.status IN ('active', 'superseded') AND key IN (
            SELECT lower(e.name) FROM memory_entities me, entities e
            WHERE me.memory_id = OLD.id AND e.id = me.entity_id AND e.kind = 'person'
              AND lower(e.name) != lower(OLD.about));
        INSERT INTO person_days (key, day, n)
            SELECT lower(NEW.about), NEW.day, 1 WHERE NEW.status IN ('active', 'superseded')
            ON CONFLICT (key, day) DO UPDATE SET n = n + 1;
        INSERT INTO person_days (key, day, n)
            SELECT lower(e.name), NEW.day, 1 FROM memory_entities me, entities e
            WHERE me.memory_id = NEW.id AND e.id = me.entity_id AND e.kind = 'person'
              AND lower(e.name) != lower(NEW.about)
              AND NEW.status IN ('active', 'superseded')
            ON CONFLICT (key, day) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER memory_entities_people_insert AFTER INSERT ON memory_entities BEGIN
        INSERT INTO person_days (key, day, n)
            SELECT lower(e.name), m.day, 1 FROM memories m, entities e
            WHERE m.id = NEW.memory_id AND e.id = NEW.entity_id AND e.kind = 'person'
              AND m.status IN ('active', 'superseded') AND lower(e.name) != lower(m.about)
            ON CONFLICT (key, day) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER memory_entities_people_delete AFTER DELETE ON memory_entities BEGIN
        UPDATE person_days SET n = n - 1 WHERE (key, day) IN (
            SELECT lower(e.name), m.day FROM memories m, entities e
            WHERE m.id = OLD.memory_id AND e.id = OLD.entity_id AND e.kind = 'person'
              AND m.status IN ('active', 'superseded') AND lower(e.name) != lower(m.about));
    END;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Any) -> int:
    """Bring the ledger on `conn` to `SCHEMA_VERSION`; return the version found."""
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"this data directory was written by a newer Reverie (schema {found}, "
            f"this one knows {SCHEMA_VERSION}); update Reverie to open it"
        )
    for version in range(found, SCHEMA_VERSION):
        try:
            # executescript runs the whole script, triggers included, as written.
            conn.executescript(
                f"BEGIN IMMEDIATE;{MIGRATIONS[version]};PRAGMA user_version = {version + 1};"
                "COMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return found


def schema_version(conn: Any) -> int:
    """The schema version the ledger on `conn` is at."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
