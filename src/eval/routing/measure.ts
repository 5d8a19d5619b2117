/**
 * Development figures for the local router (not a test: takes a minute or two).
 *
 *   node src/eval/routing/measure.ts [--clinc FILE] [--domains FILE] [--multi FILE] [--injection FILE]
 *                                    [--split val|test] [--seeds 3] [--json]
 *
 * Routing on CLINC150 for N = 5, 10 and all examples per intent (few-shot runs averaged over
 * seeds), decomposition on the multi-intent file (valid and test splits), and injection
 * robustness on the deepset prompts.
 */
import { parseArgs } from "node:util";
import { evalDecompose } from "./eval-decompose.ts";
import { evalInjection } from "./eval-injection.ts";
import { evalRouting, type RoutingReport } from "./eval-routing.ts";
import { loadClincLayout, loadDomains, loadInjectionRows, loadMultiIntent } from "./load-data.ts";
import { textProgress } from "./progress.ts";

const { values } = parseArgs({
  options: {
    clinc: { type: "string", default: "../shared/data/clinc150/dev.json" },
    domains: { type: "string", default: "../shared/data/clinc150/domains.json" },
    multi: { type: "string", default: "test/fixtures/multi-intent/clinc-multi-intent.json" },
    injection: { type: "string", default: "../shared/data/injection/deepset-train.jsonl" },
    split: { type: "string", default: "val" },
    seeds: { type: "string", default: "3" },
    only: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const split = values.split === "test" ? "test" : "val";
const seeds = Math.max(1, Number(values.seeds));
const only = values.only?.split(",");
const progress = values.json ? undefined : textProgress();
const domains = loadDomains(values.domains);
const out: Record<string, unknown> = {};
const fmt = (x: number | null) => (x === null ? "n/a" : x.toFixed(4));

if (!only || only.includes("routing")) {
  const clinc = loadClincLayout(values.clinc);
  for (const n of [5, 10, undefined]) {
    const runs: RoutingReport[] = [];
    for (let seed = 1; seed <= (n === undefined ? 1 : seeds); seed++) {
      runs.push(
        evalRouting({
          data: clinc,
          domains,
          split,
          examplesPerIntent: n,
          seed,
          onProgress: progress,
          file: values.clinc,
        }),
      );
    }
    const mean = (pick: (r: RoutingReport) => number | null) =>
      runs.reduce((sum, r) => sum + (pick(r) ?? 0), 0) / runs.length;
    const summary = {
      runs: runs.length,
      workerAccuracy: mean((r) => r.workerAccuracy),
      workerAccuracyWithFallback: mean((r) => r.workerAccuracyWithFallback),
      intentAccuracy: mean((r) => r.intentAccuracy),
      oosRecall: mean((r) => r.oosRecall),
      falseFallbackRate: mean((r) => r.falseFallbackRate),
      routeP50Ms: mean((r) => r.routeP50Ms),
      routeP99Ms: mean((r) => r.routeP99Ms),
      trainMs: mean((r) => r.trainMs),
      perSeed: runs.map((r) => ({
        workerAccuracy: r.workerAccuracy,
        falseFallbackRate: r.falseFallbackRate,
        oosRecall: r.oosRecall,
        oosThreshold: r.oosThreshold,
      })),
    };
    const label = n === undefined ? "all" : String(n);
    out[`routing N=${label}`] = summary;
    if (!values.json) {
      console.log(
        `routing ${split} N=${label} (${runs.length} seed${runs.length > 1 ? "s" : ""}): worker ${fmt(summary.workerAccuracy)} ` +
          `(with fallback ${fmt(summary.workerAccuracyWithFallback)}) intent ${fmt(summary.intentAccuracy)} ` +
          `oosRecall ${fmt(summary.oosRecall)} falseFallback ${fmt(summary.falseFallbackRate)} ` +
          `p50 ${summary.routeP50Ms.toFixed(4)}ms p99 ${summary.routeP99Ms.toFixed(4)}ms train ${summary.trainMs.toFixed(0)}ms`,
      );
    }
  }
}

if (!only || only.includes("decompose")) {
  const data = loadMultiIntent(values.multi, domains);
  for (const part of ["valid", "test"] as const) {
    const report = evalDecompose({ data, domains, split: part, onProgress: progress, file: values.multi });
    out[`decompose ${part}`] = report;
    if (!values.json) {
      const by = Object.entries(report.byCount)
        .map(([k, s]) => `${k}-intent ${fmt(s.workerSetExact)} (n=${s.n})`)
        .join(", ");
      console.log(
        `decompose ${part}: workerSetExact ${fmt(report.workerSetExact)} intentSetExact ${fmt(report.intentSetExact)} ` +
          `countAccuracy ${fmt(report.countAccuracy)} [${by}] p99 ${report.decomposeP99Ms.toFixed(3)}ms`,
      );
    }
  }
}

if (!only || only.includes("injection")) {
  const clinc = loadClincLayout(values.clinc);
  const report = evalInjection({
    data: loadInjectionRows(values.injection),
    clinc,
    domains,
    onProgress: progress,
  });
  out.injection = report;
  if (!values.json) {
    console.log(
      `injection: precision ${fmt(report.precision)} recall ${fmt(report.recall)} routeChange ${fmt(report.routeChangeRate)} ` +
        `planChange ${fmt(report.planChangeRate)} steer ${fmt(report.steerRate)} inScopeFlag ${fmt(report.inScopeFlagRate)} ` +
        `trials ${report.trials} byJoiner ${JSON.stringify(report.byJoiner)}`,
    );
  }
}

if (values.json) console.log(JSON.stringify(out, null, 2));
