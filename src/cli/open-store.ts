import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { resolveDbPath } from "../store/sqlite/resolve-db-path.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { CliIo } from "./output.ts";

/**
 * Opens the run database of a command; a missing file is an input error, not a new empty database.
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
  return new SqliteStore({ path, readOnly: access === "read" && !mayWrite(path) });
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
