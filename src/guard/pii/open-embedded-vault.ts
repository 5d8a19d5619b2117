import type { DatabaseSync } from "node:sqlite";
import { openVault, type Vault } from "./vault.ts";
import { resolveVaultKey, type VaultKeyOptions } from "./vault-key.ts";
import { createSqliteVaultStore } from "./vault-store/sqlite/sqlite-vault-store.ts";

export const DEFAULT_VAULT_PATH = ".arbiter/pii-vault.db";

export interface EmbeddedVaultOptions extends VaultKeyOptions {
  /** SQLite file of the vault. Default `.arbiter/pii-vault.db`. Ignored when `database` is given. */
  path?: string;
  /** Share an open database (e.g. the run store's); the caller closes it. */
  database?: DatabaseSync;
}

/**
 * The embedded default: a SQLite vault whose key comes from configuration or is generated on
 * first run (see `resolveVaultKey`). `keySource` says where the key came from, for startup logs.
 */
export async function openEmbeddedVault(
  options: EmbeddedVaultOptions = {},
): Promise<Vault & { keySource: string; keyGenerated: boolean }> {
  const { key, source, generated } = resolveVaultKey(options);
  const store = createSqliteVaultStore(
    options.database ? { database: options.database } : { path: options.path ?? DEFAULT_VAULT_PATH },
  );
  try {
    const vault = await openVault({ store, key });
    return { ...vault, keySource: source, keyGenerated: generated };
  } catch (error) {
    await store.close();
    throw error;
  }
}
