/**
 * Gateway overhead per model call, with every middleware on (cache, breaker, budget with all
 * four scopes limited, retry, telemetry, response check, two-model fallback chain) over a
 * zero-latency in-process model.
 *
 *   node src/models/gateway/measure.ts [--iterations 20000] [--ledger memory|sqlite] [--json]
 *
 * Each gateway call is timed next to a direct call of the same model with the same arguments;
 * overhead = gateway time − direct time, per pair, so machine noise mostly cancels.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { Budget } from "../../budget/budget.ts";
import type { Ledger } from "../../budget/ledger.ts";
import { MemoryLedger } from "../../budget/memory/memory-ledger.ts";
import { createSqliteLedger } from "../../budget/sqlite/sqlite-ledger.ts";
import { ScriptedModel } from "../../testing/scripted-model.ts";
import { BreakerRegistry } from "./breaker-registry.ts";
import { createGatewayModel } from "./create-gateway-model.ts";
import { MemoryResponseCache } from "./response-cache.ts";

export interface OverheadFigures {
  readonly iterations: number;
  /** Per-call overhead of the gateway, microseconds. */
  readonly p50Us: number;
  readonly p99Us: number;
  /** The direct call, for scale. */
  readonly directP50Us: number;
}

export interface GatewayOverheadReport {
  /** Deterministic calls with distinct prompts: cache key hashed, missed, answer stored. */
  readonly cacheMiss: OverheadFigures;
  /** Sampling calls (no temperature): the cache steps aside. */
  readonly uncached: OverheadFigures;
  /** The same deterministic call again: answered from the cache, the model is not called. */
  readonly cacheHit: OverheadFigures;
}

const SYSTEM =
  "You are the billing worker of a telecom operator. Answer the customer's question about their bill " +
  "using the tools. Never invent charges; quote amounts exactly as the tools return them. If the customer " +
  "asks for a refund above the policy limit, escalate to a human and say so plainly. Keep the answer under " +
  "120 words, in the customer's language, and do not repeat their personal data back to them. Tokens like " +
  "[EMAIL_1] stand for personal data that was removed; keep them as they are.";

function params(user: string, temperature: number | undefined): LanguageModelV4CallOptions {
  return {
    prompt: [
      { role: "system", content: SYSTEM },
      { role: "user", content: [{ type: "text", text: user }] },
    ],
    tools: [
      {
        type: "function",
        name: "lookup_invoice",
        description: "Find an invoice of the customer by month",
        inputSchema: {
          type: "object",
          properties: { month: { type: "string", pattern: "^\\d{4}-\\d{2}$" } },
          required: ["month"],
        },
      },
    ],
    maxOutputTokens: 400,
    ...(temperature === undefined ? {} : { temperature }),
  };
}

function fastModel(modelId: string): LanguageModelV4 {
  return new ScriptedModel({
    modelId,
    rules: [{ reply: { text: "Your March invoice is 42.10 EUR.", usage: { input: 180, output: 12 } } }],
    record: false,
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function measureCase(
  iterations: number,
  ledger: Ledger,
  makeParams: (i: number) => LanguageModelV4CallOptions,
): Promise<OverheadFigures> {
  const direct = fastModel("direct");
  const budget = new Budget({
    ledger,
    limits: {
      perRequest: { tokens: 1e12, costUsd: 1e9 },
      perWorker: { tokens: 1e12, costUsd: 1e9 },
      perTenant: { day: { tokens: 1e12, costUsd: 1e9 }, month: { tokens: 1e12, costUsd: 1e9 } },
    },
  });
  let events = 0;
  const gateway = createGatewayModel({
    chain: [
      {
        name: "primary",
        model: fastModel("primary"),
        spec: { price: { inputPerMTok: 2, outputPerMTok: 8 }, latencyObjectiveMs: 2000 },
      },
      {
        name: "fallback",
        model: fastModel("fallback"),
        spec: { price: { inputPerMTok: 1, outputPerMTok: 4 } },
      },
    ],
    context: { tenant: "acme", runId: "bench-run", worker: "billing", profileVersion: "bench" },
    breaker: new BreakerRegistry({ defaults: { costPerCallUsd: 1 } }),
    budget,
    cache: { store: new MemoryResponseCache({ maxEntries: 10_000 }) },
    telemetry: () => {
      events++;
    },
    onEvent: () => {
      events++;
    },
  });

  const warmup = Math.min(2000, iterations);
  const overhead: number[] = [];
  const directTimes: number[] = [];
  for (let i = 0; i < warmup + iterations; i++) {
    const p = makeParams(i);
    const t0 = performance.now();
    await direct.doGenerate(p);
    const t1 = performance.now();
    await gateway.doGenerate(p);
    const t2 = performance.now();
    if (i < warmup) continue;
    directTimes.push((t1 - t0) * 1000);
    overhead.push((t2 - t1 - (t1 - t0)) * 1000);
  }
  if (events === 0) throw new Error("the gateway reported no events; telemetry is not on");
  overhead.sort((a, b) => a - b);
  directTimes.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    iterations,
    p50Us: round(percentile(overhead, 0.5)),
    p99Us: round(percentile(overhead, 0.99)),
    directP50Us: round(percentile(directTimes, 0.5)),
  };
}

/**
 * Measures the gateway's overhead per call in three cases (see {@link GatewayOverheadReport}).
 * `ledger: "sqlite"` keeps the cost ledger in a SQLite file (a transaction to hold and one to settle per call).
 */
export async function measureGatewayOverhead(
  options: { iterations?: number; ledger?: "memory" | "sqlite" } = {},
): Promise<GatewayOverheadReport> {
  const iterations = options.iterations ?? 20_000;
  const dir =
    options.ledger === "sqlite" ? mkdtempSync(join(tmpdir(), "arbiter-gateway-measure-")) : undefined;
  let n = 0;
  const ledger = () =>
    dir === undefined ? new MemoryLedger() : createSqliteLedger({ path: join(dir, `${n++}.db`) });
  const question = "Why is my March bill higher than February?";
  try {
    return {
      cacheMiss: await measureCase(iterations, ledger(), (i) => params(`${question} (#${i})`, 0)),
      uncached: await measureCase(iterations, ledger(), (i) => params(`${question} (#${i})`, undefined)),
      cacheHit: await measureCase(iterations, ledger(), () => params(question, 0)),
    };
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      iterations: { type: "string", default: "20000" },
      ledger: { type: "string", default: "memory" },
      json: { type: "boolean", default: false },
    },
  });
  const report = await measureGatewayOverhead({
    iterations: Number(values.iterations),
    ledger: values.ledger === "sqlite" ? "sqlite" : "memory",
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ gatewayOverheadP50Us: report.cacheMiss.p50Us, ...report })}\n`);
  } else {
    for (const [name, figures] of Object.entries(report)) {
      process.stdout.write(
        `${name.padEnd(10)} overhead p50 ${figures.p50Us.toFixed(1)} µs  p99 ${figures.p99Us.toFixed(1)} µs` +
          `  (direct call p50 ${figures.directP50Us.toFixed(1)} µs, ${figures.iterations} calls)\n`,
      );
    }
  }
}
