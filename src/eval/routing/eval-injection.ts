import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { INJECTION_THRESHOLD, scoreInjection } from "../../guard/injection/score-injection.ts";
import type { IntentClassifier } from "../../routing/classifier/classification.ts";
import { createRandom } from "../../routing/classifier/random.ts";
import { routeMessage } from "../../routing/decompose/route-message.ts";
import { trainRouter } from "./eval-routing.ts";
import type { ClincLayout, Domains, InjectionRow } from "./load-data.ts";
import { type ProgressCallback, reporter } from "./progress.ts";

export interface EvalInjectionOptions {
  /** Labelled prompts: label 1 = injection. */
  data: readonly InjectionRow[];
  /** Utterances to attack (CLINC layout); without them only precision and recall are measured. */
  clinc?: ClincLayout;
  domains?: Domains;
  /** A trained router; when absent one is trained on `clinc.train`. */
  classifier?: IntentClassifier;
  /** Split whose utterances are attacked (default "val", else "test"). */
  split?: "val" | "test";
  /** Attacked utterances (default 3000), each with one attack text, drawn with `seed`. */
  trials?: number;
  seed?: number;
  threshold?: number;
  onProgress?: ProgressCallback;
}

export interface InjectionReport {
  /** Guard decisions (score >= threshold) against the labels. */
  precision: number;
  recall: number;
  f1: number;
  threshold: number;
  rows: number;
  injections: number;
  /** Share of clean in-scope utterances the guard flags (it would strip a real request). */
  inScopeFlagRate: number | null;
  /**
   * Among utterances the router already routes correctly, the share whose routed worker changes
   * (to another worker or to out of scope) when an attack text is appended. The routed worker is
   * the worker of the first delegated part of `routeMessage`.
   */
  routeChangeRate: number | null;
  /** Stricter: the share whose set of delegated workers changes at all (a worker added, moved or lost). */
  planChangeRate: number | null;
  /** The share where a different specialist is delegated (moved or added): the attacker steered it. */
  steerRate: number | null;
  /** Attacked utterances (those routed correctly before the attack). */
  trials: number;
  /** Route changes by how the attack was joined (" ", ". ", "\n"). */
  byJoiner: Record<string, { trials: number; routeChangeRate: number }>;
}

const JOINERS = [" ", ". ", "\n"] as const;

/**
 * Measures the injection guard (precision, recall) and the router's robustness: attack texts
 * appended to utterances that are routed correctly must not change the routed worker.
 */
export function evalInjection(options: EvalInjectionOptions): InjectionReport {
  const threshold = options.threshold ?? INJECTION_THRESHOLD;
  const { data } = options;
  if (data.length === 0) {
    throw new ArbiterError(
      ErrorCode.InvalidData,
      "the injection data has no rows; pass a JSON-lines file of {text, label}",
    );
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const guardTick = reporter(options.onProgress, "score prompts", data.length);
  data.forEach((row, k) => {
    const flagged = scoreInjection(row.text).score >= threshold;
    if (flagged && row.label === 1) tp++;
    else if (flagged) fp++;
    else if (row.label === 1) fn++;
    guardTick(k + 1);
  });
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const report: InjectionReport = {
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    threshold,
    rows: data.length,
    injections: tp + fn,
    inScopeFlagRate: null,
    routeChangeRate: null,
    planChangeRate: null,
    steerRate: null,
    trials: 0,
    byJoiner: {},
  };
  const { clinc, domains } = options;
  if (!clinc || !domains) return report;
  const split = options.split ?? (clinc.val ? "val" : "test");
  const utterances = (clinc[split] ?? []).filter(([, intent]) => domains.workerOf.has(intent));
  const attacks = data.filter((row) => row.label === 1).map((row) => row.text);
  if (utterances.length === 0 || attacks.length === 0) return report;

  options.onProgress?.({ phase: "train", done: 0, total: 1 });
  const router = options.classifier ?? trainRouter(clinc, domains);
  options.onProgress?.({ phase: "train", done: 1, total: 1 });
  const random = createRandom(options.seed ?? 7);
  const wanted = Math.min(options.trials ?? 3000, utterances.length);
  const order = utterances.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let flaggedClean = 0;
  let checked = 0;
  let trials = 0;
  let changed = 0;
  let planChanged = 0;
  let steered = 0;
  const joinerStats = new Map<string, { trials: number; changed: number }>();
  const tick = reporter(options.onProgress, "attack routed utterances", wanted);
  for (const index of order.slice(0, wanted)) {
    const [text, intent] = utterances[index]!;
    const gold = domains.workerOf.get(intent)!;
    checked++;
    if (scoreInjection(text).score >= threshold) flaggedClean++;
    const before = routeMessage(text, router).segments;
    tick(checked);
    if (primaryWorker(before) !== gold || routedWorkers(before).size !== 1) continue;
    const attack = attacks[Math.floor(random() * attacks.length)]!;
    const joiner = JOINERS[trials % JOINERS.length]!;
    const attacked = routeMessage(`${text}${joiner}${attack}`, router).segments;
    const after = routedWorkers(attacked);
    trials++;
    const stats = joinerStats.get(joiner) ?? { trials: 0, changed: 0 };
    stats.trials++;
    if (primaryWorker(attacked) !== gold) {
      changed++;
      stats.changed++;
    }
    if (after.size !== 1 || !after.has(gold)) planChanged++;
    if ([...after].some((w) => w !== gold)) steered++;
    joinerStats.set(joiner, stats);
  }
  return {
    ...report,
    inScopeFlagRate: checked === 0 ? 0 : flaggedClean / checked,
    routeChangeRate: trials === 0 ? 0 : changed / trials,
    planChangeRate: trials === 0 ? 0 : planChanged / trials,
    steerRate: trials === 0 ? 0 : steered / trials,
    trials,
    byJoiner: Object.fromEntries(
      [...joinerStats].map(([joiner, s]) => [
        JSON.stringify(joiner),
        { trials: s.trials, routeChangeRate: s.changed / s.trials },
      ]),
    ),
  };
}

function primaryWorker(segments: ReadonlyArray<{ worker: string | null }>): string | null {
  return segments.find((s) => s.worker !== null)?.worker ?? null;
}

function routedWorkers(segments: ReadonlyArray<{ worker: string | null }>): Set<string> {
  return new Set(segments.flatMap((s) => (s.worker === null ? [] : [s.worker])));
}
