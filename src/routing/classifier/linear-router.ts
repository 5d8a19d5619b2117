import { thresholdForFallbackRate } from "./calibration.ts";
import type { Classification, ClassifierStats, IntentClassifier } from "./classification.ts";
import type { FeatureIndex } from "./feature-index.ts";
import { type FeatureConfig, Featurizer } from "./featurizer.ts";
import type { QuantizedModel } from "./quantized-model.ts";
import type { SoftmaxModel } from "./softmax-trainer.ts";

/** Float weights while calibrating; 8-bit weights once trained. */
export type LinearModel = SoftmaxModel | QuantizedModel;

/** Everything a trained router needs at request time. Immutable once built. */
export interface RouterParts {
  readonly featureConfig: FeatureConfig;
  readonly index: FeatureIndex;
  /** Per-column weight (inverse document frequency). */
  readonly columnWeights: Float32Array;
  /** Weight an unseen feature adds to the norm: unfamiliar text lowers confidence. */
  readonly unknownWeight: number;
  readonly intentModel: LinearModel;
  /** Worker slot of each intent class; slot `workers.length` is "out of scope". */
  readonly intentWorker: Int32Array;
  readonly intents: readonly string[];
  /** Worker-level model (slots as above), or null when every worker has a single intent. */
  readonly workerModel: LinearModel | null;
  readonly workers: readonly string[];
  readonly hasOutOfScopeClass: boolean;
  readonly intentWeight: number;
}

/** Raw (uncalibrated) logits of one text, written into caller-owned buffers. */
export interface RawScores {
  intentLogits: Float64Array;
  workerLogits: Float64Array;
}

/**
 * The hot path: featurise into a reused buffer, look up columns, accumulate two small linear
 * models, apply temperatures and mix into per-worker probabilities. No allocation besides the
 * returned classification.
 */
export class LinearRouter implements IntentClassifier {
  readonly workers: readonly string[];
  readonly intentLabels: ReadonlyArray<{ readonly intent: string; readonly worker: string | null }>;
  readonly stats: ClassifierStats;
  readonly parts: RouterParts;
  private readonly featurizer: Featurizer;
  private readonly raw: RawScores;
  private readonly intentProbs: Float64Array;
  private readonly workerProbs: Float64Array;
  private readonly workerModelProbs: Float64Array;
  private readonly workerOrder: Int32Array;
  private columns = new Int32Array(1024);
  private lastCoverage = 0;
  private temperatures: [number, number];
  private threshold: number;

  constructor(parts: RouterParts, temperatures: [number, number], threshold: number, stats: ClassifierStats) {
    this.parts = parts;
    this.workers = Object.freeze([...parts.workers]);
    this.intentLabels = Object.freeze(
      parts.intents.map((intent, k) =>
        Object.freeze({ intent, worker: parts.workers[parts.intentWorker[k]!] ?? null }),
      ),
    );
    this.featurizer = new Featurizer(parts.featureConfig);
    this.raw = newRawScores(parts);
    this.intentProbs = new Float64Array(parts.intentModel.classes);
    this.workerProbs = new Float64Array(parts.workers.length + 1);
    this.workerModelProbs = new Float64Array(parts.workerModel ? parts.workerModel.classes : 0);
    this.workerOrder = new Int32Array(parts.workers.length);
    this.temperatures = temperatures;
    this.threshold = threshold;
    this.stats = stats;
  }

  classify(text: string): Classification {
    const p = this.parts;
    this.score(text, this.raw);
    const best = this.probabilities(this.raw);
    const W = p.workers.length;
    const probs = this.workerProbs;
    const order = this.workerOrder;
    for (let w = 0; w < W; w++) order[w] = w;
    order.sort((a, b) => probs[b]! - probs[a]! || a - b);
    const ranking: Array<{ worker: string; score: number }> = new Array(W);
    for (let r = 0; r < W; r++) {
      const w = order[r]!;
      ranking[r] = { worker: p.workers[w]!, score: probs[w]! };
    }
    const oos = p.hasOutOfScopeClass ? probs[W]! : 0;
    const coverage = this.lastCoverage;
    if (W === 0) {
      const none = { worker: null, intent: null, candidate: null };
      return { ...none, confidence: 0, intentConfidence: 0, outOfScope: oos, coverage, ranking };
    }
    const intent = this.bestIntentOf(best);
    const intentConfidence = this.intentProbs[intent]!;
    const confidence = probs[best]!;
    const candidate = { worker: p.workers[best]!, intent: p.intents[intent]! };
    if (confidence < this.threshold || oos >= OOS_MAJORITY) {
      return {
        worker: null,
        intent: null,
        confidence,
        intentConfidence,
        outOfScope: oos,
        coverage,
        ranking,
        candidate,
      };
    }
    return { ...candidate, confidence, intentConfidence, outOfScope: oos, coverage, ranking, candidate };
  }

  intentDistribution(text: string, out = new Float64Array(this.parts.intentModel.classes)): Float64Array {
    this.score(text, this.raw);
    softmaxInto(this.raw.intentLogits, this.temperatures[0], out);
    return out;
  }

  tuneThreshold(
    validation: ReadonlyArray<{ text: string; worker: string | null }>,
    targetFalseFallback = 0.02,
  ): number {
    const W = this.parts.workers.length;
    const confidences: number[] = [];
    let forcedFallbacks = 0;
    for (const example of validation) {
      if (example.worker === null) continue;
      this.score(example.text, this.raw);
      const best = this.probabilities(this.raw);
      if (this.workerProbs[W]! >= OOS_MAJORITY) forcedFallbacks++;
      else confidences.push(this.workerProbs[best]!);
    }
    if (confidences.length + forcedFallbacks === 0) return this.threshold;
    this.threshold = thresholdForFallbackRate(confidences, forcedFallbacks, targetFalseFallback);
    this.stats.oosThreshold = this.threshold;
    this.stats.thresholdSource = "validation";
    return this.threshold;
  }

