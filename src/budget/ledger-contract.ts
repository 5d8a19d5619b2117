import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { HoldRequest, Ledger, LedgerEntry } from "./ledger.ts";

const JAN_31 = Date.UTC(2026, 0, 31, 23, 59, 59, 999);
const FEB_1 = Date.UTC(2026, 1, 1, 0, 0, 0, 0);
const FEB_2 = Date.UTC(2026, 1, 2, 12, 0, 0, 0);

const call = (fields: Partial<LedgerEntry> = {}): LedgerEntry => ({
  tenant: "acme",
  runId: "run-1",
  worker: "billing",
  model: "gpt",
  provider: "openai.chat",
  profileVersion: "p1",
  inputTokens: 100,
  outputTokens: 20,
  costUsd: 0.001,
  at: FEB_1,
  ...fields,
});

const hold = (fields: Partial<HoldRequest> = {}): HoldRequest => ({
  id: "h1",
  tenant: "acme",
  runId: "run-1",
  worker: "billing",
  tokens: 100,
  costUsd: 0.01,
  at: FEB_1,
  expiresAt: FEB_1 + 60_000,
  checks: [],
  ...fields,
});

/**
 * The behaviour every {@link Ledger} must have. Call it from each implementation's test file
 * with a factory for a fresh, empty ledger.
 */
