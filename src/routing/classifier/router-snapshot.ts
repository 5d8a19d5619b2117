import type { ClassifierStats } from "./classification.ts";
import { FeatureIndex } from "./feature-index.ts";
import type { FeatureConfig } from "./featurizer.ts";
import { LinearRouter, type RouterParts } from "./linear-router.ts";
import type { QuantizedModel } from "./quantized-model.ts";

/**
 * A trained router as JSON (typed arrays in base64), so a process can take up the router an earlier
 * one trained on the same examples instead of training it again. Only 8-bit (trained) models are
 * kept; `restoreRouter` answers undefined for anything that does not have the expected shape.
 */
export interface RouterSnapshot {
  featureConfig: FeatureConfig;
  /** Feature hashes in column order (column `i` is `hashes[i]`). */
  hashes: string;
  columnWeights: string;
  unknownWeight: number;
  intentModel: ModelSnapshot;
  intentWorker: string;
  intents: string[];
  workerModel: ModelSnapshot | null;
  workers: string[];
  hasOutOfScopeClass: boolean;
  intentWeight: number;
  temperatures: [number, number];
  threshold: number;
  stats: ClassifierStats;
}

interface ModelSnapshot {
  classes: number;
  bias: string;
  rowStart: string;
  classOf: string;
  level: string;
  rowScale: string;
}

type Typed = Int8Array | Uint16Array | Int32Array | Float32Array;

const encode = (array: Typed): string =>
  Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");

function decode<T extends Typed>(text: unknown, make: (buffer: ArrayBuffer) => T): T | undefined {
  if (typeof text !== "string") return undefined;
  const bytes = Buffer.from(text, "base64");
  // Copied out of Node's buffer pool: a typed array needs its own aligned buffer.
  const own = new ArrayBuffer(bytes.length);
  new Uint8Array(own).set(bytes);
  try {
    return make(own);
  } catch {
    return undefined; // a length that is not a whole number of elements
  }
}

function isQuantized(model: RouterParts["intentModel"]): model is QuantizedModel {
  return "level" in model;
}

/** The snapshot of a trained router, or undefined when its models are not the trained 8-bit ones. */
export function snapshotRouter(router: LinearRouter): RouterSnapshot | undefined {
  const p = router.parts;
  if (!isQuantized(p.intentModel) || (p.workerModel !== null && !isQuantized(p.workerModel)))
    return undefined;
  return {
    featureConfig: { ...p.featureConfig },
    hashes: encode(p.index.hashesInColumnOrder()),
    columnWeights: encode(p.columnWeights),
    unknownWeight: p.unknownWeight,
    intentModel: snapshotModel(p.intentModel),
    intentWorker: encode(p.intentWorker),
    intents: [...p.intents],
    workerModel: p.workerModel === null ? null : snapshotModel(p.workerModel as QuantizedModel),
    workers: [...p.workers],
    hasOutOfScopeClass: p.hasOutOfScopeClass,
    intentWeight: p.intentWeight,
    temperatures: [...router.stats.temperatures],
    threshold: router.stats.oosThreshold,
    stats: { ...router.stats, warnings: [...router.stats.warnings] },
  };
}

function snapshotModel(model: QuantizedModel): ModelSnapshot {
  return {
    classes: model.classes,
    bias: encode(model.bias),
    rowStart: encode(model.rowStart),
    classOf: encode(model.classOf),
    level: encode(model.level),
    rowScale: encode(model.rowScale),
  };
}

function restoreModel(value: unknown, rows: number): QuantizedModel | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const m = value as Partial<Record<keyof ModelSnapshot, unknown>>;
  const classes = m.classes;
  const bias = decode(m.bias, (b) => new Float32Array(b));
  const rowStart = decode(m.rowStart, (b) => new Int32Array(b));
  const classOf = decode(m.classOf, (b) => new Uint16Array(b));
  const level = decode(m.level, (b) => new Int8Array(b));
  const rowScale = decode(m.rowScale, (b) => new Float32Array(b));
  if (typeof classes !== "number" || !bias || !rowStart || !classOf || !level || !rowScale) return undefined;
  const entries = classOf.length;
  if (
    bias.length !== classes ||
    rowStart.length !== rows + 1 ||
    rowScale.length !== rows ||
    level.length !== entries ||
    rowStart[rows] !== entries ||
    classOf.some((k) => k >= classes)
  )
    return undefined;
  return { classes, bias, rowStart, classOf, level, rowScale };
}

/** The router a snapshot describes, or undefined when the snapshot is damaged or inconsistent. */
export function restoreRouter(value: unknown): LinearRouter | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const s = value as Partial<RouterSnapshot>;
  const hashes = decode(s.hashes, (b) => new Int32Array(b));
  const columnWeights = decode(s.columnWeights, (b) => new Float32Array(b));
  const intentWorker = decode(s.intentWorker, (b) => new Int32Array(b));
  if (!hashes || !columnWeights || !intentWorker || columnWeights.length !== hashes.length) return undefined;
  if (!Array.isArray(s.intents) || !Array.isArray(s.workers) || !s.featureConfig || !s.stats)
    return undefined;
  if (!Array.isArray(s.temperatures) || typeof s.threshold !== "number") return undefined;
  const intentModel = restoreModel(s.intentModel, hashes.length);
  const workerModel = s.workerModel === null ? null : restoreModel(s.workerModel, hashes.length);
  if (!intentModel || workerModel === undefined || intentWorker.length !== intentModel.classes)
    return undefined;
  const index = FeatureIndex.ofColumns(hashes);
  if (index === undefined) return undefined;
  const parts: RouterParts = {
    featureConfig: Object.freeze({ ...s.featureConfig }),
    index,
    columnWeights,
    unknownWeight: Number(s.unknownWeight),
    intentModel,
    intentWorker,
    intents: s.intents,
    workerModel,
    workers: s.workers,
    hasOutOfScopeClass: s.hasOutOfScopeClass === true,
    intentWeight: Number(s.intentWeight),
  };
  const temperatures: [number, number] = [Number(s.temperatures[0]), Number(s.temperatures[1])];
  return new LinearRouter(parts, temperatures, s.threshold, { ...s.stats, cached: true });
}
