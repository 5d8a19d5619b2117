/**
 * Versioned migrations of the SQLite schema. Append only: a released migration is never edited,
 * a change is a new entry with the next version (and `STORE_SCHEMA_VERSION` moves with it).
 * `test/fixtures/store/v<N>.db` files written by older versions must keep opening.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

const runStatuses = "'created', 'running', 'waiting', 'completed', 'partial', 'failed', 'escalated'";

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "runs, steps, signals, approvals, append-only journal",
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        profile_name TEXT NOT NULL,
        profile_version TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN (${runStatuses})),
        owner TEXT,
        lease_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        request TEXT NOT NULL,
        v INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX runs_by_status ON runs (status, created_at);
      CREATE INDEX runs_by_created ON runs (created_at);

      CREATE TABLE steps (
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('started', 'completed', 'failed')),
        result TEXT,
        error TEXT,
        idempotent INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        v INTEGER NOT NULL,
        PRIMARY KEY (run_id, name, attempt)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE signals (
        id INTEGER PRIMARY KEY,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        consumed_by TEXT,
        consumed_at INTEGER,
        v INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX signals_by_topic ON signals (topic, consumed_by, id);

      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        worker TEXT NOT NULL,
        reason TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        decided_by TEXT,
        decided_at INTEGER,
        decision_reason TEXT,
        edit TEXT,
        v INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX approvals_by_status ON approvals (status, created_at);
      CREATE INDEX approvals_by_run ON approvals (run_id);

      CREATE TABLE journal (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        v INTEGER NOT NULL,
        type TEXT NOT NULL,
        at INTEGER NOT NULL,
        key TEXT,
        event TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE UNIQUE INDEX journal_by_key ON journal (run_id, key) WHERE key IS NOT NULL;
      -- Appends only: the next seq of the run, a key not used before. This also stops INSERT OR REPLACE,
      -- whose implicit delete would not fire the DELETE trigger.
      CREATE TRIGGER journal_appends_only BEFORE INSERT ON journal
      WHEN NEW.seq <> (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = NEW.run_id)
        OR (NEW.key IS NOT NULL AND EXISTS (SELECT 1 FROM journal WHERE run_id = NEW.run_id AND key = NEW.key))
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: an insert must take the next seq of its run and a new key'); END;
      CREATE TRIGGER journal_refuses_update BEFORE UPDATE ON journal
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: UPDATE refused'); END;
      CREATE TRIGGER journal_refuses_delete BEFORE DELETE ON journal
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: DELETE refused'); END;
    `,
  },
  {
    version: 2,
    description: "audit: hash chain over every journal entry, signed checkpoints",
    sql: `
      -- One row per journal entry, in global append order: hash = SHA-256(prev hash, canonical entry).
      CREATE TABLE audit_chain (
        gseq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (run_id, seq)
      ) STRICT;
      CREATE TRIGGER audit_chain_appends_only BEFORE INSERT ON audit_chain
      WHEN NEW.gseq <> (SELECT COALESCE(MAX(gseq), 0) + 1 FROM audit_chain)
      BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
      CREATE TRIGGER audit_chain_refuses_update BEFORE UPDATE ON audit_chain
      BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only: UPDATE refused'); END;
      CREATE TRIGGER audit_chain_refuses_delete BEFORE DELETE ON audit_chain
      BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only: DELETE refused'); END;

      -- Ed25519-signed (size, head hash) of the chain, every N entries or T seconds.
      CREATE TABLE audit_checkpoints (
        id INTEGER PRIMARY KEY,
        size INTEGER NOT NULL,
        head TEXT NOT NULL,
        at INTEGER NOT NULL,
        public_key TEXT NOT NULL,
        signature TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER audit_checkpoints_refuse_update BEFORE UPDATE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
      CREATE TRIGGER audit_checkpoints_refuse_delete BEFORE DELETE ON audit_checkpoints
      BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    `,
  },
  {
    version: 3,
    description: "journal: one table in append order, each entry with its link in the audit chain",
    sql: `
      -- Why: the journal was keyed by (run id, seq), so appends of concurrent runs landed all over the
      -- B-tree, and every entry was written twice (journal row + audit_chain row with its own index).
      -- Now an entry is one row appended at the end; gseq is its position in the hash chain. Entries
      -- journaled before the chain existed (schema 1) keep negative positions, outside the chain.
      CREATE TABLE journal_v3 (
        gseq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        v INTEGER NOT NULL,
        type TEXT NOT NULL,
        at INTEGER NOT NULL,
        key TEXT,
        event TEXT NOT NULL,
        prev TEXT,
        hash TEXT,
        CHECK ((gseq > 0) = (hash IS NOT NULL) AND (prev IS NULL) = (hash IS NULL))
      ) STRICT;

      INSERT INTO journal_v3 (gseq, run_id, seq, v, type, at, key, event, prev, hash)
        SELECT c.gseq, c.run_id, c.seq, COALESCE(j.v, 0), COALESCE(j.type, ''), COALESCE(j.at, 0), j.key,
               COALESCE(j.event, ''), c.prev, c.hash
        FROM audit_chain c LEFT JOIN journal j ON j.run_id = c.run_id AND j.seq = c.seq;
      -- (A chain link whose entry was already deleted keeps its place with an empty entry: verify says so.)
      INSERT INTO journal_v3 (gseq, run_id, seq, v, type, at, key, event)
        SELECT ROW_NUMBER() OVER (ORDER BY j.at, j.run_id, j.seq) - 1 - (
                 SELECT COUNT(*) FROM journal u
                 WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.run_id = u.run_id AND c.seq = u.seq)),
               j.run_id, j.seq, j.v, j.type, j.at, j.key, j.event
        FROM journal j
        WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.run_id = j.run_id AND c.seq = j.seq);

      DROP TRIGGER journal_appends_only;
      DROP TRIGGER journal_refuses_update;
      DROP TRIGGER journal_refuses_delete;
      DROP TRIGGER audit_chain_appends_only;
      DROP TRIGGER audit_chain_refuses_update;
      DROP TRIGGER audit_chain_refuses_delete;
      DROP TABLE journal;
      DROP TABLE audit_chain;
      ALTER TABLE journal_v3 RENAME TO journal;

      CREATE UNIQUE INDEX journal_by_run ON journal (run_id, seq);
      CREATE UNIQUE INDEX journal_by_key ON journal (run_id, key) WHERE key IS NOT NULL;
      -- Appends only: the next position in the chain, the next seq of the run, a key not used before.
      -- This also stops INSERT OR REPLACE, whose implicit delete would not fire the DELETE trigger.
      CREATE TRIGGER journal_appends_only BEFORE INSERT ON journal
      WHEN NEW.gseq <> (SELECT MAX(COALESCE(MAX(gseq), 0), 0) + 1 FROM journal)
        OR NEW.seq <> (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = NEW.run_id)
        OR (NEW.key IS NOT NULL AND EXISTS (SELECT 1 FROM journal WHERE run_id = NEW.run_id AND key = NEW.key))
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: an insert must take the next chain position, the next seq of its run and a new key'); END;
      CREATE TRIGGER journal_refuses_update BEFORE UPDATE ON journal
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: UPDATE refused'); END;
      CREATE TRIGGER journal_refuses_delete BEFORE DELETE ON journal
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: DELETE refused'); END;
    `,
  },
  {
    version: 4,
    description:
      "journal: a row holds one run's consecutive entries (a batch) as one link of the audit chain",
    sql: `
      -- Why: one row (with two index entries and an insert trigger) per event cost ~10 µs an event, most of
      -- a durable run's journal time. A commit group now writes one row per run: entries seq..seq+n-1 at
      -- chain positions gseq..gseq+n-1, n > 1 as a JSON array of the entries' JSON texts, hashed as
      -- one link. A row with n = 1 is exactly a schema 3 row (its event, its key, the same hash).
      CREATE TABLE journal_v4 (
        gseq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        n INTEGER NOT NULL CHECK (n >= 1),
        v INTEGER NOT NULL,
        type TEXT,
        at INTEGER NOT NULL,
        key TEXT,
        keys TEXT,
        event TEXT NOT NULL,
        prev TEXT,
        hash TEXT,
        CHECK ((gseq > 0) = (hash IS NOT NULL) AND (prev IS NULL) = (hash IS NULL)),
        CHECK ((n = 1) = (type IS NOT NULL) AND (n = 1 OR (key IS NULL AND gseq > 0)) AND (n > 1 OR keys IS NULL))
      ) STRICT;
      INSERT INTO journal_v4 (gseq, run_id, seq, n, v, type, at, key, keys, event, prev, hash)
        SELECT gseq, run_id, seq, 1, v, type, at, key, NULL, event, prev, hash FROM journal;

      DROP TRIGGER journal_appends_only;
      DROP TRIGGER journal_refuses_update;
      DROP TRIGGER journal_refuses_delete;
      DROP TABLE journal;
      ALTER TABLE journal_v4 RENAME TO journal;
      CREATE UNIQUE INDEX journal_by_run ON journal (run_id, seq);

      -- Appends only: the next chain position, the next seq of its run (this also stops INSERT OR REPLACE,
      -- whose implicit delete would not fire the DELETE trigger). Keys are kept unique by the store.
      CREATE TRIGGER journal_appends_only BEFORE INSERT ON journal
      WHEN NEW.gseq IS NOT MAX(COALESCE((SELECT gseq + n FROM journal ORDER BY gseq DESC LIMIT 1), 1), 1)
        OR NEW.seq IS NOT COALESCE((SELECT seq + n FROM journal WHERE run_id = NEW.run_id ORDER BY seq DESC LIMIT 1), 1)
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: an insert must take the next chain position and the next seq of its run'); END;
      CREATE TRIGGER journal_refuses_update BEFORE UPDATE ON journal
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: UPDATE refused'); END;
      CREATE TRIGGER journal_refuses_delete BEFORE DELETE ON journal
      BEGIN SELECT RAISE(ABORT, 'the journal is append-only: DELETE refused'); END;

      -- One row per entry, batches unpacked: for queries by type, time or key (policy diff, tests, people).
      CREATE VIEW journal_entries (gseq, run_id, seq, v, type, at, key, event) AS
        SELECT gseq, run_id, seq, v, type, at, key, event FROM journal WHERE n = 1
        UNION ALL
        SELECT j.gseq + e.key, j.run_id, j.seq + e.key, j.v, e.value ->> '$.type', e.value ->> '$.at',
               j.keys ->> e.key, e.value
        FROM journal j, json_each(j.event) e WHERE j.n > 1;
    `,
  },
  {
    version: 5,
    description: "steps: a log of step records, one row per run per commit group",
    sql: `
      -- Why: a step row (WITHOUT ROWID, keyed by run, name and attempt, result inline) cost ~9 µs an
      -- insert at a random place of the B-tree, 12-13 per run. Now each commit group appends one row per
      -- run: a JSON array of its step records (a start, a start with its end, or an end), folded in order
      -- on read, last record of an attempt winning. Rows of the steps table stay as they were, read first.
      CREATE TABLE step_log (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        records TEXT NOT NULL,
        v INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX step_log_by_run ON step_log (run_id, id);
    `,
  },
];

/** The schema version this code writes: the last migration's. */
export const LATEST_SCHEMA_VERSION = migrations.at(-1)?.version ?? 0;