export function runLedgerContract(name: string, create: () => Ledger | Promise<Ledger>): void {
  describe(`Ledger contract: ${name}`, () => {
    let ledger: Ledger;
    beforeEach(async () => {
      ledger = await create();
    });
    afterEach(async () => {
      await ledger.close();
    });

    it("sums spend per request, per worker within a request, and per tenant UTC day and month", async () => {
      await ledger.record(call({ inputTokens: 100, outputTokens: 10, costUsd: 0.5, at: JAN_31 }));
      await ledger.record(call({ worker: "network", inputTokens: 200, outputTokens: 20, costUsd: 0.25 }));
      await ledger.record(
        call({ worker: undefined, inputTokens: 300, outputTokens: 30, costUsd: 0.125, at: FEB_2 }),
      );
      await ledger.record(call({ runId: "run-2", inputTokens: 1, outputTokens: 1, costUsd: 1, at: FEB_2 }));
      await ledger.record(call({ tenant: "globex", runId: "run-3", costUsd: 7, at: FEB_2 }));

      assert.deepEqual(await ledger.spent({ kind: "request", runId: "run-1" }), {
        inputTokens: 600,
        outputTokens: 60,
        tokens: 660,
        costUsd: 0.875,
        calls: 3,
      });
      assert.equal((await ledger.spent({ kind: "worker", runId: "run-1", worker: "billing" })).tokens, 110);
      assert.equal((await ledger.spent({ kind: "worker", runId: "run-1", worker: "network" })).costUsd, 0.25);
      const month = (at: number) => ledger.spent({ kind: "tenant", tenant: "acme", period: "month", at });
      const day = (at: number) => ledger.spent({ kind: "tenant", tenant: "acme", period: "day", at });
      assert.equal((await month(JAN_31)).costUsd, 0.5, "January holds only the last millisecond's call");
      assert.equal((await month(FEB_2)).costUsd, 1.375, "February starts at 00:00 UTC on the 1st");
      assert.equal((await day(FEB_1)).calls, 1);
      assert.equal((await day(FEB_2)).calls, 2);
      assert.equal(
        (await ledger.spent({ kind: "tenant", tenant: "initech", period: "day", at: FEB_2 })).calls,
        0,
      );
    });

    it("totals by worker, model and day equal the sum of the recorded calls", async () => {
      const calls = [
        call({ worker: "billing", model: "gpt", costUsd: 0.0000004, at: JAN_31 }),
        call({ worker: "billing", model: "claude", costUsd: 0.0000007, at: FEB_1 }),
        call({ worker: "network", model: "gpt", costUsd: 0.0123456, at: FEB_2 }),
        call({ worker: undefined, model: "gpt", costUsd: 0.1, at: FEB_2 }),
        call({ tenant: "globex", worker: "billing", model: "gpt", costUsd: 5, at: FEB_2 }),
      ];
      for (const entry of calls) await ledger.record(entry);
      const acme = calls.filter((c) => c.tenant === "acme");
      const nanos = (usd: number) => Math.round(usd * 1e9);
      for (const by of ["worker", "model", "day"] as const) {
        const rows = await ledger.totals({ tenant: "acme", by });
        assert.equal(
          rows.reduce((n, r) => n + r.calls, 0),
          acme.length,
          by,
        );
        assert.equal(
          rows.reduce((n, r) => n + nanos(r.costUsd), 0),
          acme.reduce((n, c) => n + nanos(c.costUsd), 0),
          `${by}: cost is exact to the nano-dollar`,
        );
        assert.equal(
          rows.reduce((n, r) => n + r.tokens, 0),
          acme.reduce((n, c) => n + c.inputTokens + c.outputTokens, 0),
        );
      }
      assert.deepEqual(
        (await ledger.totals({ tenant: "acme", by: "worker" })).map((r) => [r.key, r.calls]),
        [
          ["", 1],
          ["billing", 2],
          ["network", 1],
        ],
      );
      assert.deepEqual(
        (await ledger.totals({ by: "day" })).map((r) => [r.key, r.calls]),
        [
          ["2026-01-31", 1],
          ["2026-02-01", 1],
          ["2026-02-02", 3],
        ],
      );
      assert.deepEqual(
        (await ledger.totals({ by: "model", from: FEB_1, to: FEB_2 })).map((r) => [r.key, r.costUsd]),
        [["claude", 0.0000007]],
      );
    });

    it("keeps each call's cost to the nano-dollar, so sums of many small costs are exact", async () => {
      for (let i = 0; i < 10; i++) await ledger.record(call({ costUsd: 0.0000001 }));
      assert.equal((await ledger.spent({ kind: "request", runId: "run-1" })).costUsd, 0.000001);
    });

    it("lists entries oldest first, filtered by tenant and run", async () => {
      await ledger.record(call({ runId: "a", outputTokens: 1 }));
      await ledger.record(call({ runId: "b", outputTokens: 2, tenant: "globex" }));
      await ledger.record(call({ runId: "a", outputTokens: 3, worker: undefined, provider: undefined }));
      assert.deepEqual(
        (await ledger.entries({ runId: "a" })).map((e) => e.outputTokens),
        [1, 3],
      );
      assert.equal((await ledger.entries({ tenant: "globex" }))[0]?.runId, "b");
      const [first, , third] = await ledger.entries();
      assert.deepEqual(first, call({ runId: "a", outputTokens: 1 }));
      assert.equal(third?.worker, undefined);
      assert.equal(third?.provider, undefined);
    });

    it("takes a hold only when every limit holds with it, and names the scope that does not", async () => {
      await ledger.record(call({ inputTokens: 600, outputTokens: 0, costUsd: 0.06 }));
      const checks = [
        { scope: { kind: "request" as const, runId: "run-1" }, tokens: 1000 },
        {
          scope: { kind: "tenant" as const, tenant: "acme", period: "month" as const, at: FEB_1 },
          costUsd: 0.1,
        },
      ];
      assert.deepEqual(await ledger.hold(hold({ id: "a", tokens: 400, costUsd: 0.04, checks })), {
        ok: true,
      });
      const refused = await ledger.hold(hold({ id: "b", tokens: 1, costUsd: 0, checks }));
      assert.equal(refused.ok, false, "600 spent + 400 held + 1 > 1000");
      assert.deepEqual(!refused.ok && refused.exceeded, {
        scope: checks[0]!.scope,
        unit: "tokens",
        limit: 1000,
        spent: 1000,
        requested: 1,
      });
      const costly = await ledger.hold(
        hold({ id: "c", runId: "run-2", tokens: 1, costUsd: 0.000001, checks: [checks[1]!] }),
      );
      assert.deepEqual(!costly.ok && costly.exceeded, {
        scope: checks[1]!.scope,
        unit: "usd",
        limit: 0.1,
        spent: 0.1,
        requested: 0.000001,
      });
      // A refused hold takes nothing: settling the first one frees room for exactly what it did not use.
      await ledger.settle("a", call({ inputTokens: 300, outputTokens: 0, costUsd: 0.03 }));
      assert.equal((await ledger.hold(hold({ id: "d", tokens: 100, costUsd: 0.01, checks }))).ok, true);
      assert.equal(
        (await ledger.spent({ kind: "request", runId: "run-1" })).tokens,
        900,
        "holds are not spend",
      );
    });

    it("allows spending exactly up to a limit", async () => {
      const checks = (worker: string) => [
        { scope: { kind: "worker" as const, runId: "run-1", worker }, tokens: 100, costUsd: 0.01 },
      ];
      assert.equal(
        (await ledger.hold(hold({ tokens: 100, costUsd: 0.01, checks: checks("billing") }))).ok,
        true,
      );
      assert.equal(
        (await ledger.hold(hold({ id: "h2", tokens: 1, costUsd: 0, checks: checks("billing") }))).ok,
        false,
      );
      assert.equal(
        (
          await ledger.hold(
            hold({ id: "h3", worker: "network", tokens: 100, costUsd: 0.01, checks: checks("network") }),
          )
        ).ok,
        true,
        "another worker's hold does not count against this worker",
      );
    });

    it("releases a hold settled without a call, and lets expired holds lapse", async () => {
      const checks = [{ scope: { kind: "request" as const, runId: "run-1" }, tokens: 100 }];
      assert.equal((await ledger.hold(hold({ id: "x", tokens: 100, checks }))).ok, true);
      await ledger.settle("x", undefined);
      assert.equal((await ledger.hold(hold({ id: "y", tokens: 100, checks }))).ok, true);
      assert.equal((await ledger.spent({ kind: "request", runId: "run-1" })).calls, 0);
      const later = FEB_1 + 60_000;
      assert.equal(
        (await ledger.hold(hold({ id: "z", tokens: 100, at: later, expiresAt: later + 1, checks }))).ok,
        true,
        "hold y expired at its expiresAt",
      );
    });
  });
}
