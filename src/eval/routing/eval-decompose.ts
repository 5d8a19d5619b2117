import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type {
  ClassifierOptions,
  IntentClassifier,
  TrainingExample,
} from "../../routing/classifier/classification.ts";
import { trainClassifier } from "../../routing/classifier/train-classifier.ts";
import { type DecomposeOptions, decompose } from "../../routing/decompose/decompose.ts";
import { alignParts } from "./align-parts.ts";
import type { ClincLayout, Domains, MultiIntentLayout, MultiIntentUtterance } from "./load-data.ts";
import { type ProgressCallback, reporter } from "./progress.ts";

export interface EvalDecomposeOptions {
  data: MultiIntentLayout;
  domains: Domains;
  /** Split to score ("val" is accepted for "valid"). */
  split: "valid" | "val" | "test";
  /** A trained router; when absent one is trained from `data.train` (and `clinc.train` if given). */
  classifier?: IntentClassifier;
  /** Extra single-intent training data in CLINC150 layout. */
  clinc?: ClincLayout;
  classifierOptions?: ClassifierOptions;
  decompose?: DecomposeOptions;
  onProgress?: ProgressCallback;
  file?: string;
}

export interface DecomposeScores {
  n: number;
  workerSetExact: number;
  intentSetExact: number;
  countAccuracy: number;
}

export interface DecomposeReport extends DecomposeScores {
  /** Scores by number of gold intents ("1", "2", "3", ...). */
  byCount: Record<string, DecomposeScores>;
  /** Scores by the data's phenomenon label (rows without one under "none"). */
  byPhenomenon: Record<string, DecomposeScores>;
  trainMs: number;
  decomposeP50Ms: number;
  decomposeP99Ms: number;
}

const OUT = "(out of scope)";

/**
 * Trains a router from multi-intent training data: single-intent rows as they are; multi-intent
 * rows are split at the boundary where a router trained on the single-intent rows best explains
 * each gold intent, and the parts become examples too.
 */
export function trainFromMultiIntent(
  rows: readonly MultiIntentUtterance[],
  domains: Domains,
  options: { clinc?: ClincLayout; classifier?: ClassifierOptions; onProgress?: ProgressCallback } = {},
): IntentClassifier {
  const base: TrainingExample[] = [];
  const multi: Array<{ text: string; intents: string[] }> = [];
  for (const [text, labels] of rows) {
    const intents = labels.split(",").map((s) => s.trim());
    if (intents.length === 1)
      base.push({ text, worker: domains.workerOf.get(intents[0]!)!, intent: intents[0]! });
    else multi.push({ text, intents });
  }
  for (const [text, intent] of options.clinc?.train ?? []) {
    const worker = domains.workerOf.get(intent);
    if (worker) base.push({ text, worker, intent });
  }
  const classifierOptions: ClassifierOptions = {
    workers: domains.workers,
    outOfScope: (options.clinc?.oos_train ?? []).map(([text]) => text),
    ...options.classifier,
  };
  if (multi.length === 0) return trainClassifier(base, classifierOptions);
  const covered = new Set(base.map((e) => e.intent));
  const missing = multi.some((m) => m.intents.some((i) => !covered.has(i)));
  // Intents seen only inside multi-intent rows: the whole row stands in as an example of each.
  const seed = missing
    ? [
        ...base,
        ...multi.flatMap((m) =>
          m.intents.map((intent) => ({ text: m.text, worker: domains.workerOf.get(intent)!, intent })),
        ),
      ]
    : base;
  const first = trainClassifier(seed, classifierOptions);
  const tick = reporter(options.onProgress, "align training parts", multi.length);
  const parts: TrainingExample[] = [];
  multi.forEach((m, k) => {
    for (const part of alignParts(m.text, m.intents, first, domains)) {
      parts.push({ text: part.text, worker: domains.workerOf.get(part.intent)!, intent: part.intent });
    }
    tick(k + 1);
  });
  return trainClassifier([...base, ...parts], classifierOptions);
}

/**
 * Decomposes every utterance of `split` and compares the routed parts with the gold intents:
 * exact worker-set and intent-set matches and the number of sub-tasks, by gold intent count.
 */
export function evalDecompose(options: EvalDecomposeOptions): DecomposeReport {
  const { data, domains } = options;
  const split = options.split === "val" ? "valid" : options.split;
  const rows = data[split];
  if (rows.length === 0) {
    throw new ArbiterError(
      ErrorCode.InvalidData,
      `${options.file ?? "<data>"}: split "${split}" is missing or empty; choose "valid" or "test"`,
      { details: { file: options.file, split } },
    );
  }
  const started = performance.now();
  options.onProgress?.({ phase: "train", done: 0, total: 1 });
  const router =
    options.classifier ??
    trainFromMultiIntent(data.train, domains, {
      clinc: options.clinc,
      classifier: options.classifierOptions,
      onProgress: options.onProgress,
    });
  const trainMs = options.classifier ? 0 : performance.now() - started;
  options.onProgress?.({ phase: "train", done: 1, total: 1 });

  const all = new Tally();
  const byCount = new Map<string, Tally>();
  const byPhenomenon = new Map<string, Tally>();
  const latencies: number[] = [];
  const tick = reporter(options.onProgress, `decompose ${split}`, rows.length);
  rows.forEach(([text, labels, phenomenon], k) => {
    const gold = [...new Set(labels.split(",").map((s) => s.trim()))];
    const t0 = performance.now();
    const segments = decompose(text, router, { merge: "intent", ...options.decompose });
    latencies.push(performance.now() - t0);
    const goldWorkers = new Set(gold.map((i) => domains.workerOf.get(i) ?? OUT));
    const workers = new Set(segments.map((s) => s.worker ?? OUT));
    const intents = new Set(segments.flatMap((s) => (s.worker === null ? [OUT] : s.intents)));
    const outcome = {
      workers: sameSet(workers, goldWorkers),
      intents: sameSet(intents, new Set(gold)),
      count: segments.length === gold.length,
    };
    all.add(outcome);
    tallyOf(byCount, String(gold.length)).add(outcome);
    tallyOf(byPhenomenon, phenomenon ?? "none").add(outcome);
    tick(k + 1);
  });
  latencies.sort((a, b) => a - b);
  return {
    ...all.scores(),
    byCount: Object.fromEntries(
      [...byCount].sort(([a], [b]) => Number(a) - Number(b)).map(([k, t]) => [k, t.scores()]),
    ),
    byPhenomenon: Object.fromEntries(
      [...byPhenomenon].sort(([a], [b]) => a.localeCompare(b)).map(([k, t]) => [k, t.scores()]),
    ),
    trainMs,
    decomposeP50Ms: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    decomposeP99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0,
  };
}

class Tally {
  private n = 0;
  private workers = 0;
  private intents = 0;
  private count = 0;

  add(outcome: { workers: boolean; intents: boolean; count: boolean }): void {
    this.n++;
    if (outcome.workers) this.workers++;
    if (outcome.intents) this.intents++;
    if (outcome.count) this.count++;
  }

  scores(): DecomposeScores {
    const rate = (k: number) => (this.n === 0 ? 0 : k / this.n);
    return {
      n: this.n,
      workerSetExact: rate(this.workers),
      intentSetExact: rate(this.intents),
      countAccuracy: rate(this.count),
    };
  }
}

function tallyOf(map: Map<string, Tally>, key: string): Tally {
  let tally = map.get(key);
  if (!tally) {
    tally = new Tally();
    map.set(key, tally);
  }
  return tally;
}

function sameSet<T>(a: Set<T>, b: Set<T>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
