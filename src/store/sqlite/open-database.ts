import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { migrations as allMigrations, LATEST_SCHEMA_VERSION, type Migration } from "./migrations.ts";
import { storeError } from "./sqlite-error.ts";

export type SynchronousMode = "full" | "normal";

export interface OpenDatabaseOptions {
  /** The database file (created if missing), or `:memory:`; with `database`, only named in messages. */
  path: string;
  /** An open connection to share with other stores (cost ledger, PII vault); the caller closes it. */
  database?: DatabaseSync;
  /**
   * `full` (default): every commit is fsynced before it returns, so a recorded step or journal entry
   * survives power loss. `normal`: commits survive a crash of this process (kill -9) but the last
   * ones may be lost if the machine loses power.
   */
  synchronous?: SynchronousMode;
  /** How long a write waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
  /**
   * WAL pages after which a commit also checkpoints (SQLite's default 1000); `0` turns automatic
   * checkpoints off for this connection, for a `WalCheckpointer` to do them off the event loop.
   */
  walAutocheckpoint?: number;
  clock?: () => number;
  /** For tests of upgrades; defaults to every migration this version knows. */
  migrations?: readonly Migration[];
  /**
   * Only read: the file must exist and is never changed (no migration, no journal-mode change), so a
   * user with read access only (an auditor) can open it. A database of an older schema is refused
   * with `schema-too-old` (a writing command upgrades it).
   */
  readOnly?: boolean;
}

/**
 * Opens (creating when missing) an Arbiter database: WAL, the chosen `synchronous` mode, a busy
 * timeout, then pending migrations. Fails with `schema-too-new` for a database written by a newer
 * Arbiter and with `store-error` (naming the path) for a corrupt, foreign or unopenable file.
 * Tables of other stores sharing the file are left alone.
 */
export function openDatabase(options: OpenDatabaseOptions): DatabaseSync {
  const { path } = options;
  const shared = options.database;
  const migrations = options.migrations ?? allMigrations;
  const latest = migrations.at(-1)?.version ?? LATEST_SCHEMA_VERSION;
  let db: DatabaseSync;
  if (
    path !== ":memory:" &&
    shared === undefined &&
    statSync(path, { throwIfNoEntry: false })?.isDirectory()
  ) {
    throw new ArbiterError(
      ErrorCode.StoreError,
      `${path} is a folder; --db / ARBITER_DB name the database file (e.g. ${join(path, "arbiter.db")})`,
      { details: { path } },
    );
  }
  if (shared !== undefined) {
    db = shared;
  } else if (options.readOnly) {
    db = openReadOnly(path, options.busyTimeoutMs ?? 5_000);
  } else {
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new ArbiterError(
        ErrorCode.StoreError,
        `cannot create the directory of ${path} (${error instanceof Error ? error.message : String(error)}). ` +
          "Choose a writable location with --db / ARBITER_DB.",
        { cause: error, details: { path } },
      );
    }
    try {
      db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5_000 });
    } catch (error) {
      throw storeError(error, path, "opening the database failed");
    }
  }
  try {
    // Version first: a newer database is refused before anything (even the journal mode) changes.
    const found = schemaVersion(db, path);
    if (found > latest) throw tooNew(path, found, latest);
    if (options.readOnly) {
      if (found < latest) throw tooOld(path, found, latest);
      return db;
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    // 16 MiB of page cache (default 2 MiB): journal and step indexes stay hot as the file grows.
    db.exec("PRAGMA cache_size = -16384");
    if (options.walAutocheckpoint !== undefined)
      db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.trunc(options.walAutocheckpoint))}`);
    if (shared !== undefined) db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5_000}`);
    if (found < latest) migrate(db, migrations, options.clock ?? Date.now, path, latest);
    return db;
  } catch (error) {
    if (shared === undefined) db.close();
    throw storeError(error, path, "opening the database failed");
  }
}

// SQLITE_READONLY_CANTINIT and SQLITE_READONLY_DIRECTORY: no shared-memory index for the WAL can be made
// (a folder this user may not write); SQLITE_CANTOPEN: the same on a read-only file system (a snapshot,
// a backup mounted read-only), where not even an empty index can be opened.
const CANTINIT = 1288;
const READONLY_DIRECTORY = 1544;
const CANTOPEN = 14;

