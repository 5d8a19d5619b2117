import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { generateText, streamText } from "ai";
import { Budget } from "../../budget/budget.ts";
import { BudgetExceededError } from "../../budget/budget-exceeded-error.ts";
import { MemoryLedger } from "../../budget/memory/memory-ledger.ts";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { ProviderServer, RecordedRequest } from "../../testing/provider-server/provider-server.ts";
import { startProviderServer } from "../../testing/provider-server/provider-server.ts";
import type { ScriptedReply } from "../../testing/provider-server/scripted-reply.ts";
import { reply } from "../../testing/provider-server/scripted-reply.ts";
import { ScriptedModel } from "../../testing/scripted-model.ts";
import { createLanguageModel } from "../providers/create-language-model.ts";
import type { ModelSpecInput } from "../providers/model-spec.ts";
import { BreakerRegistry } from "./breaker-registry.ts";
import type { GatewayChainEntry, GatewayModelOptions } from "./create-gateway-model.ts";
import { createGateway, createGatewayModel } from "./create-gateway-model.ts";
import type { GatewayEvent } from "./gateway-events.ts";
import { MemoryResponseCache } from "./response-cache.ts";

// The real AI SDK providers (OpenAI Chat Completions, Anthropic Messages) against a local server.
const PRIMARY = "gpt-primary";
const FALLBACK = "claude-fallback";
const env = { OPENAI_API_KEY: "sk-test-1111", ANTHROPIC_API_KEY: "sk-ant-2222" };

let server: ProviderServer;
const queues = new Map<string, ScriptedReply[]>();
const script = (model: string, ...replies: ScriptedReply[]) => {
  queues.set(model, [...(queues.get(model) ?? []), ...replies]);
};
const requestsTo = (model: string): RecordedRequest[] => server.requests.filter((r) => r.model === model);

before(async () => {
  server = await startProviderServer({
    onRequest: (request) =>
      queues.get(request.model ?? "")?.shift() ??
      reply.text(`answer from ${request.model}`, { usage: { inputTokens: 40, outputTokens: 10 } }),
  });
});
after(() => server.close());

let skew: number;
const clock = () => Date.now() + skew;
beforeEach(() => {
  server.requests.length = 0;
  queues.clear();
  skew = 0;
});

function chainOf(primary: Partial<ModelSpecInput> = {}): GatewayChainEntry[] {
  const primarySpec = {
    provider: "openai",
    model: PRIMARY,
    baseURL: server.openaiBaseURL,
    options: { api: "chat" },
    price: { inputPerMTok: 2, outputPerMTok: 8 },
    ...primary,
  } as ModelSpecInput;
  const fallbackSpec: ModelSpecInput = {
    provider: "anthropic",
    model: FALLBACK,
    baseURL: server.anthropicBaseURL,
    price: { inputPerMTok: 1, outputPerMTok: 4 },
  };
  return [
    { name: "primary", model: createLanguageModel(primarySpec, { env }), spec: primarySpec },
    { name: "fallback", model: createLanguageModel(fallbackSpec, { env }), spec: fallbackSpec },
  ];
}

function gateway(options: Partial<GatewayModelOptions> = {}) {
  const events: GatewayEvent[] = [];
  const model = createGatewayModel({
    chain: chainOf(),
    context: { tenant: "acme", runId: "run-1", worker: "billing", profileVersion: "pv1" },
    breaker: new BreakerRegistry(),
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    clock,
    random: () => 0.5,
    ...options,
    onEvent: (event) => events.push(event),
  });
  const ofType = <T extends GatewayEvent["type"]>(type: T) =>
    events.filter((e): e is Extract<GatewayEvent, { type: T }> => e.type === type);
  return { model, events, ofType };
}

const ask = (
  model: Parameters<typeof generateText>[0]["model"],
  prompt = "Why is my bill high?",
  extra = {},
) => generateText({ model, prompt, maxRetries: 0, ...extra });

