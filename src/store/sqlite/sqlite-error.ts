import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";

// Primary SQLite result codes (the low byte of an extended code).
const BUSY = 5;
const LOCKED = 6;
const READONLY = 8;
const IOERR = 10;
const CORRUPT = 11;
const FULL = 13;
const CANTOPEN = 14;
const NOTADB = 26;

function primaryCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" ? code & 0xff : undefined;
}

/** SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock the failed statement needed. */
export function isBusy(error: unknown): boolean {
  const code = primaryCode(error);
  return code === BUSY || code === LOCKED;
}

/**
 * Turns a `node:sqlite` failure into a `store-error` that names the database file and says what to
 * do. Errors that are already `ArbiterError`s (and constraint failures we raise on purpose) pass through.
 */
export function storeError(error: unknown, path: string, action: string): ArbiterError {
  if (error instanceof ArbiterError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const details = { path, action, sqlite: detail };
  const fail = (what: string) =>
    new ArbiterError(ErrorCode.StoreError, `${action}: ${what}`, { cause: error, details });
  switch (primaryCode(error)) {
    case CORRUPT:
      // A database file whose pages are damaged (a disk fault, a copy taken mid-write, an edit by hand):
      // what is readable can be saved into a new file; nothing is written to the damaged one.
      return fail(
        `${path} is damaged (${detail}): SQLite found a corrupt page, so nothing more is written to it. ` +
          `\`sqlite3 ${path} "PRAGMA integrity_check"\` says where; \`sqlite3 ${path} .recover | sqlite3 recovered.db\` ` +
          "copies what is readable into a new file to point --db / ARBITER_DB at (keep the damaged one aside).",
      );
    case NOTADB:
      return fail(
        `${path} is not a readable Arbiter database (${detail}). ` +
          "Point --db / ARBITER_DB at the right file, or move this one aside and start with a new database.",
      );
    case BUSY:
    case LOCKED:
      return fail(
        `${path} is locked by another process (${detail}). ` +
          "Wait for it to finish or stop it, then try again.",
      );
    case READONLY:
    case CANTOPEN:
      return fail(
        `cannot open ${path} for writing (${detail}). ` +
          "Check that the directory exists and is writable, or choose another path with --db / ARBITER_DB.",
      );
    case FULL:
    case IOERR:
      return fail(`the disk holding ${path} failed (${detail}). Free space or fix the disk, then try again.`);
    default:
      return fail(`${detail} (database ${path})`);
  }
}

/** Runs `fn`; a `node:sqlite` failure comes out as `storeError(error, path, action)`. */
export function withStoreError<T>(path: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw storeError(error, path, action);
  }
}