/**
 * A read-only connection. A WAL database needs its `-shm` index, which a reader without write access
 * to the folder cannot create when no process has the database open (the last one to close removes
 * it), and nobody can on a read-only file system; with no write-ahead log on disk there is nothing to
 * index, and the file is read as it is.
 */
export function openReadOnly(path: string, timeout: number): DatabaseSync {
  try {
    const db = new DatabaseSync(path, { readOnly: true, timeout });
    try {
      db.prepare("SELECT 1 FROM sqlite_schema LIMIT 1").get(); // opening is lazy: the first read finds out
    } catch (error) {
      db.close();
      throw error;
    }
    return db;
  } catch (error) {
    const code = (error as { errcode?: unknown }).errcode;
    const noIndex = code === CANTINIT || code === READONLY_DIRECTORY || code === CANTOPEN;
    if (!noIndex || !existsSync(path) || existsSync(`${path}-wal`)) throw cannotRead(error, path);
    try {
      const url = pathToFileURL(path);
      url.searchParams.set("immutable", "1");
      return new DatabaseSync(url.href, { readOnly: true, timeout });
    } catch (cause) {
      throw cannotRead(cause, path);
    }
  }
}

function cannotRead(error: unknown, path: string): ArbiterError {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  // SQLITE_CANTOPEN, SQLITE_READONLY (and its extended codes): the file or its folder is out of reach.
  if (typeof code === "number" && ((code & 0xff) === 14 || (code & 0xff) === 8)) {
    return new ArbiterError(
      ErrorCode.StoreError,
      `cannot read ${path} (${error instanceof Error ? error.message : String(error)}). ` +
        "Check that you may read the file and its folder (and its -wal and -shm files while a process has it open), or read a copy.",
      { cause: error, details: { path } },
    );
  }
  return storeError(error, path, "opening the database to read failed");
}

function schemaVersion(db: DatabaseSync, path: string): number {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{
    name: string;
  }>;
  if (tables.some((t) => t.name === "schema_version")) {
    const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as
      | { version: number | null }
      | undefined;
    return row?.version ?? 0;
  }
  // Other Arbiter stores (cost ledger, PII vault) may share the file; tables named like ours are not ours.
  const ours = new Set(["runs", "steps", "signals", "approvals", "journal"]);
  const clashing = tables.filter((t) => ours.has(t.name));
  if (clashing.length > 0) {
    throw new ArbiterError(
      ErrorCode.StoreError,
      `${path} is a SQLite database that Arbiter's store did not create (it has tables ${clashing
        .map((t) => t.name)
        .join(", ")} but no schema_version). Point --db / ARBITER_DB at an Arbiter database or a new file.`,
      { details: { path } },
    );
  }
  return 0;
}

function migrate(
  db: DatabaseSync,
  migrations: readonly Migration[],
  clock: () => number,
  path: string,
  latest: number,
): void {
  // IMMEDIATE takes the write lock first, so two processes opening a new file do not both migrate.
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
    );
    const found = schemaVersion(db, path);
    if (found > latest) throw tooNew(path, found, latest);
    const record = db.prepare(
      "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
    );
    for (const migration of migrations) {
      if (migration.version <= found) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.description, clock());
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

function tooOld(path: string, found: number, latest: number): ArbiterError {
  return new ArbiterError(
    ErrorCode.SchemaTooOld,
    `${path} has database schema version ${found}; this Arbiter reads version ${latest}, and opened it read-only, ` +
      "so it did not upgrade it. Run a command that writes (e.g. `arbiter resume`) once with write access to upgrade it, or read a copy.",
    { details: { path, found, supported: latest } },
  );
}

function tooNew(path: string, found: number, latest: number): ArbiterError {
  return new ArbiterError(
    ErrorCode.SchemaTooNew,
    `${path} was written by a newer Arbiter (database schema version ${found}; this version knows up to ${latest}). ` +
      "Upgrade Arbiter to open it, or use another database with --db / ARBITER_DB; the file was not changed.",
    { details: { path, found, supported: latest } },
  );
}
