import type { VaultEntry, VaultRecord, VaultStore } from "../../vault-store.ts";

/** In-process vault store for tests and single-process runs; lost on exit. */
export function createMemoryVaultStore(): VaultStore {
  const byDigest = new Map<string, VaultRecord>();
  const byToken = new Map<string, VaultRecord>();
  const counters = new Map<string, number>();
  const meta = new Map<string, string>();
  const copy = (record: VaultRecord | undefined): VaultRecord | undefined =>
    record && { ...record, sealed: new Uint8Array(record.sealed) };

  return {
    async findByDigest(tenant, digest) {
      return copy(byDigest.get(`${tenant}\u0000${digest}`));
    },
    async get(tenant, type, number) {
      return copy(byToken.get(`${tenant}\u0000${type}\u0000${number}`));
    },
    async put(entry: VaultEntry) {
      const digestKey = `${entry.tenant}\u0000${entry.digest}`;
      const existing = byDigest.get(digestKey);
      if (existing) return copy(existing)!;
      const counterKey = `${entry.tenant}\u0000${entry.type}`;
      const number = (counters.get(counterKey) ?? 0) + 1;
      counters.set(counterKey, number);
      const record: VaultRecord = { ...entry, sealed: new Uint8Array(entry.sealed), number };
      byDigest.set(digestKey, record);
      byToken.set(`${entry.tenant}\u0000${entry.type}\u0000${number}`, record);
      return copy(record)!;
    },
    async getMeta(name) {
      return meta.get(name);
    },
    async initMeta(name, value) {
      if (!meta.has(name)) meta.set(name, value);
      return meta.get(name)!;
    },
    async close() {},
  };
}