  /** Uncalibrated logits of `text` (used to fit temperatures on held-out examples). */
  score(text: string, out: RawScores): void {
    const p = this.parts;
    const fz = this.featurizer;
    const count = fz.extractRange(text, 0, text.length);
    const hashes = fz.buffer;
    if (count > this.columns.length) this.columns = new Int32Array(count * 2);
    const columns = this.columns;
    let known = 0;
    let norm = 0;
    const cw = p.columnWeights;
    const unknown = p.unknownWeight * p.unknownWeight;
    for (let j = 0; j < count; j++) {
      const c = p.index.get(hashes[j]!);
      if (c < 0) {
        norm += unknown;
        continue;
      }
      columns[known++] = c;
      norm += cw[c]! * cw[c]!;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    this.lastCoverage = count > 0 ? known / count : 0;
    accumulate(p.intentModel, columns, known, cw, scale, out.intentLogits);
    if (p.workerModel) accumulate(p.workerModel, columns, known, cw, scale, out.workerLogits);
  }

  /**
   * Fills intent and worker probabilities from raw logits (slot `workers.length` holds the
   * out-of-scope class); returns the best in-scope worker slot.
   */
  probabilities(raw: RawScores): number {
    const p = this.parts;
    const W = p.workers.length;
    const slots = W + (p.hasOutOfScopeClass ? 1 : 0);
    const probs = this.workerProbs;
    probs.fill(0);
    const alpha = p.workerModel ? p.intentWeight : 1;
    softmaxInto(raw.intentLogits, this.temperatures[0], this.intentProbs);
    for (let k = 0; k < this.intentProbs.length; k++)
      probs[p.intentWorker[k]!]! += alpha * this.intentProbs[k]!;
    if (p.workerModel) {
      softmaxInto(raw.workerLogits, this.temperatures[1], this.workerModelProbs);
      for (let w = 0; w < slots; w++) probs[w]! += (1 - alpha) * this.workerModelProbs[w]!;
    }
    let best = 0;
    for (let w = 1; w < W; w++) if (probs[w]! > probs[best]!) best = w;
    return best;
  }

  /** Current calibrated worker probabilities (slot per worker, then out of scope). */
  get lastWorkerProbabilities(): Float64Array {
    return this.workerProbs;
  }

  setCalibration(temperatures: [number, number], threshold: number): void {
    this.temperatures = temperatures;
    this.threshold = threshold;
  }

  /** Index of the most probable intent class of `worker`. */
  private bestIntentOf(worker: number): number {
    const intentWorker = this.parts.intentWorker;
    const probs = this.intentProbs;
    let best = -1;
    for (let k = 0; k < probs.length; k++) {
      if (intentWorker[k] !== worker) continue;
      if (best < 0 || probs[k]! > probs[best]!) best = k;
    }
    return best;
  }
}

/**
 * The out-of-scope class sends a request to the fallback on its own only when it holds a clear
 * majority; otherwise its mass just lowers the workers' confidence, and the threshold decides.
 * (With few examples per intent, a broad out-of-scope class otherwise wins too often.)
 */
export const OOS_MAJORITY = 0.5;

export function newRawScores(parts: RouterParts): RawScores {
  return {
    intentLogits: new Float64Array(parts.intentModel.classes),
    workerLogits: new Float64Array(parts.workerModel ? parts.workerModel.classes : 0),
  };
}

function accumulate(
  model: LinearModel,
  columns: Int32Array,
  count: number,
  cw: Float32Array,
  scale: number,
  out: Float64Array,
): void {
  out.fill(0);
  if ("rowScale" in model) accumulateQuantized(model, columns, count, cw, out);
  else accumulateFloat(model, columns, count, cw, out);
  const bias = model.bias;
  for (let k = 0; k < out.length; k++) out[k] = out[k]! * scale + bias[k]!;
}

function accumulateQuantized(
  model: QuantizedModel,
  columns: Int32Array,
  count: number,
  cw: Float32Array,
  out: Float64Array,
): void {
  const { rowStart, classOf, level, rowScale } = model;
  for (let j = 0; j < count; j++) {
    const c = columns[j]!;
    const v = cw[c]! * rowScale[c]!;
    const end = rowStart[c + 1]!;
    for (let i = rowStart[c]!; i < end; i++) out[classOf[i]!]! += level[i]! * v;
  }
}

function accumulateFloat(
  model: SoftmaxModel,
  columns: Int32Array,
  count: number,
  cw: Float32Array,
  out: Float64Array,
) {
  const K = model.classes;
  const weights = model.weights;
  for (let j = 0; j < count; j++) {
    const c = columns[j]!;
    const v = cw[c]!;
    const base = c * K;
    for (let k = 0; k < K; k++) out[k]! += weights[base + k]! * v;
  }
}

/** Softmax of `logits / temperature` into `out`. */
export function softmaxInto(logits: Float64Array, temperature: number, out: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < logits.length; k++) if (logits[k]! > max) max = logits[k]!;
  let sum = 0;
  for (let k = 0; k < logits.length; k++) {
    const e = Math.exp((logits[k]! - max) / temperature);
    out[k] = e;
    sum += e;
  }
  for (let k = 0; k < logits.length; k++) out[k] = out[k]! / sum;
}
