import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { openVault, type Vault } from "./vault.ts";
import { resolveVaultKey, type VaultKeyOptions } from "./vault-key.ts";
import { createSqliteVaultStore } from "./vault-store/sqlite/sqlite-vault-store.ts";

export const DEFAULT_VAULT_PATH = ".arbiter/pii-vault.db";

export interface EmbeddedVaultOptions extends VaultKeyOptions {
  /** SQLite file of the vault. Default `.arbiter/pii-vault.db`. Ignored when `database` is given. */
  path?: string;
  /** Share an open database (e.g. the run store's); the caller closes it. */
  database?: DatabaseSync;
  /** Only read the vault (it must exist, with its key): new tokens live in memory only (see `SqliteVaultStoreOptions`). */
  readOnly?: boolean;
}

/**
 * The embedded default: a SQLite vault whose key comes from configuration or is generated on
 * first run (see `resolveVaultKey`). `keySource` says where the key came from, for startup logs.
 */
export async function openEmbeddedVault(
  options: EmbeddedVaultOptions = {},
): Promise<Vault & { keySource: string; keyGenerated: boolean }> {
  // A vault already on disk was sealed with a key: a new one could not read it (and would be left
  // behind), so its key must be found, never made.
  const path = options.path ?? DEFAULT_VAULT_PATH;
  const existing = options.database === undefined && existsSync(path) && statSync(path).size > 0;
  let resolved: ReturnType<typeof resolveVaultKey>;
  try {
    resolved = resolveVaultKey(existing || options.readOnly ? { ...options, generate: false } : options);
  } catch (error) {
    if (!existing || !ArbiterError.is(error) || error.code !== ErrorCode.MissingCredentials) throw error;
    throw new ArbiterError(
      ErrorCode.MissingCredentials,
      `the PII vault ${resolve(path)} exists but its key is not found: ${error.message} ` +
        "Restore the key it was made with (a new key cannot read it), or point ARBITER_VAULT at another vault.",
      { cause: error, details: error.details },
    );
  }
  const { key, source, generated } = resolved;
  const store = createSqliteVaultStore(
    options.database
      ? { database: options.database }
      : { path: options.path ?? DEFAULT_VAULT_PATH, ...(options.readOnly ? { readOnly: true } : {}) },
  );
  try {
    const vault = await openVault({ store, key });
    return { ...vault, keySource: source, keyGenerated: generated };
  } catch (error) {
    await store.close();
    throw error;
  }
}
