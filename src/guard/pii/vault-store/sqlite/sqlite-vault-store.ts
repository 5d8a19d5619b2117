import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openReadOnly } from "../../../../store/sqlite/open-database.ts";
import { withStoreError } from "../../../../store/sqlite/sqlite-error.ts";
import type { VaultEntry, VaultRecord, VaultStore } from "../../vault-store.ts";

export interface SqliteVaultStoreOptions {
  /** Database file (created if missing), or `:memory:`. Ignored when `database` is given. */
  path?: string;
  /** An open database to share with other stores; the caller then owns closing it. */
  database?: DatabaseSync;
  /** How long a write waits for another process's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
  /**
   * Only read the file (it must exist; a user who may not write it or its folder, a read-only mount):
   * tokens it holds are found, and a value it does not hold gets a token numbered after them that
   * lives in memory only (what `arbiter replay` needs), never written.
   */
  readOnly?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pii_vault (
  tenant     TEXT    NOT NULL,
  type       TEXT    NOT NULL,
  number     INTEGER NOT NULL,
  digest     TEXT    NOT NULL,
  sealed     BLOB    NOT NULL,
  created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (tenant, type, number),
  UNIQUE (tenant, digest)
);
CREATE TABLE IF NOT EXISTS pii_vault_meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

interface Row {
  tenant: string;
  type: string;
  number: number;
  digest: string;
  sealed: Uint8Array;
}

const toRecord = (row: unknown): VaultRecord | undefined => {
  if (row === undefined) return undefined;
  const r = row as Row;
  return { tenant: r.tenant, type: r.type, number: Number(r.number), digest: r.digest, sealed: r.sealed };
};

/**
 * Vault store on `node:sqlite`. Numbering is a single INSERT … SELECT MAX()+1 statement, atomic
 * under SQLite's write lock, so several processes sharing the file never hand out one token twice.
 */
export function createSqliteVaultStore(options: SqliteVaultStoreOptions = {}): VaultStore {
  const owned = options.database === undefined;
  const path = options.database ? "the PII vault's database" : (options.path ?? ":memory:");
  /**
   * A SQLite failure (a file locked by another process past the busy timeout, damaged, full) as a
   * `store-error` naming the vault's file and what to do, not a bare "database is locked".
   */
  const guard = <T>(action: string, fn: () => T): T => withStoreError(path, action, fn);
  let db: DatabaseSync;
  if (options.database) {
    db = options.database;
  } else if (options.readOnly) {
    db = guard("opening the PII vault failed", () => openReadOnly(path, options.busyTimeoutMs ?? 5_000));
  } else {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    // The busy timeout from the start: processes opening a new vault at once wait for each other's
    // journal-mode change and schema instead of failing with "database is locked".
    db = guard(
      "opening the PII vault failed",
      () => new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5_000 }),
    );
  }
  if (!options.readOnly) {
    guard("opening the PII vault failed", () => {
      if (owned) db.exec("PRAGMA journal_mode = WAL");
      db.exec(SCHEMA);
    });
  }

  const columns = "tenant, type, number, digest, sealed";
  // Read-only, the file's own tables are all there is (a file without them is not a vault).
  const prepare = (sql: string) => {
    try {
      return guard("opening the PII vault failed", () => db.prepare(sql));
    } catch (error) {
      if (owned && db.isOpen) db.close();
      throw error;
    }
  };
  const findByDigest = prepare(`SELECT ${columns} FROM pii_vault WHERE tenant = ? AND digest = ?`);
  const getByToken = prepare(`SELECT ${columns} FROM pii_vault WHERE tenant = ? AND type = ? AND number = ?`);
  const insert = prepare(
    `INSERT INTO pii_vault (tenant, type, number, digest, sealed)
     SELECT ?1, ?2, COALESCE(MAX(number), 0) + 1, ?3, ?4 FROM pii_vault WHERE tenant = ?1 AND type = ?2
     ON CONFLICT (tenant, digest) DO NOTHING`,
  );
  const getMeta = prepare("SELECT value FROM pii_vault_meta WHERE name = ?");
  const initMeta = prepare(
    "INSERT INTO pii_vault_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
  );

  const store: VaultStore = {
    async findByDigest(tenant, digest) {
      return guard("reading the PII vault failed", () => toRecord(findByDigest.get(tenant, digest)));
    },
    async get(tenant, type, number) {
      return guard("reading the PII vault failed", () => toRecord(getByToken.get(tenant, type, number)));
    },
    async put(entry: VaultEntry) {
      return guard("writing to the PII vault failed", () => {
        insert.run(entry.tenant, entry.type, entry.digest, entry.sealed);
        return toRecord(findByDigest.get(entry.tenant, entry.digest))!;
      });
    },
    async getMeta(name) {
      return guard(
        "reading the PII vault failed",
        () => (getMeta.get(name) as { value: string } | undefined)?.value,
      );
    },
    async initMeta(name, value) {
      return guard("writing to the PII vault failed", () => {
        initMeta.run(name, value);
        return (getMeta.get(name) as { value: string }).value;
      });
    },
    async close() {
      if (owned && db.isOpen) db.close();
    },
  };
  if (!options.readOnly) return store;
  const maxNumber = db.prepare("SELECT MAX(number) AS n FROM pii_vault WHERE tenant = ? AND type = ?");
  return inMemoryWrites(store, (tenant, type) =>
    guard("reading the PII vault failed", () =>
      Number((maxNumber.get(tenant, type) as { n: number | null } | undefined)?.n ?? 0),
    ),
  );
}

/**
 * Reads from `file`, and keeps what would be written in memory: a new value's token is numbered after
 * the highest the file holds for its tenant and type, a meta value the file lacks is kept here.
 */
function inMemoryWrites(file: VaultStore, maxNumber: (tenant: string, type: string) => number): VaultStore {
  const added = new Map<string, VaultRecord>(); // by tenant and digest
  const numbered = new Map<string, VaultRecord>(); // by tenant, type and number
  const meta = new Map<string, string>();
  const highest = (tenant: string, type: string): number => {
    let n = maxNumber(tenant, type);
    for (const r of added.values()) if (r.tenant === tenant && r.type === type) n = Math.max(n, r.number);
    return n;
  };
  return {
    async findByDigest(tenant, digest) {
      return (await file.findByDigest(tenant, digest)) ?? added.get(`${tenant}\u0000${digest}`);
    },
    async get(tenant, type, number) {
      return (await file.get(tenant, type, number)) ?? numbered.get(`${tenant}\u0000${type}\u0000${number}`);
    },
    async put(entry) {
      const known = await this.findByDigest(entry.tenant, entry.digest);
      if (known !== undefined) return known;
      const record: VaultRecord = { ...entry, number: highest(entry.tenant, entry.type) + 1 };
      added.set(`${entry.tenant}\u0000${entry.digest}`, record);
      numbered.set(`${entry.tenant}\u0000${entry.type}\u0000${record.number}`, record);
      return record;
    },
    async getMeta(name) {
      return (await file.getMeta(name)) ?? meta.get(name);
    },
    async initMeta(name, value) {
      const stored = await this.getMeta(name);
      if (stored !== undefined) return stored;
      meta.set(name, value);
      return value;
    },
    close: () => file.close(),
  };
}
