import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { PII_TYPE_PATTERN } from "./finding.ts";
import { formatToken, parseToken } from "./token.ts";
import { createVaultCipher } from "./vault-cipher.ts";
import type { VaultStore } from "./vault-store.ts";

export interface VaultOptions {
  store: VaultStore;
  /** The 32-byte master key (see `resolveVaultKey`). */
  key: Uint8Array;
  /** How many value→token mappings to keep in memory. Default 10,000. */
  cacheSize?: number;
}

export interface RevealedValue {
  type: string;
  value: string;
}

/**
 * Per-tenant token vault. The same (tenant, type, normalised value) always maps to the same token,
 * across calls and, with a persistent store and the same key, across restarts.
 */
export interface Vault {
  /** The token of `value`, creating it on first sight. `normalized` decides equality (default: value). */
  tokenFor(tenant: string, type: string, value: string, normalized?: string): Promise<string>;
  /** The original value behind `token` in `tenant`, or `undefined` if the tenant has no such token. */
  reveal(tenant: string, token: string): Promise<RevealedValue | undefined>;
  /**
   * Encrypts a record that must not rest in clear (a step's result holding personal data) with the
   * vault's key, bound to `tenant` and `context`; base64url text.
   */
  sealRecord(tenant: string, text: string, context: string): string;
  /** The text of a sealed record; throws when the key or the context is not the one it was sealed with. */
  openRecord(tenant: string, sealed: string, context: string): string;
  close(): Promise<void>;
}

const KEY_FINGERPRINT = "key-fingerprint";

function checkTenant(tenant: string): void {
  if (typeof tenant !== "string" || tenant.length === 0 || tenant.length > 200) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      "tenant must be a non-empty string of at most 200 characters.",
      {
        details: { field: "tenant" },
      },
    );
  }
}

const aad = (tenant: string, type: string, digest: string): string => `${tenant}\u0000${type}\u0000${digest}`;
// Starts with NUL (a token's starts with its tenant): a sealed record never opens as a token's value, nor back.
const recordAad = (tenant: string, context: string): string => `\u0000record\u0000${tenant}\u0000${context}`;

/**
 * Opens a vault on `store`. The first open records the key's fingerprint; opening with another key
 * fails with a clear error instead of minting duplicate tokens or returning garbage.
 */
export async function openVault(options: VaultOptions): Promise<Vault> {
  const cipher = createVaultCipher(options.key);
  const store = options.store;
  const stored = await store.initMeta(KEY_FINGERPRINT, cipher.fingerprint);
  if (stored !== cipher.fingerprint) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `The PII vault key does not match the key this vault was created with (key fingerprint ${cipher.fingerprint}, ` +
        `vault expects ${stored}). Configure the original key (ARBITER_VAULT_KEY or the vault key file); ` +
        "tokens already issued cannot be read with another key.",
      {
        details: {
          field: "vault.key",
          reason: "vault-key-mismatch",
          expected: stored,
          actual: cipher.fingerprint,
        },
      },
    );
  }
  const cacheSize = options.cacheSize ?? 10_000;
  // digest → token. Safe to cache: a token, once issued for a digest, never changes.
  const cache = new Map<string, string>();
  const remember = (key: string, token: string): void => {
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(key, token);
  };

  return {
    async tokenFor(tenant, type, value, normalized = value) {
      checkTenant(tenant);
      if (!PII_TYPE_PATTERN.test(type)) {
        throw new ArbiterError(ErrorCode.InvalidArgument, `Invalid PII type ${JSON.stringify(type)}.`, {
          details: { field: "type" },
        });
      }
      const digest = cipher.digest(tenant, type, normalized);
      const cacheKey = `${tenant}\u0000${digest}`;
      const cached = cache.get(cacheKey);
      if (cached !== undefined) return cached;
      const existing =
        (await store.findByDigest(tenant, digest)) ??
        (await store.put({ tenant, type, digest, sealed: cipher.seal(value, aad(tenant, type, digest)) }));
      const token = formatToken(existing.type, existing.number);
      remember(cacheKey, token);
      return token;
    },
    async reveal(tenant, token) {
      checkTenant(tenant);
      const ref = parseToken(token);
      if (!ref) return undefined;
      const record = await store.get(tenant, ref.type, ref.number);
      if (!record) return undefined;
      return {
        type: record.type,
        value: cipher.open(record.sealed, aad(tenant, record.type, record.digest)),
      };
    },
    sealRecord(tenant, text, context) {
      checkTenant(tenant);
      return Buffer.from(cipher.seal(text, recordAad(tenant, context))).toString("base64url");
    },
    openRecord(tenant, sealed, context) {
      checkTenant(tenant);
      return cipher.open(Buffer.from(sealed, "base64url"), recordAad(tenant, context));
    },
    close: () => store.close(),
  };
}
