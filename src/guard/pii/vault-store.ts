/** What the vault hands a store: an encrypted value and the keyed digest that indexes it. */
export interface VaultEntry {
  tenant: string;
  /** PII type, the token label (`CARD`). */
  type: string;
  /** Keyed HMAC of the normalised value (base64url); unique per tenant. */
  digest: string;
  /** AES-256-GCM envelope; opaque to the store. */
  sealed: Uint8Array;
}

/** A stored entry with its number: the token is `<${type}_${number}>`. */
export interface VaultRecord extends VaultEntry {
  number: number;
}

/**
 * Storage port of the PII vault. Stores only ciphertext, digests and token numbers; never sees a
 * plaintext value or a key. Implementations: `vault-store/memory/`, `vault-store/sqlite/`; each runs
 * the shared contract suite in `vault-store/vault-store-contract.ts`.
 */
export interface VaultStore {
  findByDigest(tenant: string, digest: string): Promise<VaultRecord | undefined>;
  get(tenant: string, type: string, number: number): Promise<VaultRecord | undefined>;
  /**
   * Atomically stores `entry` under the next number of its (tenant, type), unless its digest is
   * already stored for that tenant; returns the stored record either way.
   */
  put(entry: VaultEntry): Promise<VaultRecord>;
  getMeta(name: string): Promise<string | undefined>;
  /** Sets `name` if unset; returns the value now stored (which may be an earlier one). */
  initMeta(name: string, value: string): Promise<string>;
  close(): Promise<void>;
}
