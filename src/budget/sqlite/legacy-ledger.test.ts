import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import type { LedgerEntry } from "../ledger.ts";
import { importLegacyLedger, legacyLedgerPath } from "./legacy-ledger.ts";
import { createSqliteLedger } from "./sqlite-ledger.ts";

const entry = (runId: string, costUsd: number): LedgerEntry => ({
  tenant: "acme",
  runId,
  worker: "billing",
  model: "m",
  inputTokens: 100,
  outputTokens: 10,
  costUsd,
  at: Date.UTC(2026, 10, 20),
});

describe("the cost ledger in the run database", () => {
  it("takes in a ledger file of an older runtime once, and keeps that file renamed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "arbiter-legacy-ledger-"));
    const dbPath = join(dir, "arbiter.db");
    const old = createSqliteLedger({ path: legacyLedgerPath(dbPath) });
    await old.record(entry("r1", 0.5));
    await old.record(entry("r2", 0.25));
    await old.close();

    const store = new SqliteStore({ path: dbPath, commit: "grouped" });
    const ledger = createSqliteLedger({
      database: store.database,
      transaction: (fn) => store.unit("ledger", fn),
    });
    await ledger.record(entry("r3", 1));
    await store.sync();
    assert.equal(importLegacyLedger(store.database, dbPath), 2);
    assert.equal(existsSync(legacyLedgerPath(dbPath)), false);
    assert.equal(existsSync(`${legacyLedgerPath(dbPath)}.imported`), true);
    const totals = await ledger.totals({ by: "worker", tenant: "acme" });
    assert.deepEqual(
      totals.map((t) => [t.key, t.calls, t.costUsd]),
      [["billing", 3, 1.75]],
    );
    assert.deepEqual(await ledger.spent({ kind: "request", runId: "r1" }), {
      inputTokens: 100,
      outputTokens: 10,
      tokens: 110,
      costUsd: 0.5,
      calls: 1,
    });
    // A second start (or a second process) finds nothing more to take in.
    assert.equal(importLegacyLedger(store.database, dbPath), 0);
    assert.equal((await ledger.entries()).length, 3);
    store.close();
  });

  it("commits a charge with the store's commit group, not before", async () => {
    const dir = mkdtempSync(join(tmpdir(), "arbiter-ledger-group-"));
    const dbPath = join(dir, "arbiter.db");
    const store = new SqliteStore({ path: dbPath, commit: "grouped" });
    const ledger = createSqliteLedger({
      database: store.database,
      transaction: (fn) => store.unit("ledger", fn),
    });
    const outside = new DatabaseSync(dbPath, { readOnly: true });
    const count = () =>
      (outside.prepare("SELECT count(*) AS n FROM budget_ledger_calls").get() as { n: number }).n;
    await ledger.record(entry("r1", 0.1));
    assert.equal(count(), 0, "not visible to another connection while the group is open");
    assert.equal((await ledger.entries()).length, 1, "visible to the runtime at once");
    await store.sync();
    assert.equal(count(), 1);
    outside.close();
    store.close();
  });
});