describe("gateway: breaker and fallback chain", () => {
  it("a slow primary opens its breaker, traffic hops to the fallback, the primary recovers through half-open", async () => {
    const breakers = new BreakerRegistry({ defaults: { minCalls: 3, coolDownMs: 10_000 } });
    const { model, ofType } = gateway({
      chain: chainOf({ latencyObjectiveMs: 100 }),
      breaker: breakers,
    });
    script(PRIMARY, ...[1, 2, 3].map(() => reply.text("slow but fine", { delayMs: 150 })));

    for (let i = 0; i < 3; i++) assert.equal((await ask(model)).text, "slow but fine");
    assert.equal(breakers.get("primary").state(clock()), "open", "p90 of 150 ms > 100 ms objective");
    assert.equal(ofType("model-hop").length, 0, "slow answers are still answers");

    const hopped = await ask(model);
    assert.equal(hopped.text, `answer from ${FALLBACK}`);
    const [hop] = ofType("model-hop");
    assert.equal(hop?.from, "primary");
    assert.equal(hop?.to, "fallback");
    assert.equal(hop?.reason, "latency");
    assert.equal(hop?.threshold, 100);
    assert.ok(hop!.measured! >= 150, `measured ${hop?.measured}`);
    assert.deepEqual(hop && { tenant: hop.tenant, runId: hop.runId, worker: hop.worker }, {
      tenant: "acme",
      runId: "run-1",
      worker: "billing",
    });
    assert.equal(requestsTo(PRIMARY).length, 3, "the open breaker kept the call away from the primary");

    skew = 10_000; // the cool-down has passed
    assert.equal(breakers.get("primary").state(clock()), "half-open");
    assert.equal(
      (await ask(model)).text,
      `answer from ${PRIMARY}`,
      "the probe goes to the primary, which is fast again",
    );
    assert.equal(breakers.get("primary").state(clock()), "closed");
    assert.equal((await ask(model)).text, `answer from ${PRIMARY}`);
    assert.equal(requestsTo(PRIMARY).length, 5);
    assert.equal(ofType("model-hop").length, 1);
  });

  it("error rate opens the breaker; while the probe fails the breaker stays open", async () => {
    const breakers = new BreakerRegistry({ defaults: { minCalls: 2, errorRate: 0.5, coolDownMs: 1000 } });
    const { model, ofType } = gateway({ breaker: breakers, retry: { maxRetries: 0 } });
    script(PRIMARY, reply.serverError(503), reply.serverError(503), reply.serverError(500));

    await ask(model); // fails on primary, answered by the fallback
    await ask(model); // second failure: 2/2 ≥ 0.5 opens the breaker
    await ask(model); // skipped
    assert.deepEqual(
      ofType("model-hop").map((h) => [h.reason, h.status, h.measured]),
      [
        ["error", 503, undefined],
        ["error", 503, undefined],
        ["error-rate", undefined, 1],
      ],
    );
    skew = 1000;
    await ask(model); // the probe gets the scripted 500 and re-opens the breaker
    assert.equal(breakers.get("primary").state(clock()), "open");
    assert.equal(requestsTo(PRIMARY).length, 3);
    assert.equal(ofType("model-hop").at(-1)?.reason, "error");
  });

  it("500s are retried with backoff, then the call falls back", async () => {
    const { model, ofType } = gateway({ retry: { maxRetries: 2, baseDelayMs: 10 } });
    script(PRIMARY, reply.serverError(500), reply.serverError(502), reply.serverError(500));

    assert.equal((await ask(model)).text, `answer from ${FALLBACK}`);
    assert.equal(requestsTo(PRIMARY).length, 3);
    assert.deepEqual(
      ofType("model-retry").map((r) => [r.attempt, r.status, r.delayMs]),
      [
        [1, 500, 8], // 10 ms backoff, half fixed + half jitter (random 0.5)
        [2, 502, 15],
      ],
    );
    const calls = ofType("model-call");
    assert.deepEqual(
      calls.map((c) => [c.model, c.ok, c.status]),
      [
        ["primary", false, 500],
        ["primary", false, 502],
        ["primary", false, 500],
        ["fallback", true, undefined],
      ],
    );
    assert.deepEqual(
      ofType("model-hop").map((h) => [h.from, h.to, h.reason, h.status]),
      [["primary", "fallback", "error", 500]],
    );
  });

  it("a 429 is retried after the Retry-After it asks for", async () => {
    const { model, ofType } = gateway({ retry: { baseDelayMs: 5 } });
    script(PRIMARY, reply.rateLimited(1));
    const started = Date.now();

    assert.equal((await ask(model)).text, `answer from ${PRIMARY}`);
    assert.ok(Date.now() - started >= 1000, `waited ${Date.now() - started} ms`);
    assert.deepEqual(
      ofType("model-retry").map((r) => [r.fault, r.status, r.delayMs]),
      [["rate-limit", 429, 1000]],
    );
    assert.equal(ofType("model-hop").length, 0);
  });

  it("a Retry-After beyond the cap is not waited out: the call hops at once", async () => {
    const { model, ofType } = gateway({ retry: { maxRetryAfterMs: 5000 } });
    script(PRIMARY, reply.rateLimited(120));
    const started = Date.now();

    assert.equal((await ask(model)).text, `answer from ${FALLBACK}`);
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(
      ofType("model-hop").map((h) => [h.reason, h.status]),
      [["error", 429]],
    );
  });

  it("malformed JSON is a failed call with its raw status, and falls back (never an empty answer)", async () => {
    const { model, ofType } = gateway();
    script(PRIMARY, reply.text("lost", { fault: "malformed-json" }));

    assert.equal((await ask(model)).text, `answer from ${FALLBACK}`);
    const [failed] = ofType("model-call");
    assert.deepEqual(failed && [failed.model, failed.ok, failed.status, failed.fault], [
      "primary",
      false,
      200,
      "malformed",
    ]);
    assert.equal(
      requestsTo(PRIMARY).length,
      1,
      "the SDK marks invalid JSON as not retryable: straight to the fallback",
    );
  });

  it("a wrong content type and a truncated body are retried, then fall back", async () => {
    const { model, ofType } = gateway({ retry: { maxRetries: 1, baseDelayMs: 1 } });
    script(
      PRIMARY,
      reply.text("x", { fault: "wrong-content-type" }),
      reply.text("x", { fault: "truncated" }),
    );

    assert.equal((await ask(model)).text, `answer from ${FALLBACK}`);
    assert.deepEqual(
      ofType("model-call").map((c) => [c.model, c.ok, c.status, c.fault]),
      [
        ["primary", false, 200, "content-type"],
        ["primary", false, 200, "truncated"],
        ["fallback", true, undefined, undefined],
      ],
    );
  });

  it("a stream that fails before its first content falls back; the caller streams the fallback's answer", async () => {
    const { model, ofType } = gateway({ retry: { maxRetries: 0 } });
    script(PRIMARY, reply.text("broken", { fault: "malformed-json" }));

    const result = streamText({ model, prompt: "Stream it", maxRetries: 0 });
    assert.equal(await result.text, `answer from ${FALLBACK}`);
    assert.deepEqual(
      ofType("model-call").map((c) => [c.model, c.ok, c.fault, c.stream]),
      [
        ["primary", false, "stream-error", true],
        ["fallback", true, undefined, true],
      ],
    );
    assert.equal(ofType("model-call")[1]?.usage.inputTokens, 40);
  });

  it("a stream that ends without its finish after content is recorded as failed and carries an error", async () => {
    const { model, ofType } = gateway();
    script(PRIMARY, reply.text("half an answer", { fault: "no-finish" }));

    const result = streamText({ model, prompt: "Stream it", maxRetries: 0, onError: () => {} });
    const parts: string[] = [];
    for await (const part of result.fullStream) parts.push(part.type);
    assert.ok(parts.includes("error"), parts.join(","));
    assert.equal(await result.finishReason, "error");
    const [call] = ofType("model-call");
    assert.deepEqual(call && [call.ok, call.fault, call.status], [false, "interrupted", 200]);
  });

  it("when every model has its breaker open, the call fails fast with circuit-open", async () => {
    const breakers = new BreakerRegistry({ defaults: { minCalls: 1, coolDownMs: 60_000 } });
    const { model } = gateway({ breaker: breakers, retry: { maxRetries: 0 } });
    script(PRIMARY, reply.serverError(500));
    script(FALLBACK, reply.serverError(500));
    await assert.rejects(ask(model), (error: unknown) => {
      assert.ok(ArbiterError.is(error, ErrorCode.ModelFailed));
      assert.deepEqual(
        (error.details.failures as { model: string; status: number }[]).map((f) => [f.model, f.status]),
        [
          ["primary", 500],
          ["fallback", 500],
        ],
      );
      return true;
    });
    await assert.rejects(ask(model), (error: unknown) => ArbiterError.is(error, ErrorCode.CircuitOpen));
    assert.equal(server.requests.length, 2);
  });
});

