import { resolve } from "node:path";
import type { Shield } from "../supervisor/guards.ts";
import { openEmbeddedVault } from "./pii/open-embedded-vault.ts";
import { createRecognizerRegistry } from "./pii/recognizer-registry.ts";
import { createTokenizer } from "./pii/tokenizer.ts";
import { createPiiShield } from "./pii-shield.ts";

export interface EmbeddedShieldOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Vault database; default `.arbiter/pii-vault.db` (key from ARBITER_VAULT_KEY or `.arbiter/vault.key`, generated on first run). */
  vaultPath?: string;
  /** The vault key's file when `ARBITER_VAULT_KEY` is not set; default `ARBITER_VAULT_KEY_FILE` or `.arbiter/vault.key`. */
  vaultKeyFile?: string;
  revealToRequester?: readonly string[];
  /** Generate the key file when there is none (default true); false opens only a vault that has one. */
  generate?: boolean;
  /** Only read the vault: what would be written (new tokens) stays in memory (`arbiter replay` by an auditor). */
  readOnly?: boolean;
}

/** The PII shield of the embedded default: built-in recognisers and an encrypted SQLite vault. */
export async function openEmbeddedShield(
  options: EmbeddedShieldOptions = {},
): Promise<{ shield: Shield; close(): Promise<void> }> {
  const env = options.env ?? process.env;
  const vault = await openEmbeddedVault({
    env,
    path: resolve(options.vaultPath ?? env.ARBITER_VAULT ?? ".arbiter/pii-vault.db"),
    ...(options.vaultKeyFile !== undefined ? { keyFile: options.vaultKeyFile } : {}),
    ...(options.generate === false ? { generate: false } : {}),
    ...(options.readOnly ? { readOnly: true } : {}),
  });
  const tokenizer = createTokenizer({ registry: createRecognizerRegistry(), vault });
  return {
    shield: createPiiShield({
      tokenizer,
      records: vault,
      ...(options.revealToRequester ? { revealToRequester: options.revealToRequester } : {}),
    }),
    close: () => vault.close(),
  };
}
