import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryLedger } from "../src/budget/memory/memory-ledger.ts";
import type { RunEvent } from "../src/journal/events.ts";
import { createModelResolver } from "../src/models/model-resolver.ts";
import { createProfileGateway } from "../src/models/profile-gateway.ts";
import { defineProfile } from "../src/profile/load-profile.ts";
import { createSupervisor, type Supervisor } from "../src/supervisor/supervisor.ts";
import { reply, startProviderServer } from "../src/testing/provider-server/index.ts";

const answer = (summary: string) => ({ status: "ok", summary, confidence: 0.9 });
const env = { ANTHROPIC_API_KEY: "test-key", OPENAI_API_KEY: "test-key" };
const events = (sup: Supervisor, runId: string): RunEvent[] => sup.journal.read(runId).map((e) => e.event);

test("a slow primary opens its breaker, traffic hops to the fallback, and the primary recovers through half-open", async () => {
  let slow = true;
  const server = await startProviderServer({
    onRequest: (r) =>
      r.model === "primary-model"
        ? reply.json(answer("from primary"), slow ? { delayMs: 150 } : {})
        : reply.json(answer("from backup")),
  });
  try {
    const profile = defineProfile({
      name: "p",
      models: {
        primary: {
          provider: "openai-compatible",
          model: "primary-model",
          baseURL: server.openaiBaseURL,
          breaker: { latency: "80ms", minCalls: 2, coolDown: "300ms" },
        },
        backup: { provider: "anthropic", model: "backup-model", baseURL: server.anthropicBaseURL },
      },
      workers: [
        { name: "a", description: "a", model: ["primary", "backup"], routing: { keywords: ["hello"] } },
      ],
    });
    const sup = createSupervisor({
      profile,
      models: createModelResolver(profile, { env }),
      gateway: createProfileGateway(profile, { ledger: new MemoryLedger() }).gateway,
    });
    const first = await sup.run({ message: "hello" });
    const second = await sup.run({ message: "hello" });
    assert.equal(first.tasks[0]!.summary, "from primary");
    assert.equal(second.tasks[0]!.summary, "from primary");
    const third = await sup.run({ message: "hello" });
    assert.equal(third.tasks[0]!.summary, "from backup");
    const hop = events(sup, third.runId).find((e) => e.type === "model-hop");
    assert.ok(
      hop?.type === "model-hop" && hop.from === "primary" && hop.to === "backup" && hop.reason === "latency",
    );
    assert.ok((hop.measured ?? 0) > 80 && hop.threshold === 80);
    const answered = events(sup, third.runId).find((e) => e.type === "model-call-end");
    assert.deepEqual(answered?.type === "model-call-end" && answered.answeredBy, {
      model: "backup",
      provider: "anthropic.messages",
      modelId: "backup-model",
      costUsd: 0,
    });
    slow = false;
    await new Promise((r) => setTimeout(r, 350));
    const probe = await sup.run({ message: "hello" });
    assert.equal(probe.tasks[0]!.summary, "from primary", "the half-open probe goes to the primary");
    const after = await sup.run({ message: "hello" });
    assert.equal(after.tasks[0]!.summary, "from primary", "closed again");
  } finally {
    await server.close();
  }
});

test("a per-worker budget stops one branch while the other finishes; a cached plan costs nothing", async () => {
  const server = await startProviderServer({
    onRequest: (r) => {
      const body = JSON.stringify(r.body);
      if (body.includes("Split the customer")) {
        return reply.json({
          tasks: [
            { id: "t1", worker: "a", input: "first part", dependsOn: [] },
            { id: "t2", worker: "b", input: "second part", dependsOn: [] },
          ],
        });
      }
      return reply.json(answer("done"), { usage: { inputTokens: 40, outputTokens: 10 } });
    },
  });
  try {
    const profile = defineProfile({
      name: "p",
      models: {
        m: {
          provider: "openai-compatible",
          model: "m",
          baseURL: server.openaiBaseURL,
          price: { inputPerMTok: 1, outputPerMTok: 2 },
        },
      },
      supervisor: { planner: { model: "m" } },
      budgets: { workers: { b: { tokens: 50 } } },
      workers: [
        { name: "a", description: "does a", model: "m" },
        { name: "b", description: "does b", model: "m" },
      ],
    });
    const ledger = new MemoryLedger();
    const sup = createSupervisor({
      profile,
      models: createModelResolver(profile, { env }),
      gateway: createProfileGateway(profile, { ledger }).gateway,
    });
    const result = await sup.run({ message: "something vague" });
    assert.equal(result.status, "partial");
    const [a, b] = result.tasks;
    assert.equal(a!.status, "ok");
    assert.equal(b!.status, "failed");
    assert.match(b!.reason ?? "", /budget/);
    const log = events(sup, result.runId);
    const exceed = log.find((e) => e.type === "budget-exceed");
    assert.ok(exceed?.type === "budget-exceed" && exceed.worker === "b" && exceed.scope === "worker");
    // A call is journaled once, with the attempt that answered it and its cost: no `model-attempt` or
    // charge event repeats it (calls under no budget).
    const calls = log.filter((e) => e.type === "model-call-end" && e.ok);
    assert.ok(calls.length >= 2);
    for (const call of calls) {
      assert.ok(
        call.type === "model-call-end" && call.answeredBy?.model === "m" && call.answeredBy.costUsd > 0,
      );
    }
    assert.equal(log.filter((e) => e.type === "model-attempt" || e.type === "budget-charge").length, 0);
    const plannerRequests = () =>
      server.requests.filter((r) => JSON.stringify(r.body).includes("Split the customer")).length;
    assert.equal(plannerRequests(), 1);
    const again = await sup.run({ message: "something vague" });
    assert.equal(plannerRequests(), 1, "the identical plan request was served from the cache");
    assert.ok(events(sup, again.runId).some((e) => e.type === "cache-hit"));
    const entries = await ledger.entries();
    const totals = await ledger.totals({ by: "worker" });
    assert.equal(
      totals.reduce((s, r) => s + r.calls, 0),
      entries.length,
    );
    assert.equal(
      Math.round(totals.reduce((s, r) => s + r.costUsd, 0) * 1e9),
      Math.round(entries.reduce((s, e) => s + e.costUsd, 0) * 1e9),
    );
    assert.equal(
      entries.length,
      server.requests.length,
      "every provider call is in the ledger; the cache hit is not",
    );
  } finally {
    await server.close();
  }
});

