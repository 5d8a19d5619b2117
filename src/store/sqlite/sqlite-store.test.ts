import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { runStoreContract } from "../store-contract.ts";
import { SqliteStore } from "./sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract("sqlite", () => new SqliteStore({ path: join(dir, `contract-${n++}.db`) }));

runStoreContract(
  "sqlite, grouped commits",
  () => new SqliteStore({ path: join(dir, `contract-${n++}.db`), commit: "grouped" }),
);

runStoreContract(
  "sqlite, grouped commits with WAL barriers",
  () => new SqliteStore({ path: join(dir, `contract-${n++}.db`), commit: "grouped", synchronous: "normal" }),
);

describe("grouped commits with WAL barriers (synchronous = normal)", () => {
  const open = () => {
    const path = join(dir, `barrier-${n++}.db`);
    return { path, store: new SqliteStore({ path, commit: "grouped", synchronous: "normal" }) };
  };
  const seenByAnotherProcess = (path: string, runId: string) => {
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      return reader.prepare("SELECT COUNT(*) AS n FROM steps WHERE run_id = ?").get(runId)?.n;
    } finally {
      reader.close();
    }
  };
  const run = { tenant: "t", profile: { name: "p", version: "1" }, request: {}, createdAt: 1 };

  it("holds a turn's writes (steps and run rows alike) in one commit that sync() waits for", async () => {
    const { path, store } = open();
    try {
      store.createRun({ id: "r1", ...run });
      assert.equal(store.claimRun("r1", "me", 10_000, 1), true, "a claim joins the open group");
      store.startStep({ runId: "r1", name: "tool:t1/x/h#0", attempt: 0, idempotent: false, startedAt: 2 });
      assert.equal(seenByAnotherProcess(path, "r1"), 0, "not committed before the end of the turn");
      await store.sync();
      assert.equal(seenByAnotherProcess(path, "r1"), 1);
      assert.equal(store.getRun("r1")?.owner, "me");
    } finally {
      store.close();
    }
  });

  it("serves many concurrent barriers (each after its own writes) and keeps every write", async () => {
    const { path, store } = open();
    try {
      store.createRun({ id: "r2", ...run });
      const barriers: Array<Promise<void>> = [];
      for (let turn = 0; turn < 20; turn++) {
        for (let i = 0; i < 5; i++) {
          store.startStep({
            runId: "r2",
            name: `tool:t${turn}/x/${i}#0`,
            attempt: 0,
            idempotent: false,
            startedAt: 3,
          });
          barriers.push(store.sync());
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(barriers);
      assert.equal(seenByAnotherProcess(path, "r2"), 100);
      await store.sync(); // nothing pending: still resolves
    } finally {
      store.close();
    }
  });
});
