import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import type { BudgetLimitsConfig, BudgetSubject } from "./budget.ts";
import { Budget } from "./budget.ts";
import { BudgetExceededError } from "./budget-exceeded-error.ts";
import { MemoryLedger } from "./memory/memory-ledger.ts";

const price = { inputPerMTok: 2, outputPerMTok: 8 };
const prompt = (text: string): LanguageModelV4Prompt => [
  { role: "system", content: "You are terse." },
  { role: "user", content: [{ type: "text", text }] },
];
const subject = (fields: Partial<BudgetSubject> = {}): BudgetSubject => ({
  tenant: "acme",
  runId: "run-1",
  worker: "billing",
  profileVersion: "v1",
  ...fields,
});

function setup(limits: BudgetLimitsConfig, now = Date.UTC(2026, 2, 15, 12)) {
  const clock = { now };
  let ids = 0;
  const ledger = new MemoryLedger();
  const budget = new Budget({ ledger, limits, clock: () => clock.now, newId: () => `hold-${++ids}` });
  const tokens = (n: number) => ({ inputTokens: n, outputTokens: 0, costUsd: 0, chars: 4 * n });
  return { budget, ledger, clock, tokens };
}

describe("Budget", () => {
  it("estimates prompt tokens (characters / 4, tools included) + max output tokens, priced from the catalog", () => {
    const { budget } = setup({});
    const estimate = budget.estimate("gpt", price, { prompt: prompt("x".repeat(386)), maxOutputTokens: 100 });
    assert.deepEqual(estimate, { inputTokens: 100, outputTokens: 100, chars: 400, costUsd: 0.001 });
    const withTools = budget.estimate("gpt", undefined, {
      prompt: prompt("x".repeat(386)),
      tools: [{ type: "function", name: "lookup", description: "Find it", inputSchema: { type: "object" } }],
    });
    assert.equal(withTools.chars, 400 + 6 + 7 + 17);
    assert.equal(withTools.outputTokens, 1024, "no maxOutputTokens: the default output estimate");
    assert.equal(withTools.costUsd, 0, "an unpriced model costs nothing");
  });

  it("learns a model's tokens per character from the usage providers report", async () => {
    const { budget } = setup({});
    const params = { prompt: prompt("y".repeat(786)), maxOutputTokens: 10 };
    const before = budget.estimate("claude", price, params);
    assert.equal(before.inputTokens, 200);
    await budget.settle(await budget.reserve(subject(), { name: "claude", price }, before), {
      inputTokens: 400,
      outputTokens: 10,
    });
    assert.equal(budget.estimate("claude", price, params).inputTokens, 400, "first report sets the ratio");
    assert.equal(budget.estimate("gpt", price, params).inputTokens, 200, "other models keep theirs");
  });

  it("stops the call that would pass the per-request budget while calls under it pass", async () => {
    const { budget, tokens } = setup({ perRequest: { tokens: 1000 } });
    const first = await budget.reserve(subject({ worker: "a" }), { name: "gpt" }, tokens(400));
    const second = await budget.reserve(subject({ worker: "b" }), { name: "gpt" }, tokens(400));
    await assert.rejects(
      budget.reserve(subject({ worker: "c" }), { name: "gpt" }, tokens(300)),
      (error: unknown) => {
        assert.ok(error instanceof BudgetExceededError);
        assert.ok(ArbiterError.is(error, ErrorCode.BudgetExceeded));
        assert.deepEqual(
          [error.scope, error.subject, error.unit, error.limit, error.spent, error.estimate],
          ["request", "run-1", "tokens", 1000, 800, 300],
        );
        assert.match(
          error.message,
          /request budget of run-1 .* 800 tokens spent or in flight \+ 300 tokens estimated > limit 1000 tokens/,
        );
        return true;
      },
    );
    await budget.settle(first, { inputTokens: 100, outputTokens: 50 });
    await budget.settle(second, undefined);
    await budget.reserve(subject({ worker: "c" }), { name: "gpt" }, tokens(850));
    assert.equal(
      (await budget.reserve(subject({ runId: "run-2" }), { name: "gpt" }, tokens(1000))).held,
      true,
      "another request has its own budget",
    );
  });

  it("applies per-worker limits, named-worker overrides and limits handed down with the call", async () => {
    const { budget, tokens } = setup({ perWorker: { tokens: 100 }, workers: { network: { tokens: 500 } } });
    await budget.reserve(subject(), { name: "gpt" }, tokens(100));
    await assert.rejects(budget.reserve(subject(), { name: "gpt" }, tokens(1)), {
      scope: "worker",
      subject: "run-1/billing",
    });
    await budget.reserve(subject({ worker: "network" }), { name: "gpt" }, tokens(500));
    await assert.rejects(
      budget.reserve(
        subject({ worker: "sales", limits: { worker: { tokens: 10 } } }),
        { name: "gpt" },
        tokens(11),
      ),
      {
        scope: "worker",
        limit: 10,
      },
    );
    assert.equal(
      (await budget.reserve(subject({ worker: undefined }), { name: "gpt" }, tokens(5000))).held,
      false,
    );
  });

  it("counts a tenant's money per UTC day and month, with per-tenant overrides", async () => {
    const { budget, clock } = setup({
      perTenant: { day: { costUsd: 0.01 }, month: { costUsd: 0.015 } },
      tenants: { globex: { month: { costUsd: 100 } } },
    });
    const cents = { inputTokens: 0, outputTokens: 0, costUsd: 0.01, chars: 0 };
    const spend = async (s: BudgetSubject) =>
      budget.settle(
        await budget.reserve(s, { name: "gpt", price: { inputPerMTok: 10, outputPerMTok: 0 } }, cents),
        {
          inputTokens: 1000,
          outputTokens: 0,
        },
      );
    await spend(subject());
    await assert.rejects(spend(subject({ runId: "run-2" })), {
      scope: "tenant-day",
      subject: "acme@2026-03-15",
    });
    clock.now = Date.UTC(2026, 2, 16, 0, 0, 0);
    await assert.rejects(spend(subject({ runId: "run-3" })), (error: BudgetExceededError) => {
      assert.equal(error.scope, "tenant-month");
      assert.equal(error.unit, "usd");
      assert.equal(error.spent, 0.01);
      assert.match(
        error.message,
        /\$0\.010000 spent or in flight \+ \$0\.010000 estimated > limit \$0\.015000/,
      );
      return true;
    });
    clock.now = Date.UTC(2026, 3, 1, 0, 0, 0);
    await spend(subject({ runId: "run-4" }));
    for (let i = 0; i < 3; i++) await spend(subject({ tenant: "globex", runId: `g${i}` }));
  });

  it("records every settled call in the ledger, with or without limits", async () => {
    const { budget, ledger, clock } = setup({});
    const estimate = budget.estimate("gpt", price, { prompt: prompt("hello"), maxOutputTokens: 5 });
    const hold = await budget.reserve(subject(), { name: "gpt", provider: "openai.chat", price }, estimate);
    const entry = await budget.settle(hold, { inputTokens: 1_000_000, outputTokens: 500_000 });
    assert.deepEqual(entry, {
      tenant: "acme",
      runId: "run-1",
      worker: "billing",
      model: "gpt",
      provider: "openai.chat",
      profileVersion: "v1",
      inputTokens: 1_000_000,
      outputTokens: 500_000,
      costUsd: 6,
      at: clock.now,
    });
    assert.deepEqual(await ledger.entries(), [entry]);
    assert.equal(
      await budget.settle(await budget.reserve(subject(), { name: "gpt" }, estimate), undefined),
      undefined,
    );
    assert.equal((await ledger.entries()).length, 1, "a call that used nothing is not recorded");
  });
});