test("a tenant's monthly budget holds across two processes; arbiter costs reads the ledger", async () => {
  const { spawn } = await import("node:child_process");
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const server = await startProviderServer({
    onRequest: () => reply.json(answer("done"), { usage: { inputTokens: 1000, outputTokens: 500 } }),
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "arbiter-budget-"));
    writeFileSync(
      join(dir, "profile.yaml"),
      [
        "name: budgeted",
        "models:",
        `  m: { provider: openai-compatible, model: m, baseURL: "${server.openaiBaseURL}", price: { inputPerMTok: 1000, outputPerMTok: 2000 } }`,
        "budgets:",
        "  perTenant: { month: { costUsd: 2.5 } }",
        "workers:",
        "  - { name: a, description: does a, model: m, routing: { keywords: [hello] } }",
      ].join("\n"),
    );
    const bin = new URL("../bin/arbiter.js", import.meta.url).pathname;
    // Asynchronous: the provider server answers from this process's event loop.
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(process.execPath, [bin, ...args], {
          cwd: dir,
          env: { ...process.env, ARBITER_DB: join(dir, "a.db") },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => {
          stdout += d;
        });
        child.stderr.on("data", (d) => {
          stderr += d;
        });
        child.on("close", (status) => done({ status, stdout, stderr }));
      });
    // Each call costs 1000 × $1000/M + 500 × $2000/M = $2; the month allows $2.50.
    const first = await run("run", "profile.yaml", "hello", "--json", "--tenant", "acme");
    assert.equal(JSON.parse(first.stdout).status, "completed", first.stderr);
    const second = await run("run", "profile.yaml", "hello", "--json", "--tenant", "acme");
    const out = JSON.parse(second.stdout);
    assert.equal(out.status, "failed");
    assert.match(out.tasks[0].reason, /tenant-month|month/);
    const other = await run("run", "profile.yaml", "hello", "--json", "--tenant", "globex");
    assert.equal(JSON.parse(other.stdout).status, "completed", "another tenant has its own budget");
    const costs = await run("costs", "--tenant", "acme", "--by", "worker", "--json");
    assert.equal(costs.status, 0, costs.stderr);
    const rows = JSON.parse(costs.stdout).rows;
    assert.deepEqual(
      rows.map((r: { key: string; calls: number; costUsd: number }) => [r.key, r.calls, r.costUsd]),
      [["a", 1, 2]],
    );
  } finally {
    await server.close();
  }
});

test("an LLM worker's tool loop speaks the providers' wire formats: tool calls out, tool results back, answer parsed", async () => {
  const { defineTool } = await import("../src/tools/tool.ts");
  const { z } = await import("zod");
  for (const provider of ["openai-compatible", "anthropic"] as const) {
    const server = await startProviderServer({
      script: [reply.toolCall("lookup", { id: 7 }, { id: "call_1" }), reply.json(answer("It costs $12.50."))],
    });
    try {
      const seen: unknown[] = [];
      const lookup = defineTool({
        name: "lookup",
        description: "look a price up",
        input: z.object({ id: z.number().int() }),
        execute: async (input) => {
          seen.push(input);
          return { price: 12.5 };
        },
      });
      const profile = defineProfile(
        {
          name: "p",
          models: {
            m: {
              provider,
              model: "m",
              baseURL: provider === "anthropic" ? server.anthropicBaseURL : server.openaiBaseURL,
            },
          },
          workers: [
            {
              name: "a",
              description: "prices",
              tools: ["lookup"],
              model: "m",
              routing: { keywords: ["how much"] },
            },
          ],
        },
        { tools: [lookup] },
      );
      const sup = createSupervisor({ profile, models: createModelResolver(profile, { env }) });
      const result = await sup.run({ message: "how much is item 7?" });
      assert.equal(result.status, "completed", provider);
      assert.equal(result.tasks[0]!.summary, "It costs $12.50.");
      assert.deepEqual(seen, [{ id: 7 }]);
      assert.equal(server.requests.length, 2);
      const first = JSON.stringify(server.requests[0]!.body);
      assert.match(first, /"lookup"/, `${provider}: the tool is offered`);
      const second = JSON.stringify(server.requests[1]!.body);
      assert.match(second, /call_1/, `${provider}: the result answers the model's call id`);
      assert.match(second, /12\.5/, `${provider}: the tool result goes back to the model`);
    } finally {
      await server.close();
    }
  }
});
