import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { fitTemperature, thresholdForFallbackRate } from "./calibration.ts";
import type { ClassifierOptions, IntentClassifier, TrainingExample } from "./classification.ts";
import { FeatureIndex } from "./feature-index.ts";
import { defaultFeatureConfig, type FeatureConfig, Featurizer } from "./featurizer.ts";
import {
  type LinearModel,
  LinearRouter,
  newRawScores,
  OOS_MAJORITY,
  type RouterParts,
} from "./linear-router.ts";
import { quantize } from "./quantized-model.ts";
import { createRandom, shuffleInPlace } from "./random.ts";
import { type SoftmaxModel, type SparseRows, trainSoftmax } from "./softmax-trainer.ts";
import { buildRows, type TrainingRows } from "./training-rows.ts";

/** One fold in this many is held out for calibration. */
const FOLDS = 5;

interface Schedule {
  readonly epochs: number;
  readonly learningRate: number;
  readonly finalLearningRate: number;
}
const MIN_EXAMPLES_PER_WORKER = 5;

interface Resolved {
  readonly seed: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly intentWeight: number;
  readonly targetFalseFallback: number;
  readonly featureConfig: FeatureConfig;
}

/**
 * Trains the local router from example utterances: word, stem and character n-gram features
 * weighted by inverse document frequency, two multinomial logistic-regression models (intents
 * and workers) trained by seeded SGD, temperatures fitted on held-out examples, and an
 * out-of-scope threshold tuned so that about `targetFalseFallback` of in-scope requests fall back.
 * Never throws for too few examples: `stats.warnings` says what is missing, with numbers.
 *
 * @example
 * const router = trainClassifier([
 *   { text: "why is my bill so high", worker: "billing" },
 *   { text: "my internet keeps dropping", worker: "network" },
 * ]);
 * router.classify("I was charged twice this month").worker; // "billing"
 */
