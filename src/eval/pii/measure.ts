/**
 * PII measurement: quality on a labelled dataset and the cost of tokenisation.
 *
 *   node src/eval/pii/measure.ts [--data <file>] [--json] [--phone-regions US,GB] [--no-bench]
 *
 * Default data: ../shared/data/pii/presidio-synth-v2.json (relative to the working directory).
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createRecognizerRegistry, type RecognizerRegistry } from "../../guard/pii/recognizer-registry.ts";
import { createTokenizer } from "../../guard/pii/tokenizer.ts";
import { openVault } from "../../guard/pii/vault.ts";
import { createMemoryVaultStore } from "../../guard/pii/vault-store/memory/memory-vault-store.ts";
import { evalPii } from "./eval-pii.ts";
import { formatPiiReport } from "./format-pii-report.ts";
import { loadPiiDataset } from "./pii-dataset.ts";

interface BenchResult {
  name: string;
  chars: number;
  iterations: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
}

const FILLER =
  " My internet has been slow for days, especially in the evenings when I stream or join video calls." +
  " I restarted the router twice and checked the cables. Could you run a line test first and tell me" +
  " whether there is an outage in my area? I'd also like to know if the faster fibre plan would help.";

const NO_PII = (
  "Hi, my internet has been really slow for the last few days and I already restarted the router." +
  FILLER.repeat(3)
).slice(0, 500);

/** A 500-character message with a card, an e-mail, a phone number and an IBAN; `n` varies them. */
function withPii(n: number): string {
  const card = luhnComplete(`4111${String(n).padStart(11, "0")}`);
  const phone = `+44 20 7946 ${String(n % 10_000).padStart(4, "0")}`;
  return (
    `Please charge my card ${card.replace(/(\d{4})(?=\d)/g, "$1 ")} and mail the receipt to jane.${n}@example.com. ` +
    `Call me on ${phone} if needed. Refunds go to GB82 WEST 1234 5698 7654 32.${FILLER.repeat(3)}`
  ).slice(0, 500);
}

function luhnComplete(partial: string): string {
  for (let d = 0; d < 10; d++) {
    const candidate = partial + d;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let digit = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
      sum += digit;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error("unreachable");
}

async function bench(
  name: string,
  text: (i: number) => string,
  registry: RecognizerRegistry,
  iterations: number,
): Promise<BenchResult> {
  const tokenizer = createTokenizer({
    registry,
    vault: await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) }),
  });
  const warmup = Math.min(2_000, iterations);
  for (let i = 0; i < warmup; i++) await tokenizer.tokenize(text(iterations + i), { tenant: "bench" });
  const inputs = Array.from({ length: iterations }, (_, i) => text(i));
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await tokenizer.tokenize(inputs[i]!, { tenant: "bench" });
    samples[i] = (performance.now() - t0) * 1000;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    name,
    chars: inputs[0]!.length,
    iterations,
    medianUs: at(0.5),
    p99Us: at(0.99),
    meanUs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: "string", default: "../shared/data/pii/presidio-synth-v2.json" },
      json: { type: "boolean", default: false },
      "phone-regions": { type: "string" },
      "no-bench": { type: "boolean", default: false },
    },
  });
  const phoneRegions = values["phone-regions"]?.split(",").map((r) => r.trim());
  const registry = createRecognizerRegistry(phoneRegions ? { phoneRegions } : {});
  const dataset = loadPiiDataset(resolve(values.data));
  const report = await evalPii({
    data: dataset,
    registry,
    onProgress:
      values.json || !process.stderr.isTTY
        ? undefined
        : ({ done, total }) => process.stderr.write(`\r${done}/${total} samples`),
  });
  if (!values.json && process.stderr.isTTY) process.stderr.write("\n");

  const benches: BenchResult[] = [];
  if (!values["no-bench"]) {
    benches.push(await bench("tokenize, no PII", () => NO_PII, registry, 20_000));
    benches.push(await bench("tokenize, 4 PII values seen before", () => withPii(0), registry, 5_000));
    benches.push(await bench("tokenize, 4 PII values, 3 new each time", withPii, registry, 2_000));
  }

  if (values.json) {
    console.log(JSON.stringify({ report, valueMismatches: dataset.valueMismatches, benches }, null, 2));
    return;
  }
  console.log(formatPiiReport(report));
  if (dataset.valueMismatches > 0)
    console.log(`note: ${dataset.valueMismatches} spans' entity_value differ from their text`);
  for (const b of benches) {
    console.log(
      `${b.name}: median ${b.medianUs.toFixed(1)} µs, p99 ${b.p99Us.toFixed(1)} µs, mean ${b.meanUs.toFixed(1)} µs ` +
        `(${b.iterations} runs, ${b.chars} chars)`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
