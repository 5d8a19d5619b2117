/** One example utterance for a worker, optionally labelled with a finer intent inside that worker. */
export interface TrainingExample {
  text: string;
  worker: string;
  intent?: string;
}

export interface ClassifierOptions {
  /**
   * Confidence below which a request is out of scope (worker `null`). When absent it is tuned on
   * held-out training examples so that about `targetFalseFallback` of in-scope requests fall back.
   */
  oosThreshold?: number;
  /** Share of in-scope requests the tuned threshold may send to the fallback (default 0.02). */
  targetFalseFallback?: number;
  /** Out-of-scope example utterances (e.g. CLINC150's `oos_train`); they train an "elsewhere" class. */
  outOfScope?: readonly string[];
  /** All workers that exist, so those without examples are reported instead of silently unreachable. */
  workers?: readonly string[];
  /** One-sentence scope of each worker; used as an extra example (the only one for a worker with none). */
  descriptions?: Readonly<Record<string, string>>;
  /** Add intent and worker names ("credit_limit" → "credit limit") as examples (default true). */
  labelNames?: boolean;
  /** Seed for shuffling and the held-out split (default 1). */
  seed?: number;
  /** SGD epochs (default: 60,000 / examples, between 6 and 30). */
  epochs?: number;
  /** SGD initial step (default 4). */
  learningRate?: number;
  /** Weight of the intent model in the worker probability; the rest is the worker model (default 0.6). */
  intentWeight?: number;
  /** Character n-gram range inside words (default [3, 4]); [0, 0] disables them. */
  charNgrams?: readonly [number, number];
}

/** Where one request should go. */
export interface Classification {
  /** `null` = out of scope: the fallback worker or a human gets it. */
  worker: string | null;
  /** Best intent inside the chosen worker (the worker name when its examples carry no intents). */
  intent: string | null;
  /** Calibrated probability (0..1) that `worker` is right; for out of scope, the best worker's. */
  confidence: number;
  /** Calibrated probability of `intent` (for out of scope: of the best in-scope intent). */
  intentConfidence: number;
  /** Probability of the trained out-of-scope class (0 when no out-of-scope examples were given). */
  outOfScope: number;
  /** Share (0..1) of the text's features seen in training: low for unfamiliar wording or language. */
  coverage: number;
  /** Calibrated probability per worker, best first. */
  ranking: Array<{ worker: string; score: number }>;
  /** Best in-scope worker and intent, also when the request falls back (a hint for the planner or a human). */
  candidate: { worker: string; intent: string } | null;
}

export interface ClassifierStats {
  /** Training examples used (including label-name and description examples). */
  examples: number;
  trainMs: number;
  /** Taken up from the derived cache (trained by an earlier process in `trainMs`), not trained now. */
  cached?: boolean;
  /** Load-time problems worth a human's attention, with the numbers. */
  warnings: string[];
  /** The out-of-scope threshold in force and where it came from. */
  oosThreshold: number;
  thresholdSource: "option" | "held-out" | "validation" | "default";
  /** Columns of the weight matrix (distinct features seen in training). */
  features: number;
  /** Temperatures fitted on held-out examples (intent model, worker model). */
  temperatures: readonly [number, number];
}

/** A trained local router. Deterministic: the same examples and options give the same answers. */
export interface IntentClassifier {
  classify(text: string): Classification;
  /**
   * Calibrated probability of every intent class (`intentLabels` order) for `text`, written into
   * `out` when given. Used to decide where a message splits.
   */
  intentDistribution(text: string, out?: Float64Array): Float64Array;
  /** Intent classes with their worker; `worker: null` is the out-of-scope class. */
  readonly intentLabels: ReadonlyArray<{ readonly intent: string; readonly worker: string | null }>;
  /** Workers the classifier can choose, in a stable order. */
  readonly workers: readonly string[];
  readonly stats: ClassifierStats;
  /**
   * Sets the out-of-scope threshold from validation examples (`worker: null` = out of scope) so
   * that at most `targetFalseFallback` of the in-scope ones fall back. Returns the threshold.
   */
  tuneThreshold(
    validation: ReadonlyArray<{ text: string; worker: string | null }>,
    targetFalseFallback?: number,
  ): number;
}
