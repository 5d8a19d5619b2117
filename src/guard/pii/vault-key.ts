import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";

export const VAULT_KEY_ENV = "ARBITER_VAULT_KEY";
export const VAULT_KEY_FILE_ENV = "ARBITER_VAULT_KEY_FILE";
export const DEFAULT_VAULT_KEY_FILE = ".arbiter/vault.key";

export interface VaultKeyOptions {
  /** 32 bytes: raw, base64 (or base64url) or 64 hex characters. Else `ARBITER_VAULT_KEY`. */
  key?: string | Uint8Array;
  /**
   * Where the key lives when none is configured: read if present, else generated (mode 0600).
   * Else `ARBITER_VAULT_KEY_FILE`, else `.arbiter/vault.key` under the working directory.
   */
  keyFile?: string;
  /** Generate the key file when missing. Default true (the embedded default). */
  generate?: boolean;
  /** Environment to read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedVaultKey {
  key: Uint8Array;
  /** Where it came from, for messages: "option", the variable name, or the file path. */
  source: string;
  generated: boolean;
}

/** Parses a 32-byte key written as 64 hex characters or base64/base64url; never echoes the key. */
export function parseVaultKey(text: string, source: string): Uint8Array {
  const trimmed = text.trim();
  let bytes: Uint8Array | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) bytes = Buffer.from(trimmed, "hex");
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) bytes = Buffer.from(trimmed, "base64");
  if (bytes?.length !== 32) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `The PII vault key from ${source} is not 32 bytes written as base64 or 64 hex characters. ` +
        `Generate one with: node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))"`,
      { details: { field: "vault.key", source } },
    );
  }
  return bytes;
}

function readKeyFile(path: string): Uint8Array {
  const mode = statSync(path).mode;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `The PII vault key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}). ` +
        `Run: chmod 600 ${path}`,
      { details: { field: "vault.keyFile", path } },
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw cause; // gone since the stat: the caller generates one
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `Cannot read the PII vault key file ${path} (${code ?? String(cause)}). Run as the user that owns it, ` +
        `or set ${VAULT_KEY_ENV} / ${VAULT_KEY_FILE_ENV} to a key this user may read.`,
      { cause, details: { field: "vault.keyFile", path } },
    );
  }
  return parseVaultKey(text, path);
}

/**
 * Resolves the vault key: option → `ARBITER_VAULT_KEY` → key file (option →
 * `ARBITER_VAULT_KEY_FILE` → `.arbiter/vault.key`), generating the file with mode 0600 on first run.
 */
export function resolveVaultKey(options: VaultKeyOptions = {}): ResolvedVaultKey {
  const env = options.env ?? process.env;
  if (options.key !== undefined) {
    const key = typeof options.key === "string" ? parseVaultKey(options.key, "the key option") : options.key;
    if (key.length !== 32) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `The PII vault key option has ${key.length} bytes; it needs 32.`,
        {
          details: { field: "vault.key", source: "option" },
        },
      );
    }
    return { key, source: "option", generated: false };
  }
  const fromEnv = env[VAULT_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    return { key: parseVaultKey(fromEnv, VAULT_KEY_ENV), source: VAULT_KEY_ENV, generated: false };
  }
  const path = resolve(options.keyFile ?? env[VAULT_KEY_FILE_ENV] ?? DEFAULT_VAULT_KEY_FILE);
  try {
    return { key: readKeyFile(path), source: path, generated: false };
  } catch (error) {
    // Missing (or a folder on its way is a file: creating it says why that fails).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
  }
  if (options.generate === false) {
    throw new ArbiterError(
      ErrorCode.MissingCredentials,
      `No PII vault key: set ${VAULT_KEY_ENV}, pass the key option, or create the key file ${path}.`,
      { details: { field: "vault.key", path } },
    );
  }
  const key = randomBytes(32);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // `wx`: never overwrite a key another process generated a moment ago.
    writeFileSync(path, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  } catch (error) {
    // Made by another process a moment ago (mkdir says EEXIST too when a folder on the way is a file).
    if (
      (error as NodeJS.ErrnoException).code === "EEXIST" &&
      (error as { syscall?: string }).syscall === "open"
    ) {
      return { key: readKeyFile(path), source: path, generated: false };
    }
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `cannot create the PII vault key ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); ` +
        `keep the database in a folder this user may write (--db / ARBITER_DB), or set ${VAULT_KEY_FILE_ENV} or ${VAULT_KEY_ENV}`,
      { cause: error, details: { field: "vault.key", path } },
    );
  }
  return { key, source: path, generated: true };
}
