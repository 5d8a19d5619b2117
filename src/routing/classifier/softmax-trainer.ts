import { createRandom, shuffleInPlace } from "./random.ts";

/**
 * Examples as sparse rows: row `r` has columns `columns[offsets[r] .. offsets[r+1])`, the value of
 * column `c` being `columnWeights[c] * scales[r]` (idf times the row's L2 normaliser).
 */
export interface SparseRows {
  readonly offsets: Int32Array;
  readonly columns: Int32Array;
  readonly scales: Float32Array;
  readonly columnWeights: Float32Array;
}

/** A multinomial logistic-regression model, weights stored feature-major (`weights[f * classes + k]`). */
export interface SoftmaxModel {
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly classes: number;
  readonly features: number;
}

export interface SoftmaxTrainOptions {
  readonly epochs: number;
  /** Step size of the first update; it decays linearly to `finalLearningRate`. */
  readonly learningRate: number;
  readonly finalLearningRate: number;
  readonly seed: number;
  /** Per-row weight (e.g. to balance classes). */
  readonly sampleWeights: Float32Array;
  /** Rows to train on (indices into `rows`). */
  readonly subset: Int32Array;
  /** Continue from this model (it is updated in place) instead of starting from zero. */
  readonly init?: SoftmaxModel;
}

/** Gradients smaller than this are skipped: after the first epoch most classes are far from every row. */
const SKIP_GRADIENT = 1e-4;
/** Probability of the true class above which a row counts as learnt. */
const EASY_PROBABILITY = 0.98;
/** Learnt rows are revisited only every this many epochs. */
const EASY_REVISIT = 3;

/**
 * Plain SGD on softmax cross-entropy with a linearly decaying step. Rows the model already gets
 * right with a wide margin are revisited only every third epoch: after the first epochs they are
 * most of the data and each costs a full forward pass. Deterministic for a seed.
 */
export function trainSoftmax(
  rows: SparseRows,
  labels: Int32Array,
  classes: number,
  options: SoftmaxTrainOptions,
): SoftmaxModel {
  const K = classes;
  const features = rows.columnWeights.length;
  const model = options.init ?? {
    weights: new Float32Array(features * K),
    bias: new Float32Array(K),
    classes: K,
    features,
  };
  const { weights, bias } = model;
  const logits = new Float64Array(K);
  const activeClasses = new Int32Array(K);
  const deltas = new Float64Array(K);
  const order = Int32Array.from(options.subset);
  const random = createRandom(options.seed);
  const total = Math.max(1, options.epochs * order.length);
  const { offsets, columns, scales, columnWeights: cw } = rows;
  const sampleWeights = options.sampleWeights;
  const lr0 = options.learningRate;
  const lrSlope = (options.learningRate - options.finalLearningRate) / total;
  const easy = new Uint8Array(labels.length);
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let o = 0; o < order.length; o++) {
      const r = order[o]!;
      const lr = lr0 - lrSlope * step;
      step++;
      if (easy[r] === 1 && epoch % EASY_REVISIT !== 0) continue;
      const from = offsets[r]!;
      const to = offsets[r + 1]!;
      const x = scales[r]!;
      logits.fill(0);
      for (let p = from; p < to; p++) {
        const c = columns[p]!;
        const v = cw[c]!;
        const base = c * K;
        for (let k = 0; k < K; k++) logits[k]! += weights[base + k]! * v;
      }
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        const z = logits[k]! * x + bias[k]!;
        logits[k] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const e = Math.exp(logits[k]! - max);
        logits[k] = e;
        sum += e;
      }
      const y = labels[r]!;
      easy[r] = logits[y]! / sum > EASY_PROBABILITY ? 1 : 0;
      const stepSize = lr * sampleWeights[r]!;
      let active = 0;
      for (let k = 0; k < K; k++) {
        const g = logits[k]! / sum - (k === y ? 1 : 0);
        if (g < SKIP_GRADIENT && g > -SKIP_GRADIENT) continue;
        bias[k]! -= stepSize * g;
        activeClasses[active] = k;
        deltas[active] = stepSize * g * x;
        active++;
      }
      for (let p = from; p < to; p++) {
        const c = columns[p]!;
        const base = c * K;
        const v = cw[c]!;
        for (let a = 0; a < active; a++) weights[base + activeClasses[a]!]! -= deltas[a]! * v;
      }
    }
  }
  return model;
}
