import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LedgerEntry } from "../ledger.ts";
import { runLedgerContract } from "../ledger-contract.ts";
import { MemoryLedger } from "./memory-ledger.ts";

runLedgerContract("memory", () => new MemoryLedger());
runLedgerContract("memory, bounded", () => new MemoryLedger({ maxEntries: 1000, maxRuns: 1000 }));

const call = (runId: string, at: number, worker = "billing"): LedgerEntry => ({
  tenant: "acme",
  runId,
  worker,
  model: "m",
  inputTokens: 10,
  outputTokens: 5,
  costUsd: 0.001,
  at,
});

describe("MemoryLedger bounds (a long-lived process)", () => {
  it("keeps the newest calls for entries and totals; tenant spend stays exact", async () => {
    const ledger = new MemoryLedger({ maxEntries: 8 });
    const at = Date.UTC(2026, 10, 22, 12);
    for (let i = 0; i < 30; i++) await ledger.record(call(`run-${i}`, at + i));
    const kept = await ledger.entries();
    assert.ok(kept.length >= 8 && kept.length <= 10, `${kept.length} kept`);
    assert.equal(kept.at(-1)?.runId, "run-29");
    const day = await ledger.spent({ kind: "tenant", tenant: "acme", period: "day", at });
    assert.equal(day.calls, 30);
    assert.equal(day.tokens, 30 * 15);
  });

  it("drops the least recently charged run's request and worker spend past maxRuns, never an active one", async () => {
    const ledger = new MemoryLedger({ maxRuns: 2 });
    const at = Date.UTC(2026, 10, 22, 12);
    await ledger.record(call("old", at));
    await ledger.record(call("active", at + 1));
    await ledger.record(call("old", at + 2)); // charged again: now the most recent
    await ledger.record(call("new", at + 3)); // three runs: "active" was charged least recently
    const spent = async (runId: string) => (await ledger.spent({ kind: "request", runId })).calls;
    assert.deepEqual([await spent("old"), await spent("active"), await spent("new")], [2, 0, 1]);
    assert.equal((await ledger.spent({ kind: "worker", runId: "old", worker: "billing" })).calls, 2);
    assert.equal((await ledger.spent({ kind: "worker", runId: "active", worker: "billing" })).calls, 0);
    assert.equal((await ledger.spent({ kind: "tenant", tenant: "acme", period: "month", at })).calls, 4);
  });

  it("refuses bounds that are not whole numbers of at least 1", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new MemoryLedger({ maxEntries: bad }), /maxEntries must be a whole number/);
      assert.throws(() => new MemoryLedger({ maxRuns: bad }), /maxRuns must be a whole number/);
    }
  });
});
