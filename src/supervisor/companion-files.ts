import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { DEFAULT_VAULT_PATH } from "../guard/pii/open-embedded-vault.ts";
import { DEFAULT_VAULT_KEY_FILE } from "../guard/pii/vault-key.ts";
import { DEFAULT_AUDIT_KEY_FILE } from "../journal/audit/checkpoint-key.ts";

/** The files a run database needs beside it: the PII vault, its key, and the audit signing key. */
export interface CompanionFiles {
  /** The PII vault (SQLite). `ARBITER_VAULT` overrides it. */
  vault: string;
  /** The vault's key file (unless `ARBITER_VAULT_KEY` holds the key itself). `ARBITER_VAULT_KEY_FILE` overrides it. */
  vaultKeyFile: string;
  /** The Ed25519 key that signs audit checkpoints. `ARBITER_AUDIT_KEY_FILE` overrides it. */
  auditKeyFile: string;
}

/** Each companion: its variable, and where it lived before it moved beside the database (cwd-relative). */
const COMPANIONS: Record<keyof CompanionFiles, { variable: string; legacy: string; what: string }> = {
  vault: { variable: "ARBITER_VAULT", legacy: DEFAULT_VAULT_PATH, what: "PII vault" },
  vaultKeyFile: { variable: "ARBITER_VAULT_KEY_FILE", legacy: DEFAULT_VAULT_KEY_FILE, what: "PII vault key" },
  auditKeyFile: {
    variable: "ARBITER_AUDIT_KEY_FILE",
    legacy: DEFAULT_AUDIT_KEY_FILE,
    what: "audit signing key",
  },
};

export interface CompanionOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves relative variables and the old defaults. Default `process.cwd()`. */
  cwd?: string;
  /** Whether the database file existed before this open (an older one may have its files elsewhere). */
  databaseExisted?: boolean;
}

/**
 * Where a run database's companion files are: its variable when set, else beside the database (so every
 * command finds the same vault and keys whichever folder it runs from, `--db` or not). With the default
 * database (`./.arbiter/arbiter.db`) that is `.arbiter/` as before. Nothing is lost from databases made
 * when these lived under the working directory's `.arbiter/` whatever `--db` said: for a database that
 * already existed, a companion missing beside it but present there is used, and its note says to move it.
 * An in-memory database keeps the working directory's `.arbiter/`.
 */
export function companionFiles(
  dbPath: string,
  options: CompanionOptions = {},
): CompanionFiles & { notes: Partial<CompanionFiles> } {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const notes: Partial<CompanionFiles> = {};
  const where = (name: keyof CompanionFiles): string => {
    const { variable, legacy, what } = COMPANIONS[name];
    const set = env[variable];
    if (set !== undefined && set.trim() !== "") return resolve(cwd, set);
    const old = resolve(cwd, legacy);
    if (dbPath === ":memory:") return old;
    const beside = join(dirname(resolve(cwd, dbPath)), basename(legacy));
    // The key itself in ARBITER_VAULT_KEY: no key file is read.
    const unused = name === "vaultKeyFile" && (env.ARBITER_VAULT_KEY ?? "") !== "";
    if (
      unused ||
      beside === old ||
      existsSync(beside) ||
      options.databaseExisted !== true ||
      !existsSync(old)
    )
      return beside;
    notes[name] =
      `using the ${what} ${old} (where it was kept before it moved beside the database); ` +
      `move it to ${beside}, or set ${variable}=${old}, so every folder finds it`;
    return old;
  };
  return {
    vault: where("vault"),
    vaultKeyFile: where("vaultKeyFile"),
    auditKeyFile: where("auditKeyFile"),
    notes,
  };
}
