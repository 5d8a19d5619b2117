import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { ArbiterError } from "../../../../errors/arbiter-error.ts";
import { runVaultStoreContract } from "../vault-store-contract.ts";
import { createSqliteVaultStore } from "./sqlite-vault-store.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-vault-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runVaultStoreContract("sqlite file", () => createSqliteVaultStore({ path: join(dir, `contract-${n++}.db`) }));
// Read-only (a replay): the same contract, its writes kept in memory over an existing, empty vault.
runVaultStoreContract("sqlite file, read only", () => {
  const path = join(dir, `contract-ro-${n++}.db`);
  void createSqliteVaultStore({ path }).close();
  return createSqliteVaultStore({ path, readOnly: true });
});

describe("sqlite vault store", () => {
  it("read only: finds what the file holds, numbers a new value after it in memory, and writes nothing", async () => {
    const path = join(dir, "read-only.db");
    const writer = createSqliteVaultStore({ path });
    await writer.initMeta("fingerprint", "k1");
    await writer.put({ tenant: "t", type: "EMAIL", digest: "a", sealed: new Uint8Array([1]) });
    await writer.put({ tenant: "t", type: "EMAIL", digest: "b", sealed: new Uint8Array([2]) });
    await writer.close();
    const before = readFileSync(path);
    const reader = createSqliteVaultStore({ path, readOnly: true });
    assert.equal(await reader.initMeta("fingerprint", "k2"), "k1", "the file's meta wins");
    assert.equal((await reader.findByDigest("t", "b"))?.number, 2);
    const minted = await reader.put({ tenant: "t", type: "EMAIL", digest: "c", sealed: new Uint8Array([3]) });
    assert.equal(minted.number, 3);
    assert.equal((await reader.put({ ...minted })).number, 3, "the same value, the same token");
    assert.equal((await reader.get("t", "EMAIL", 3))?.digest, "c");
    assert.equal(
      (await reader.put({ tenant: "u", type: "EMAIL", digest: "c", sealed: new Uint8Array([3]) })).number,
      1,
    );
    await reader.close();
    assert.deepEqual(readFileSync(path), before, "nothing written");
    const again = createSqliteVaultStore({ path });
    assert.equal(await again.findByDigest("t", "c"), undefined);
    await again.close();
    assert.throws(
      () => createSqliteVaultStore({ path: join(dir, "missing", "vault.db"), readOnly: true }),
      (e) => ArbiterError.is(e, "store-error") && /missing/.test(e.message),
    );
  });

  it("keeps records and numbering across reopen, and shares numbering between connections", async () => {
    const path = join(dir, "reopen.db");
    const first = createSqliteVaultStore({ path });
    const second = createSqliteVaultStore({ path });
    const a = await first.put({ tenant: "t", type: "CARD", digest: "a", sealed: new Uint8Array([1]) });
    const b = await second.put({ tenant: "t", type: "CARD", digest: "b", sealed: new Uint8Array([2]) });
    assert.deepEqual([a.number, b.number], [1, 2]);
    await first.close();
    await second.close();
    const reopened = createSqliteVaultStore({ path });
    assert.equal((await reopened.findByDigest("t", "b"))?.number, 2);
    assert.equal(
      (await reopened.put({ tenant: "t", type: "CARD", digest: "c", sealed: new Uint8Array([3]) })).number,
      3,
    );
    await reopened.close();
  });

  it("says which file is locked, and what to do, when another process holds the vault's write lock", async () => {
    const path = join(dir, "locked.db");
    const vault = createSqliteVaultStore({ path, busyTimeoutMs: 20 });
    await vault.put({ tenant: "t", type: "EMAIL", digest: "a", sealed: new Uint8Array([1]) });
    const other = new DatabaseSync(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      await assert.rejects(
        vault.put({ tenant: "t", type: "EMAIL", digest: "b", sealed: new Uint8Array([2]) }),
        (e) =>
          ArbiterError.is(e, "store-error") &&
          e.message.startsWith("writing to the PII vault failed: ") &&
          e.message.includes(`${path} is locked by another process`) &&
          /Wait for it to finish or stop it, then try again/.test(e.message),
      );
      assert.equal((await vault.findByDigest("t", "a"))?.number, 1, "reads go on");
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    assert.equal(
      (await vault.put({ tenant: "t", type: "EMAIL", digest: "b", sealed: new Uint8Array([2]) })).number,
      2,
    );
    await vault.close();
  });
});
