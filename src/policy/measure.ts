// Measures policy decision latency on the telecom bundle: `node src/policy/measure.ts [iterations]`.
import { join } from "node:path";
import { loadPolicyBundle } from "./cedar/load-policy-bundle.ts";
import type { PolicyRequest } from "./decision.ts";
import { delegationRequest, modelEgressRequest, toolCallRequest } from "./requests.ts";

const iterations = Number(process.argv[2] ?? 20_000);
const bundle = loadPolicyBundle(join(import.meta.dirname, "../../examples/telecom/policies"));
const scope = { runId: "run-1", tenant: "acme", taskId: "t1", injectionScore: 0.05 };
const run = { creditsIssuedCents: 0, failedLineTestInRun: false };

// A mix shaped like one run: delegations, read-only tool calls, model calls, a few side effects.
const mix: [string, PolicyRequest][] = [
  ["delegate", delegationRequest({ ...scope, worker: "billing", dataClasses: ["PII"] })],
  [
    "egress",
    modelEgressRequest({
      ...scope,
      worker: "billing",
      provider: "openai",
      model: "gpt-4o-mini",
      external: true,
      dataClasses: ["PII"],
    }),
  ],
  [
    "read-only",
    toolCallRequest({
      ...scope,
      worker: "billing",
      tool: "lookup_charges",
      args: { customerId: "C-1" },
      run,
    }),
  ],
  [
    "credit $30",
    toolCallRequest({
      ...scope,
      worker: "billing",
      tool: "issue_credit",
      args: { customerId: "C-1001", amount: 30, reason: "overcharge" },
      facts: { amountCents: 3000 },
      run,
    }),
  ],
  [
    "egress PCI",
    modelEgressRequest({
      ...scope,
      worker: "billing",
      provider: "openai",
      model: "gpt-4o-mini",
      external: true,
      dataClasses: ["PCI"],
    }),
  ],
  [
    "credit $80",
    toolCallRequest({
      ...scope,
      worker: "billing",
      tool: "issue_credit",
      args: { customerId: "C-1001", amount: 80, reason: "overcharge" },
      facts: { amountCents: 8000 },
      run,
    }),
  ],
];

const timings = new Map<string, number[]>(mix.map(([name]) => [name, []]));
const all: number[] = [];
for (let i = 0; i < 2_000; i++) for (const [, request] of mix) bundle.decide(request);
for (let i = 0; i < iterations; i++) {
  const [name, request] = mix[i % mix.length]!;
  const start = process.hrtime.bigint();
  bundle.decide(request);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  timings.get(name)!.push(ms);
  all.push(ms);
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(4);
};
console.log(`policy decide, telecom bundle ${bundle.version.slice(0, 12)}, ${iterations} decisions`);
for (const [name, values] of timings) {
  const outcome = bundle.decide(mix.find(([n]) => n === name)![1]).outcome;
  console.log(
    `  ${name.padEnd(11)} ${outcome.padEnd(15)} p50 ${pct(values, 0.5)} ms  p99 ${pct(values, 0.99)} ms`,
  );
}
console.log(`  all                         p50 ${pct(all, 0.5)} ms  p99 ${pct(all, 0.99)} ms`);
