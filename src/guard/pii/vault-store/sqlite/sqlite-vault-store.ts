import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { withStoreError } from "../../../../store/sqlite/sqlite-error.ts";
import type { VaultEntry, VaultRecord, VaultStore } from "../../vault-store.ts";

export interface SqliteVaultStoreOptions {
  /** Database file (created if missing), or `:memory:`. Ignored when `database` is given. */
  path?: string;
  /** An open database to share with other stores; the caller then owns closing it. */
  database?: DatabaseSync;
  /** How long a write waits for another process's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
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
  } else {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    // The busy timeout from the start: processes opening a new vault at once wait for each other's
    // journal-mode change and schema instead of failing with "database is locked".
    db = guard(
      "opening the PII vault failed",
      () => new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5_000 }),
    );
  }
  guard("opening the PII vault failed", () => {
    if (owned) db.exec("PRAGMA journal_mode = WAL");
    db.exec(SCHEMA);
  });

  const columns = "tenant, type, number, digest, sealed";
  const findByDigest = db.prepare(`SELECT ${columns} FROM pii_vault WHERE tenant = ? AND digest = ?`);
  const getByToken = db.prepare(
    `SELECT ${columns} FROM pii_vault WHERE tenant = ? AND type = ? AND number = ?`,
  );
  const insert = db.prepare(
    `INSERT INTO pii_vault (tenant, type, number, digest, sealed)
     SELECT ?1, ?2, COALESCE(MAX(number), 0) + 1, ?3, ?4 FROM pii_vault WHERE tenant = ?1 AND type = ?2
     ON CONFLICT (tenant, digest) DO NOTHING`,
  );
  const getMeta = db.prepare("SELECT value FROM pii_vault_meta WHERE name = ?");
  const initMeta = db.prepare(
    "INSERT INTO pii_vault_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
  );

  return {
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
}
