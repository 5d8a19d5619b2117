import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { VaultEntry, VaultStore } from "../vault-store.ts";

const entry = (tenant: string, type: string, digest: string, byte = 1): VaultEntry => ({
  tenant,
  type,
  digest,
  sealed: new Uint8Array([byte, 2, 3, 4]),
});

/**
 * The behaviour every {@link VaultStore} must have. Call it from each implementation's test file
 * with a factory for a fresh, empty store.
 */
export function runVaultStoreContract(name: string, create: () => VaultStore | Promise<VaultStore>): void {
  describe(`VaultStore contract: ${name}`, () => {
    let store: VaultStore;
    beforeEach(async () => {
      store = await create();
    });
    afterEach(async () => {
      await store.close();
    });

    it("numbers entries from 1 per tenant and type", async () => {
      assert.equal((await store.put(entry("t1", "CARD", "d1"))).number, 1);
      assert.equal((await store.put(entry("t1", "CARD", "d2"))).number, 2);
      assert.equal((await store.put(entry("t1", "EMAIL", "d3"))).number, 1);
      assert.equal((await store.put(entry("t2", "CARD", "d4"))).number, 1);
    });

    it("returns the existing record when a digest is stored again", async () => {
      const first = await store.put(entry("t1", "CARD", "same", 1));
      const again = await store.put(entry("t1", "CARD", "same", 9));
      assert.equal(again.number, first.number);
      assert.deepEqual([...again.sealed], [1, 2, 3, 4]);
      assert.equal((await store.put(entry("t1", "CARD", "other"))).number, 2);
    });

    it("keeps tenants apart: the same digest in two tenants is two records", async () => {
      await store.put(entry("t1", "CARD", "x", 1));
      await store.put(entry("t2", "CARD", "x", 2));
      assert.deepEqual([...(await store.findByDigest("t2", "x"))!.sealed], [2, 2, 3, 4]);
      assert.equal(await store.findByDigest("t3", "x"), undefined);
    });

    it("gets records by token and by digest", async () => {
      await store.put(entry("t1", "IBAN", "a"));
      const b = await store.put(entry("t1", "IBAN", "b", 7));
      const byToken = await store.get("t1", "IBAN", b.number);
      assert.deepEqual(byToken && { ...byToken, sealed: [...byToken.sealed] }, {
        tenant: "t1",
        type: "IBAN",
        number: 2,
        digest: "b",
        sealed: [7, 2, 3, 4],
      });
      assert.equal((await store.findByDigest("t1", "b"))!.number, 2);
      assert.equal(await store.get("t1", "IBAN", 3), undefined);
      assert.equal(await store.get("t1", "CARD", 1), undefined);
      assert.equal(await store.get("t2", "IBAN", 1), undefined);
    });

    it("hands out distinct numbers to concurrent puts", async () => {
      const records = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.put(entry("t1", "PHONE", `p${i}`))),
      );
      assert.deepEqual(
        records.map((r) => r.number).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });

    it("sets metadata once", async () => {
      assert.equal(await store.getMeta("key-fingerprint"), undefined);
      assert.equal(await store.initMeta("key-fingerprint", "abc"), "abc");
      assert.equal(await store.initMeta("key-fingerprint", "def"), "abc");
      assert.equal(await store.getMeta("key-fingerprint"), "abc");
    });
  });
}
