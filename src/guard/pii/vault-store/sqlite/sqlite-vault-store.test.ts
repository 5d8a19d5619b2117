import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
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

describe("sqlite vault store", () => {
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
