import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { ClassifierOptions, TrainingExample } from "./classification.ts";

/** Label of the out-of-scope class in the intent model. */
export const OUT_OF_SCOPE = "__out_of_scope__";

/**
 * Training rows for both models. Rows `[0, realRows)` are given examples (in-scope, then
 * out-of-scope); later rows are synthetic (label names, descriptions) and never held out.
 */
export interface TrainingRows {
  readonly texts: string[];
  readonly realRows: number;
  /** Intent class per row; -1 = the row only trains the worker model. */
  readonly intentLabels: Int32Array;
  /** Worker slot per row; `workers.length` = out of scope. */
  readonly workerLabels: Int32Array;
  readonly intentWeights: Float32Array;
  readonly workerWeights: Float32Array;
  readonly intents: string[];
  /** Worker slot of each intent class. */
  readonly intentWorker: Int32Array;
  readonly workers: string[];
  readonly realPerWorker: number[];
  readonly hasOutOfScope: boolean;
}

const labelText = (label: string): string => label.replace(/[_\-.:/]+/g, " ").trim();

export function buildRows(
  examples: readonly TrainingExample[],
  options: ClassifierOptions,
  warnings: string[],
): TrainingRows {
  const workers: string[] = [];
  const workerSlot = new Map<string, number>();
  const addWorker = (name: string): number => {
    let slot = workerSlot.get(name);
    if (slot === undefined) {
      slot = workers.length;
      workers.push(name);
      workerSlot.set(name, slot);
    }
    return slot;
  };
  const intents: string[] = [];
  const intentOwner: number[] = [];
  const intentSlot = new Map<string, number>();
  const addIntent = (worker: number, intent: string): number => {
    const key = `${worker}\u0000${intent}`;
    let slot = intentSlot.get(key);
    if (slot === undefined) {
      slot = intents.length;
      intents.push(intent);
      intentOwner.push(worker);
      intentSlot.set(key, slot);
    }
    return slot;
  };

  const texts: string[] = [];
  const intentOfRow: number[] = [];
  const workerOfRow: number[] = [];
  const realPerWorkerMap = new Map<string, number>();
  let blank = 0;
  examples.forEach((example, i) => {
    if (example === null || typeof example !== "object") {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `examples[${i}] must be an object {text, worker, intent?}`,
      );
    }
    if (typeof example.text !== "string") {
      throw new ArbiterError(ErrorCode.InvalidArgument, `examples[${i}].text must be a string`);
    }
    if (typeof example.worker !== "string" || example.worker.length === 0) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `examples[${i}].worker must be a non-empty worker name`,
      );
    }
    if (example.intent !== undefined && (typeof example.intent !== "string" || example.intent.length === 0)) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `examples[${i}].intent must be a non-empty string when given`,
      );
    }
    if (example.text.trim().length === 0) {
      blank++;
      return;
    }
    const w = addWorker(example.worker);
    texts.push(example.text);
    workerOfRow.push(w);
    intentOfRow.push(addIntent(w, example.intent ?? example.worker));
    realPerWorkerMap.set(example.worker, (realPerWorkerMap.get(example.worker) ?? 0) + 1);
  });
  if (blank > 0) warnings.push(`${blank} example${blank === 1 ? " is" : "s are"} blank and were skipped`);

  const outOfScope = (options.outOfScope ?? []).filter((t) => typeof t === "string" && t.trim().length > 0);
  const oosRows = texts.length;
  for (const text of outOfScope) {
    texts.push(text);
    workerOfRow.push(-1); // fixed below, once the worker count is final
    intentOfRow.push(-2);
  }
  const realRows = texts.length;

  // Workers known only by name or description.
  const descriptions = options.descriptions ?? {};
  for (const name of options.workers ?? []) {
    if (realPerWorkerMap.has(name)) continue;
    const description = descriptions[name];
    if (typeof description === "string" && description.trim().length > 0) {
      const w = addWorker(name);
      texts.push(description);
      workerOfRow.push(w);
      intentOfRow.push(addIntent(w, name));
      warnings.push(
        `worker "${name}" has no examples: it is routed from its description only (${countWords(description)} words); add example utterances`,
      );
    } else {
      warnings.push(`worker "${name}" has no examples and no description: the classifier never routes to it`);
    }
  }
  for (const [name, description] of Object.entries(descriptions)) {
    const w = workerSlot.get(name);
    if (w === undefined || !realPerWorkerMap.has(name) || typeof description !== "string") continue;
    texts.push(description);
    workerOfRow.push(w);
    intentOfRow.push(-1);
  }
  if (options.labelNames !== false) {
    for (let k = 0; k < intents.length; k++) {
      const name = labelText(intents[k]!);
      if (name.length === 0 || intents[k] === workers[intentOwner[k]!]) continue;
      texts.push(name);
      workerOfRow.push(intentOwner[k]!);
      intentOfRow.push(k);
    }
  }

  const W = workers.length;
  const hasOutOfScope = outOfScope.length > 0;
  const oosIntent = hasOutOfScope ? intents.length : -1;
  if (hasOutOfScope) {
    intents.push(OUT_OF_SCOPE);
    intentOwner.push(W);
  }
  // Rows that train the worker model only go to the worker's single intent when it has just one.
  const intentsPerWorker = new Array<number>(W).fill(0);
  for (let k = 0; k < intentOwner.length; k++) if (intentOwner[k]! < W) intentsPerWorker[intentOwner[k]!]!++;
  const intentLabels = Int32Array.from(intentOfRow, (k, r) => {
    if (k === -2) return oosIntent;
    if (k === -1 && intentsPerWorker[workerOfRow[r]!] === 1) return intentOwner.indexOf(workerOfRow[r]!);
    return k;
  });
  const workerLabels = Int32Array.from(workerOfRow, (w, r) => (r >= oosRows && r < realRows ? W : w));
  return {
    texts,
    realRows,
    intentLabels,
    workerLabels,
    intentWeights: balance(intentLabels, intents.length, oosIntent),
    workerWeights: balance(workerLabels, W + (hasOutOfScope ? 1 : 0), hasOutOfScope ? W : -1),
    intents,
    intentWorker: Int32Array.from(intentOwner),
    workers,
    realPerWorker: workers.map((name) => realPerWorkerMap.get(name) ?? 0),
    hasOutOfScope,
  };
}

/** Square-root class balancing: a class with 4× the examples gets half the weight per example. */
function balance(labels: Int32Array, classes: number, outOfScope: number): Float32Array {
  const counts = new Float64Array(classes);
  let labelled = 0;
  for (const y of labels) {
    if (y < 0) continue;
    counts[y]!++;
    labelled++;
  }
  const present = counts.filter((c) => c > 0).length;
  const mean = present > 0 ? labelled / present : 1;
  return Float32Array.from(labels, (y) => {
    if (y < 0) return 0;
    // All out-of-scope examples together weigh like one average class.
    if (y === outOfScope) return Math.min(1, mean / counts[y]!);
    // A class known from one or two rows (a description) would be drowned out: balance it fully.
    if (counts[y]! < 3) return Math.min(8, mean / counts[y]!);
    return Math.min(4, Math.max(0.25, Math.sqrt(mean / counts[y]!)));
  });
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w.length > 0).length;
}
