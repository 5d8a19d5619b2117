import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { openReadOnly } from "../store/sqlite/open-database.ts";
import { resolveDbPath } from "../store/sqlite/resolve-db-path.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { CliIo } from "./output.ts";

/**
 * Opens the run database of a command; a missing file is an input error, not a new empty database,
 * and so is a file that is not an Arbiter run database (see `refuseForeign`).
 * `read`: the command only reads, so read access is enough — a user who may not write the file or its
 * folder (an auditor) gets a read-only connection (one who may, the usual one, which also upgrades an
 * older database and tidies the write-ahead log away on close).
 */
export function openStore(option: unknown, io: CliIo, access: "read" | "write" = "write"): SqliteStore {
  const path = resolveDbPath(typeof option === "string" ? option : undefined, io.env);
  if (!existsSync(path)) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `no run database at ${path}; pass --db or set ARBITER_DB`,
    );
  }
  refuseForeign(path, "read");
  return new SqliteStore({ path, readOnly: access === "read" && !mayWrite(path) });
}

/**
 * Refuses an existing file that is not an Arbiter run database: opening it would add the store's
 * tables to another application's database (a mistyped --db). `read`: a file without tables has
 * nothing to read either; `create` (run, serve) makes the run database in an empty file, or in one
 * that holds only Arbiter's companion stores (the cost ledger, the PII vault).
 */
export function refuseForeign(path: string, use: "read" | "create"): void {
  const tables = tablesOf(path);
  if (tables === undefined || tables.includes("schema_version")) return;
  const others = tables.filter((t) => !/^(budget_ledger_|pii_vault|sqlite_)/.test(t));
  if (use === "create" && others.length === 0) return;
  const what =
    tables.length === 0
      ? "it holds no tables"
      : `it has tables ${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", …" : ""} but no schema_version`;
  throw new ArbiterError(
    ErrorCode.InvalidArgument,
    `${path} is not an Arbiter run database (${what}); nothing was changed in it. ` +
      `Point --db / ARBITER_DB at the database \`arbiter run\` writes${use === "create" ? ", or at a new file" : ""}.`,
    { details: { path } },
  );
}

/** The file's tables, or undefined when it is missing or cannot be read here (opening it then says why). */
function tablesOf(path: string): string[] | undefined {
  if (!existsSync(path)) return undefined;
  let db: DatabaseSync | undefined;
  try {
    db = openReadOnly(path, 5_000); // as the store reads it, a read-only mount included
    const rows = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all();
    return rows.map((row) => String(row.name));
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/** Whether this user may write the database file and its folder. */
export function mayWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