export function trainClassifier(
  examples: readonly TrainingExample[],
  options: ClassifierOptions = {},
): IntentClassifier {
  const started = performance.now();
  const resolved = resolve(options, examples.length);
  const warnings: string[] = [];
  const data = buildRows(examples, options, warnings);
  const W = data.workers.length;
  if (W === 0) warnings.push("no worker has examples or a description: every request is out of scope");
  else if (W === 1 && !data.hasOutOfScope) {
    warnings.push(
      `only one worker ("${data.workers[0]}") has examples: every request goes to it; add examples for other workers or out-of-scope examples`,
    );
  }
  for (let w = 0; w < W; w++) {
    const n = data.realPerWorker[w]!;
    if (n > 0 && n < MIN_EXAMPLES_PER_WORKER) {
      warnings.push(
        `worker "${data.workers[w]}" has ${n} example${n === 1 ? "" : "s"}; at least ${MIN_EXAMPLES_PER_WORKER} are needed for reliable routing`,
      );
    }
  }

  const featurizer = new Featurizer(resolved.featureConfig);
  const index = new FeatureIndex(Math.max(1024, data.texts.length * 16));
  const offsets = new Int32Array(data.texts.length + 1);
  let columns: Int32Array = new Int32Array(Math.max(1024, data.texts.length * 64));
  for (let r = 0; r < data.texts.length; r++) {
    const text = data.texts[r]!;
    const count = featurizer.extractRange(text, 0, text.length);
    const hashes = featurizer.buffer;
    const at = offsets[r]!;
    if (at + count > columns.length) columns = grow(columns, at + count);
    for (let j = 0; j < count; j++) columns[at + j] = index.add(hashes[j]!);
    offsets[r + 1] = at + count;
  }
  columns = columns.slice(0, offsets[data.texts.length]!);
  const { columnWeights, unknownWeight, scales } = idfWeights(offsets, columns, index.size);
  const rows: SparseRows = { offsets, columns, scales, columnWeights };

  const hasWorkerModel = data.intents.length > W + (data.hasOutOfScope ? 1 : 0);
  const workerClasses = W + (data.hasOutOfScope ? 1 : 0);
  const allRows = Int32Array.from(data.intentLabels.keys());
  type Models = { intentModel: SoftmaxModel; workerModel: SoftmaxModel | null };
  const train = (rowsToUse: Int32Array, schedule: Schedule, init?: Models): Models => ({
    intentModel: trainSoftmax(rows, data.intentLabels, data.intents.length, {
      ...schedule,
      seed: resolved.seed,
      sampleWeights: data.intentWeights,
      subset: rowsToUse.filter((r) => data.intentLabels[r]! >= 0),
      init: init?.intentModel,
    }),
    workerModel: hasWorkerModel
      ? trainSoftmax(rows, data.workerLabels, workerClasses, {
          ...schedule,
          seed: resolved.seed + 1,
          sampleWeights: data.workerWeights,
          subset: rowsToUse,
          init: init?.workerModel ?? undefined,
        })
      : null,
  });
  const partsOf = (models: { intentModel: LinearModel; workerModel: LinearModel | null }): RouterParts => ({
    featureConfig: resolved.featureConfig,
    index,
    columnWeights,
    unknownWeight,
    intentModel: models.intentModel,
    intentWorker: data.intentWorker,
    intents: data.intents,
    workerModel: models.workerModel,
    workers: data.workers,
    hasOutOfScopeClass: data.hasOutOfScope,
    intentWeight: resolved.intentWeight,
  });
  const full: Schedule = {
    epochs: resolved.epochs,
    learningRate: resolved.learningRate,
    finalLearningRate: resolved.learningRate * 0.1,
  };

  // Held-out logits for calibration: one stratified fold is held out; the model trained without
  // it is calibrated on it, then continues briefly on all rows (cheaper than training twice, and
  // the calibrated model is the one that routes).
  const folds = assignFolds(data, resolved.seed);
  const heldOut: Array<{ row: number; intentLogits: Float64Array; workerLogits: Float64Array }> = [];
  let final: Models;
  const kept = allRows.filter((r) => folds[r] !== 0);
  if (W > 0 && kept.length < allRows.length) {
    const models = train(kept, full);
    const router = new LinearRouter(partsOf(models), [1, 1], 0, emptyStats());
    for (let r = 0; r < folds.length; r++) {
      if (folds[r] !== 0) continue;
      const raw = newRawScores(router.parts);
      router.score(data.texts[r]!, raw);
      heldOut.push({ row: r, ...raw });
    }
    const epochs = Math.min(6, Math.max(2, Math.ceil(resolved.epochs / 5)));
    const schedule = {
      epochs,
      learningRate: full.finalLearningRate * (0.75 * epochs + 0.5),
      finalLearningRate: full.finalLearningRate,
    };
    final = train(allRows, schedule, models);
  } else {
    final = train(allRows, full);
  }
  const parts = partsOf({
    intentModel: quantize(final.intentModel),
    workerModel: final.workerModel ? quantize(final.workerModel) : null,
  });
  let temperatures: [number, number] = [1, 1];
  let threshold = 0;
  let thresholdSource: "option" | "held-out" | "default" = "default";
  if (heldOut.length > 0) {
    temperatures = [
      fitTemperature(
        concat(heldOut.map((h) => h.intentLogits)),
        data.intents.length,
        Int32Array.from(heldOut, (h) => data.intentLabels[h.row]!),
      ),
      hasWorkerModel
        ? fitTemperature(
            concat(heldOut.map((h) => h.workerLogits)),
            W + (data.hasOutOfScope ? 1 : 0),
            Int32Array.from(heldOut, (h) => data.workerLabels[h.row]!),
          )
        : 1,
    ];
  }
  const router = new LinearRouter(parts, temperatures, 0, {
    examples: data.texts.length,
    trainMs: 0,
    warnings,
    oosThreshold: 0,
    thresholdSource: "default",
    features: index.size,
    temperatures,
  });
  const inScope = heldOut.filter((h) => data.workerLabels[h.row]! < W);
  if (options.oosThreshold !== undefined) {
    threshold = options.oosThreshold;
    thresholdSource = "option";
  } else if (inScope.length >= 10) {
    const confidences: number[] = [];
    let forced = 0;
    for (const h of inScope) {
      const best = router.probabilities(h);
      if (router.lastWorkerProbabilities[W]! >= OOS_MAJORITY) forced++;
      else confidences.push(router.lastWorkerProbabilities[best]!);
    }
    // Few held-out examples sit closer to the training ones than real traffic does, and a low
    // quantile of a few hundred values is noisy: aim lower the fewer there are.
    const caution = Math.min(1, Math.max(0.25, inScope.length / 1000));
    threshold = thresholdForFallbackRate(confidences, forced, resolved.targetFalseFallback * caution);
    thresholdSource = "held-out";
  } else if (W > 0) {
    warnings.push(
      `too few examples to tune the out-of-scope threshold (${inScope.length} held out, need 10; give each worker at least 2 examples): only out-of-scope examples can trigger the fallback; set oosThreshold to choose one`,
    );
  }
  router.setCalibration(temperatures, threshold);
  router.stats.oosThreshold = threshold;
  router.stats.thresholdSource = thresholdSource;
  router.stats.trainMs = performance.now() - started;
  return router;
}