describe("gateway: budgets and the ledger", () => {
  it("a per-request budget stops one call with a typed error while calls under it pass", async () => {
    const ledger = new MemoryLedger();
    const budget = new Budget({ ledger, limits: { perRequest: { tokens: 700 } }, clock });
    const branch = (worker: string) =>
      createGatewayModel({
        chain: chainOf(),
        context: { tenant: "acme", runId: "run-9", worker, profileVersion: "pv1" },
        breaker: new BreakerRegistry(),
        budget,
        clock,
        onEvent: (event) => events.push(event),
      });
    const events: GatewayEvent[] = [];
    script(
      PRIMARY,
      ...[1, 2, 3].map(() => reply.text("ok", { delayMs: 50, usage: { inputTokens: 30, outputTokens: 20 } })),
    );

    const results = await Promise.allSettled([
      ask(branch("billing"), "Short question", { maxOutputTokens: 100 }),
      ask(branch("network"), "Short question", { maxOutputTokens: 100 }),
      ask(branch("sales"), "Short question", { maxOutputTokens: 600 }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected"],
    );
    const refused = (results[2] as PromiseRejectedResult).reason;
    assert.ok(refused instanceof BudgetExceededError, String(refused));
    assert.equal(refused.scope, "request");
    assert.equal(refused.subject, "run-9");
    assert.equal(refused.limit, 700);
    assert.equal(requestsTo(PRIMARY).length, 2, "the refused call never reached a provider");
    assert.equal(server.requests.length, 2, "nor the fallback: a budget refusal does not hop");
    assert.deepEqual(
      events.filter((e) => e.type === "budget-exceed").map((e) => e.worker),
      ["sales"],
    );
    // Calls held against a budget say what they were charged against it.
    assert.deepEqual(
      events.filter((e) => e.type === "budget-charge").map((e) => [e.worker, e.inputTokens, e.outputTokens]),
      [
        ["billing", 30, 20],
        ["network", 30, 20],
      ],
    );
    assert.deepEqual(await ledger.spent({ kind: "request", runId: "run-9" }), {
      inputTokens: 60,
      outputTokens: 40,
      tokens: 100,
      costUsd: (2 * (30 * 2 + 20 * 8)) / 1e6,
      calls: 2,
    });
  });

  it("ledger totals equal the sum of the calls made", async () => {
    const ledger = new MemoryLedger();
    const budget = new Budget({ ledger, clock });
    const events: GatewayEvent[] = [];
    const breakers = new BreakerRegistry();
    const model = (worker: string) =>
      createGatewayModel({
        chain: chainOf(),
        context: { tenant: "acme", runId: "run-7", worker, profileVersion: "pv1" },
        breaker: breakers,
        budget,
        retry: { maxRetries: 0 },
        clock,
        onEvent: (event) => events.push(event),
      });
    script(
      PRIMARY,
      reply.text("a", { usage: { inputTokens: 11, outputTokens: 3 } }),
      reply.serverError(500),
      reply.text("c", { usage: { inputTokens: 17, outputTokens: 9 } }),
    );
    script(FALLBACK, reply.text("b", { usage: { inputTokens: 23, outputTokens: 5 } }));
    await ask(model("billing"));
    await ask(model("network"));
    await ask(model("network"));

    const charged = events.filter((e) => e.type === "model-call" && e.ok);
    const sum = (pick: (e: Extract<GatewayEvent, { type: "model-call" }>) => number) =>
      charged.reduce((n, e) => n + pick(e as Extract<GatewayEvent, { type: "model-call" }>), 0);
    const nanos = (usd: number) => Math.round(usd * 1e9);
    for (const by of ["worker", "model", "day"] as const) {
      const rows = await ledger.totals({ tenant: "acme", by });
      assert.equal(
        rows.reduce((n, r) => n + r.calls, 0),
        3,
        by,
      );
      assert.equal(
        rows.reduce((n, r) => n + r.inputTokens, 0),
        sum((e) => e.usage.inputTokens),
      );
      assert.equal(
        rows.reduce((n, r) => n + r.outputTokens, 0),
        sum((e) => e.usage.outputTokens),
      );
      assert.equal(
        rows.reduce((n, r) => n + nanos(r.costUsd), 0),
        sum((e) => nanos(e.costUsd)),
      );
    }
    assert.deepEqual(
      (await ledger.totals({ by: "model" })).map((r) => [r.key, r.inputTokens, r.costUsd]),
      [
        ["fallback", 23, (23 * 1 + 5 * 4) / 1e6],
        ["primary", 28, (28 * 2 + 12 * 8) / 1e6],
      ],
    );
    const [first] = await ledger.entries();
    assert.deepEqual(first && [first.worker, first.model, first.provider, first.profileVersion], [
      "billing",
      "primary",
      "openai.chat",
      "pv1",
    ]);
  });
});

describe("gateway: response cache", () => {
  it("a hit costs nothing and never reaches the server; the cache is per tenant and deterministic calls only", async () => {
    const ledger = new MemoryLedger();
    const budget = new Budget({ ledger, clock });
    const cache = { store: new MemoryResponseCache(), ttlMs: 60_000 };
    const events: GatewayEvent[] = [];
    const model = (tenant: string) =>
      createGatewayModel({
        chain: chainOf(),
        context: { tenant, runId: "run-c" },
        budget,
        cache,
        clock,
        onEvent: (event) => events.push(event),
      });
    const deterministic = { temperature: 0 };

    const first = await ask(model("acme"), "Same question", deterministic);
    const second = await ask(model("acme"), "Same question", deterministic);
    assert.equal(second.text, first.text);
    assert.equal(requestsTo(PRIMARY).length, 1, "the hit did not reach the server");
    assert.equal(second.usage.inputTokens, 0);
    assert.equal(second.usage.outputTokens, 0);
    const calls = events.filter((e) => e.type === "model-call");
    assert.deepEqual(
      calls.map((c) => [c.cached, c.costUsd > 0]),
      [
        [false, true],
        [true, false],
      ],
    );
    assert.equal(events.filter((e) => e.type === "cache-hit").length, 1);
    assert.equal((await ledger.entries()).length, 1, "the hit is not charged");

    await ask(model("globex"), "Same question", deterministic);
    await ask(model("acme"), "Same question");
    await ask(model("acme"), "Same question", { temperature: 0, maxOutputTokens: 50 });
    assert.equal(requestsTo(PRIMARY).length, 4, "other tenant, sampling, other settings: all misses");
    skew = 60_000;
    await ask(model("acme"), "Same question", deterministic);
    assert.equal(requestsTo(PRIMARY).length, 5, "expired after its TTL");
  });
});

describe("gateway: what is and is not the model's fault", () => {
  it("an attempt that outlives attemptTimeoutMs is aborted, retried, then falls back", async () => {
    const { model, ofType } = gateway({ retry: { attemptTimeoutMs: 100, maxRetries: 1, baseDelayMs: 1 } });
    script(PRIMARY, reply.text("too late", { delayMs: 2000 }), reply.text("too late", { delayMs: 2000 }));
    const started = Date.now();

    assert.equal((await ask(model)).text, `answer from ${FALLBACK}`);
    assert.ok(Date.now() - started < 1500);
    assert.deepEqual(
      ofType("model-call").map((c) => [c.model, c.ok, c.fault]),
      [
        ["primary", false, "timeout"],
        ["primary", false, "timeout"],
        ["fallback", true, undefined],
      ],
    );
    assert.ok(requestsTo(PRIMARY).every((r) => r.clientAborted));
  });

  it("an empty answer is a failed call, not an answer", async () => {
    const empty = new ScriptedModel({ modelId: "empty", replies: [{}] });
    const { model, ofType } = gateway({
      chain: [{ name: "empty", model: empty }, ...chainOf().slice(1)],
      retry: { maxRetries: 0 },
    });
    assert.equal((await ask(model)).text, `answer from ${FALLBACK}`);
    assert.deepEqual(
      ofType("model-call").map((c) => [c.model, c.ok, c.fault]),
      [
        ["empty", false, "empty"],
        ["fallback", true, undefined],
      ],
    );
  });

  it("the gateway's own failures and the caller's abort do not hop and do not count against the model", async () => {
    const broken = new MemoryLedger();
    broken.hold = async () => {
      throw new Error("disk full");
    };
    const breakers = new BreakerRegistry({ defaults: { minCalls: 1 } });
    const { model, ofType } = gateway({
      breaker: breakers,
      budget: new Budget({ ledger: broken, limits: { perRequest: { tokens: 10_000 } } }),
    });
    await assert.rejects(ask(model), /disk full/);
    assert.equal(server.requests.length, 0);
    assert.equal(ofType("model-hop").length, 0);

    const abortable = gateway({ breaker: breakers });
    script(PRIMARY, reply.text("slow", { delayMs: 2000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(ask(abortable.model, "Hello", { abortSignal: controller.signal }));
    assert.equal(abortable.ofType("model-hop").length, 0);
    assert.deepEqual(
      abortable.ofType("model-call").map((c) => [c.ok, c.fault]),
      [[false, "aborted"]],
    );
    assert.equal(
      breakers.get("primary").state(clock()),
      "closed",
      "a cancelled call says nothing about the model",
    );
  });
});

describe("gateway: the caller's own middleware per entry", () => {
  it("runs for the entry actually called; what it throws stops the call without a hop", async () => {
    const seen: string[] = [];
    const breakers = new BreakerRegistry({ defaults: { minCalls: 1 } });
    const { model, ofType } = gateway({
      breaker: breakers,
      retry: { maxRetries: 0 },
      entryMiddleware: (entry) => [
        {
          specificationVersion: "v4",
          wrapGenerate: async ({ doGenerate }) => {
            seen.push(entry.name);
            if (entry.name === "fallback") throw new ArbiterError(ErrorCode.PolicyDenied, "egress denied");
            return doGenerate();
          },
        },
      ],
    });
    assert.equal((await ask(model)).text, `answer from ${PRIMARY}`);
    script(PRIMARY, reply.serverError(500));
    await assert.rejects(ask(model), (error: unknown) => ArbiterError.is(error, ErrorCode.PolicyDenied));
    assert.deepEqual(seen, ["primary", "primary", "fallback"]);
    assert.equal(ofType("model-hop").length, 1, "primary → fallback, where the deny ends the call");
    assert.equal(requestsTo(FALLBACK).length, 0);
    assert.equal(breakers.get("fallback").state(clock()), "closed");
  });
});

describe("gateway: one chain's layers, many tasks", () => {
  it("tasks share the chain's layers (and its breaker) while each call is charged and journaled to its own task", async () => {
    const ledger = new MemoryLedger();
    const budget = new Budget({ ledger, clock });
    // Opens at a third of the calls failing (two answered, one failed, below).
    const breakers = new BreakerRegistry({ defaults: { minCalls: 3, errorRate: 0.3 } });
    const gateway = createGateway({ breaker: breakers, budget, retry: { maxRetries: 0 }, clock });
    const chain = chainOf();
    const events = new Map<string, GatewayEvent[]>();
    const seen: string[] = [];
    const task = (runId: string, worker: string) =>
      gateway.model(
        chain,
        { tenant: "acme", runId, worker, profileVersion: "pv1" },
        (event) => events.set(runId, [...(events.get(runId) ?? []), event]),
        // The task's own middleware for an entry sees the task's calls only.
        (entry) => [
          {
            specificationVersion: "v4",
            transformParams: async ({ params }) => {
              seen.push(`${runId}:${entry.name}`);
              return params;
            },
          },
        ],
      );
    script(PRIMARY, reply.text("a", { usage: { inputTokens: 11, outputTokens: 3 } }));
    script(PRIMARY, reply.text("b", { usage: { inputTokens: 7, outputTokens: 2 } }));
    await Promise.all([ask(task("run-a", "billing")), ask(task("run-b", "network"))]);

    for (const [runId, worker] of [
      ["run-a", "billing"],
      ["run-b", "network"],
    ] as const) {
      const mine = events.get(runId) ?? [];
      assert.ok(mine.length > 0, runId);
      assert.ok(
        mine.every((e) => e.runId === runId && e.worker === worker),
        JSON.stringify(mine),
      );
      const spent = await ledger.spent({ kind: "request", runId });
      assert.equal(spent.calls, 1, runId);
    }
    assert.deepEqual(seen.sort(), ["run-a:primary", "run-b:primary"]);

    // The primary fails for one task: the shared breaker opens, and the other task's next call hops at once.
    script(PRIMARY, reply.serverError(500));
    await ask(task("run-c", "billing"));
    assert.equal(breakers.get("primary").state(clock()), "open");
    await ask(task("run-d", "billing"));
    assert.equal(requestsTo(PRIMARY).length, 3, "run-d never reached the open primary");
    assert.equal(events.get("run-d")?.find((e) => e.type === "model-hop")?.runId, "run-d");
  });
});
