import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type {
  ClassifierOptions,
  IntentClassifier,
  TrainingExample,
} from "../../routing/classifier/classification.ts";
import { createRandom, shuffleInPlace } from "../../routing/classifier/random.ts";
import { trainClassifier } from "../../routing/classifier/train-classifier.ts";
import { type ClincLayout, checkIntentsCovered, type Domains, type LabelledUtterance } from "./load-data.ts";
import { percentile } from "./percentile.ts";
import { type ProgressCallback, reporter } from "./progress.ts";

export interface EvalRoutingOptions {
  data: ClincLayout;
  domains: Domains;
  /** Which split to score. With "test", the out-of-scope threshold is tuned on `val` when present. */
  split: "val" | "test";
  /** Training examples per intent, drawn with a fixed seed (default: all). */
  examplesPerIntent?: number;
  /** Seed for drawing examples (default 1). */
  seed?: number;
  /** Extra classifier options (threshold, epochs, ...). */
  classifier?: ClassifierOptions;
  onProgress?: ProgressCallback;
  /** Name of the data file, for error messages. */
  file?: string;
}

export interface RoutingReport {
  /** In-scope utterances whose best worker is right (the router must choose; no fallback). */
  workerAccuracy: number;
  /** In-scope utterances routed to the right worker, counting fallbacks as wrong. */
  workerAccuracyWithFallback: number;
  /** Best intent right (the router must choose). */
  intentAccuracy: number;
  /** Out-of-scope utterances sent to the fallback; null when the split has none. */
  oosRecall: number | null;
  /** In-scope utterances sent to the fallback. */
  falseFallbackRate: number;
  routeP50Ms: number;
  routeP99Ms: number;
  trainMs: number;
  examples: number;
  inScope: number;
  outOfScope: number;
  oosThreshold: number;
  thresholdSource: string;
  warnings: string[];
}

/** Draws `perIntent` examples of each intent (all when undefined), reproducibly. */
export function sampleExamples(
  rows: readonly LabelledUtterance[],
  domains: Domains,
  perIntent: number | undefined,
  seed: number,
): TrainingExample[] {
  const pool = [...rows];
  if (perIntent !== undefined) shuffleInPlace(pool, createRandom(seed));
  const taken = new Map<string, number>();
  const out: TrainingExample[] = [];
  for (const [text, intent] of pool) {
    const n = taken.get(intent) ?? 0;
    if (perIntent !== undefined && n >= perIntent) continue;
    taken.set(intent, n + 1);
    out.push({ text, worker: domains.workerOf.get(intent)!, intent });
  }
  return out;
}

/** Trains the local router on `train` (and `oos_train`) of a CLINC-layout file. */
export function trainRouter(
  data: ClincLayout,
  domains: Domains,
  options: { examplesPerIntent?: number; seed?: number; classifier?: ClassifierOptions } = {},
): IntentClassifier {
  const examples = sampleExamples(data.train, domains, options.examplesPerIntent, options.seed ?? 1);
  return trainClassifier(examples, {
    workers: domains.workers,
    outOfScope: (data.oos_train ?? []).map(([text]) => text),
    ...options.classifier,
  });
}

/**
 * Trains the router on `train` (N examples per intent) and scores `split`: worker and intent
 * accuracy, out-of-scope recall, false-fallback rate, routing latency and training time.
 */
export function evalRouting(options: EvalRoutingOptions): RoutingReport {
  const { data, domains, split } = options;
  const file = options.file ?? "<data>";
  const inScope = data[split];
  if (!inScope || inScope.length === 0) {
    throw new ArbiterError(
      ErrorCode.InvalidData,
      `${file}: split "${split}" is missing or empty; choose a split the file has (${Object.keys(data).join(", ")})`,
      { details: { file, split } },
    );
  }
  if (options.examplesPerIntent !== undefined && !(options.examplesPerIntent >= 1)) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `examples per intent must be at least 1, got ${options.examplesPerIntent}`,
    );
  }
  checkIntentsCovered(data, domains, file, ["train", split]);
  const outOfScope = (split === "val" ? data.oos_val : data.oos_test) ?? [];
  options.onProgress?.({ phase: "train", done: 0, total: 1 });
  const router = trainRouter(data, domains, options);
  options.onProgress?.({ phase: "train", done: 1, total: 1 });
  if (split === "test" && data.val && data.val.length > 0 && options.classifier?.oosThreshold === undefined) {
    router.tuneThreshold(
      [
        ...data.val
          .filter(([, i]) => domains.workerOf.has(i))
          .map(([text, i]) => ({ text, worker: domains.workerOf.get(i)! })),
        ...(data.oos_val ?? []).map(([text]) => ({ text, worker: null })),
      ],
      options.classifier?.targetFalseFallback,
    );
  }
  // Warm up the JIT on training text so latency reflects steady state, as after a profile load.
  for (const [text] of data.train.slice(0, 300)) router.classify(text);

  const latencies: number[] = [];
  const tick = reporter(options.onProgress, `route ${split}`, inScope.length + outOfScope.length);
  let workerRight = 0;
  let routedRight = 0;
  let intentRight = 0;
  let fallbacks = 0;
  let done = 0;
  for (const [text, intent] of inScope) {
    const started = performance.now();
    const c = router.classify(text);
    latencies.push(performance.now() - started);
    const gold = domains.workerOf.get(intent);
    if (c.candidate?.worker === gold) workerRight++;
    if (c.worker === gold) routedRight++;
    if (c.worker === null) fallbacks++;
    if (c.candidate?.intent === intent) intentRight++;
    tick(++done);
  }
  let caught = 0;
  for (const [text] of outOfScope) {
    const started = performance.now();
    const c = router.classify(text);
    latencies.push(performance.now() - started);
    if (c.worker === null) caught++;
    tick(++done);
  }
  return {
    workerAccuracy: workerRight / inScope.length,
    workerAccuracyWithFallback: routedRight / inScope.length,
    intentAccuracy: intentRight / inScope.length,
    oosRecall: outOfScope.length > 0 ? caught / outOfScope.length : null,
    falseFallbackRate: fallbacks / inScope.length,
    routeP50Ms: percentile(latencies, 0.5),
    routeP99Ms: percentile(latencies, 0.99),
    trainMs: router.stats.trainMs,
    examples: router.stats.examples,
    inScope: inScope.length,
    outOfScope: outOfScope.length,
    oosThreshold: router.stats.oosThreshold,
    thresholdSource: router.stats.thresholdSource,
    warnings: router.stats.warnings,
  };
}