function resolve(options: ClassifierOptions, count: number): Resolved {
  const [charMin, charMax] = options.charNgrams ?? [
    defaultFeatureConfig.charMin,
    defaultFeatureConfig.charMax,
  ];
  if (!(charMin >= 0 && charMax >= charMin && charMax <= 8)) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `charNgrams must be [min, max] with 0 <= min <= max <= 8, got [${charMin}, ${charMax}]`,
    );
  }
  const fraction = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!(value >= 0 && value <= 1)) {
      throw new ArbiterError(ErrorCode.InvalidArgument, `${name} must be between 0 and 1, got ${value}`);
    }
    return value;
  };
  fraction("oosThreshold", options.oosThreshold, 0);
  return Object.freeze({
    seed: options.seed ?? 1,
    epochs: options.epochs ?? Math.min(30, Math.max(6, Math.ceil(60_000 / Math.max(1, count)))),
    learningRate: options.learningRate ?? 4,
    intentWeight: fraction("intentWeight", options.intentWeight, 0.6),
    targetFalseFallback: fraction("targetFalseFallback", options.targetFalseFallback, 0.02),
    featureConfig: Object.freeze({ ...defaultFeatureConfig, charMin: charMax === 0 ? 0 : charMin, charMax }),
  });
}

/** Stratified folds over real examples; classes with a single example are never held out (-1). */
function assignFolds(data: TrainingRows, seed: number): Int32Array {
  const folds = new Int32Array(data.texts.length).fill(-1);
  const byClass = new Map<number, number[]>();
  for (let r = 0; r < data.realRows; r++) {
    const key = data.intentLabels[r]! >= 0 ? data.intentLabels[r]! : -1 - data.workerLabels[r]!;
    let list = byClass.get(key);
    if (!list) {
      list = [];
      byClass.set(key, list);
    }
    list.push(r);
  }
  const random = createRandom(seed ^ 0x5eed);
  let offset = 0;
  for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(key)!;
    if (list.length < 2) continue;
    shuffleInPlace(list, random);
    // Rotating the starting fold keeps folds balanced when classes are small.
    for (let i = 0; i < list.length; i++) folds[list[i]!] = (i + offset) % FOLDS;
    offset += list.length;
  }
  return folds;
}

function idfWeights(
  offsets: Int32Array,
  columns: Int32Array,
  features: number,
): { columnWeights: Float32Array; unknownWeight: number; scales: Float32Array } {
  const rowsCount = offsets.length - 1;
  const df = new Float64Array(features);
  const lastSeen = new Int32Array(features).fill(-1);
  for (let r = 0; r < rowsCount; r++) {
    for (let p = offsets[r]!; p < offsets[r + 1]!; p++) {
      const c = columns[p]!;
      if (lastSeen[c] !== r) {
        lastSeen[c] = r;
        df[c]!++;
      }
    }
  }
  const columnWeights = new Float32Array(features);
  for (let c = 0; c < features; c++) columnWeights[c] = Math.log((1 + rowsCount) / (1 + df[c]!)) + 1;
  const unknownWeight = Math.log(1 + rowsCount) + 1;
  const scales = new Float32Array(rowsCount);
  for (let r = 0; r < rowsCount; r++) {
    let norm = 0;
    for (let p = offsets[r]!; p < offsets[r + 1]!; p++) norm += columnWeights[columns[p]!]! ** 2;
    scales[r] = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  }
  return { columnWeights, unknownWeight, scales };
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function grow(array: Int32Array, need: number): Int32Array {
  let size = array.length;
  while (size < need) size *= 2;
  const next = new Int32Array(size);
  next.set(array);
  return next;
}

function emptyStats() {
  return {
    examples: 0,
    trainMs: 0,
    warnings: [],
    oosThreshold: 0,
    thresholdSource: "default" as const,
    features: 0,
    temperatures: [1, 1] as const,
  };
}
