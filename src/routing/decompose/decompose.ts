import type { Classification, IntentClassifier } from "../classifier/classification.ts";
import { type BoundaryStrength, splitPieces } from "./boundaries.ts";

/** One sub-task of a message: a span of the original text and where it should go. */
export interface Segment {
  /** `text.slice(start, end)` of the original message, without the joining connective. */
  text: string;
  start: number;
  end: number;
  /** `null` = out of scope (fallback worker or a human). */
  worker: string | null;
  intent: string | null;
  /** Every intent this segment covers (several when same-worker segments were merged). */
  intents: string[];
  /** Calibrated confidence that `worker` is right. */
  confidence: number;
  /** Below the classifier's confidence threshold: a planner or a human should check this part. */
  unsure: boolean;
}

export interface DecomposeOptions {
  /**
   * Which adjacent segments become one: "worker" (default) merges segments that go to the same
   * worker; "intent" only those with the same intent; a function decides per worker (true = merge).
   */
  merge?: "worker" | "intent" | ((worker: string) => boolean);
  /**
   * Cost of a split after a sentence end (default 0.5), an explicit connective such as "and also"
   * or ", plus" (0.5), a bare comma or capitalised restart (5), or a bare "and"/"then" (7), in
   * nats of the classifier's log-probabilities.
   */
  splitCost?: Readonly<{ sentence?: number; connective?: number; comma?: number; weak?: number }>;
  /**
   * In a message of several parts, a part whose best worker has at least this confidence goes to
   * it even below the classifier's out-of-scope threshold, marked `unsure` (default 0.25). The
   * other parts show the request is in scope; an unsure part is for the planner or a human to check.
   */
  partFloor?: number;
  /**
   * A rescued part must also use familiar wording: at least this share of its features seen in
   * training (default 0.8). Text in another language or style (often injected) stays out of scope.
   */
  partCoverage?: number;
  /** Longest run of pieces considered as one segment (bounds the work on long messages; default 8). */
  maxPiecesPerSegment?: number;
  /** Most segments returned; the least confident are merged into a neighbour first (default 8). */
  maxSegments?: number;
}

/** Tuned on the `valid` split of test/fixtures/multi-intent (never on `test`). */
const DEFAULT_COST = { sentence: 0.5, connective: 0.5, comma: 5, weak: 7 } as const;
const FLOOR = 1e-6;

/**
 * Splits a message into sub-task spans and routes each one with the local classifier.
 *
 * Candidate split points are sentence ends, commas and additive connectives ("and also",
 * "plus", "then", ...). Each piece between them gets the classifier's intent distribution; a
 * segment (a run of pieces) is explained by the one intent that fits all its pieces best, and
 * costs the log-probability its pieces lose by sharing that intent. A dynamic programme picks the
 * cheapest segmentation, paying `splitCost` per split: "add milk and eggs to my list" stays one
 * request, "check my bill and also my internet is slow" splits. Each segment is then routed as
 * a whole; adjacent segments for the same worker are merged unless `merge` says otherwise.
 *
 * @example
 * decompose("check my bill and also my internet is slow, and can I upgrade?", router)
 * // → [{text: "check my bill", worker: "billing"}, {text: "my internet is slow", worker: "network"},
 * //    {text: "can I upgrade", worker: "sales"}]   (abridged)
 */
export function decompose(
  text: string,
  classifier: IntentClassifier,
  options: DecomposeOptions = {},
): Segment[] {
  const cost = { ...DEFAULT_COST, ...options.splitCost };
  const maxRun = options.maxPiecesPerSegment ?? 8;
  const pieces = splitPieces(text);
  if (pieces.length === 0) return [];
  if (pieces.length === 1) {
    const only = pieces[0]!;
    return [
      toSegment(text, only.start, only.end, classifier.classify(text.slice(only.start, only.end)), null),
    ];
  }
  const costs = [cost.sentence, cost.connective, cost.comma, cost.weak];
  const costOf = (strength: BoundaryStrength | null): number => (strength === null ? 0 : costs[strength]!);

  // Log-probabilities of every intent for every piece, and each piece's best.
  const n = pieces.length;
  const K = classifier.intentLabels.length;
  const logp = new Float64Array(n * K);
  const bestOf = new Float64Array(n);
  const dist = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    classifier.intentDistribution(text.slice(pieces[i]!.start, pieces[i]!.end), dist);
    let top = -Infinity;
    for (let k = 0; k < K; k++) {
      const l = Math.log(Math.max(FLOOR, dist[k]!));
      logp[i * K + k] = l;
      if (l > top) top = l;
    }
    bestOf[i] = top;
  }
  // A segment needs a content word: "please", "i think", "how" only attach to a neighbour.
  const content = pieces.map((piece) => hasContent(text.slice(piece.start, piece.end)));
  // best[j]: cheapest cost of pieces [0, j); from[j]: first piece of the last segment.
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  const sum = new Float64Array(K);
  best[0] = 0;
  for (let i = 0; i < n; i++) {
    if (best[i] === Infinity) continue;
    sum.fill(0);
    let ideal = 0;
    let meaningful = false;
    for (let j = i + 1; j <= n && j - i <= maxRun; j++) {
      meaningful ||= content[j - 1]!;
      const base = (j - 1) * K;
      let fit = -Infinity;
      for (let k = 0; k < K; k++) {
        sum[k]! += logp[base + k]!;
        if (sum[k]! > fit) fit = sum[k]!;
      }
      ideal += bestOf[j - 1]!;
      if (!meaningful && !(i === 0 && j === n)) continue;
      const total = best[i]! + (ideal - fit) + (i > 0 ? costOf(pieces[i]!.before) : 0);
      if (total < best[j]!) {
        best[j] = total;
        from[j] = i;
      }
    }
  }
  const runs: Array<[number, number]> = [];
  for (let j = n; j > 0; j = from[j]!) runs.unshift([from[j]!, j]);
  const rescue = { floor: options.partFloor ?? 0.25, coverage: options.partCoverage ?? 0.8 };
  let segments = runs.map(([i, j]) => {
    const start = pieces[i]!.start;
    const end = pieces[j - 1]!.end;
    return toSegment(
      text,
      start,
      end,
      classifier.classify(text.slice(start, end)),
      runs.length > 1 ? rescue : null,
    );
  });
  segments = mergeAdjacent(text, segments, options.merge ?? "worker");
  const maxSegments = options.maxSegments ?? 8;
  while (segments.length > maxSegments) segments = mergeWeakest(text, segments, classifier);
  return segments;
}

/** Words that carry no request on their own: a piece made only of these joins a neighbour. */
const FILLER = new Set(
  (
    "a an the and or but so then also plus please pls plz kindly i me my mine you your it its is are was were be " +
    "been am to of in on at for with from by about what whats how where when who why which that this these " +
    "those they them there here do does did can could would will should shall may might must think guess " +
    "ok okay now right too well as if just really very much oh hey hi um uh like want need wanna know tell " +
    "let us we our one more thing again sure help siri alexa google assistant bot"
  ).split(" "),
);

/** A content word: three letters or more, not a filler; numbers alone ("8 & 9") carry no request. */
function hasContent(piece: string): boolean {
  for (const word of piece.toLowerCase().split(/[^\p{L}\p{N}']+/u)) {
    const stem = word.replace(/'.*$/, "");
    if (stem.length >= 3 && !/^\p{N}+$/u.test(stem) && !FILLER.has(stem)) return true;
  }
  return false;
}

/** `rescue`: for a part of a longer message, when an unsure part still goes to its best worker. */
function toSegment(
  text: string,
  start: number,
  end: number,
  c: Classification,
  rescueIf: { floor: number; coverage: number } | null,
): Segment {
  const rescue =
    rescueIf !== null &&
    c.worker === null &&
    c.candidate !== null &&
    c.confidence >= rescueIf.floor &&
    c.coverage >= rescueIf.coverage &&
    c.outOfScope < c.confidence;
  const worker = rescue ? c.candidate!.worker : c.worker;
  const intent = rescue ? c.candidate!.intent : c.intent;
  return {
    text: text.slice(start, end),
    start,
    end,
    worker,
    intent,
    intents: intent === null ? [] : [intent],
    confidence: c.confidence,
    unsure: worker === null || rescue,
  };
}

/** One segment spanning `a` and `b` (and whatever lies between), for the same worker. */
function join(text: string, a: Segment, b: Segment): Segment {
  const stronger = b.confidence > a.confidence ? b : a;
  return {
    text: text.slice(a.start, b.end),
    start: a.start,
    end: b.end,
    worker: a.worker,
    intent: stronger.intent,
    intents: [...new Set([...a.intents, ...b.intents])],
    confidence: Math.min(a.confidence, b.confidence),
    unsure: a.unsure || b.unsure,
  };
}

function mergeAdjacent(
  text: string,
  segments: Segment[],
  merge: NonNullable<DecomposeOptions["merge"]>,
): Segment[] {
  const same = (a: Segment, b: Segment): boolean => {
    if (a.worker !== b.worker) return false;
    if (a.worker === null || a.intent === b.intent) return true;
    if (merge === "intent") return false;
    return merge === "worker" ? true : merge(a.worker);
  };
  const out: Segment[] = [];
  for (const segment of segments) {
    const last = out[out.length - 1];
    if (last && same(last, segment)) out[out.length - 1] = join(text, last, segment);
    else out.push(segment);
  }
  return out;
}

/** Undoes the least confident split: the weakest segment joins its neighbour and is re-routed. */
function mergeWeakest(text: string, segments: Segment[], classifier: IntentClassifier): Segment[] {
  let weakest = 0;
  for (let k = 1; k < segments.length; k++) {
    if (segments[k]!.confidence < segments[weakest]!.confidence) weakest = k;
  }
  const lo = weakest === 0 ? 0 : weakest - 1;
  const a = segments[lo]!;
  const b = segments[lo + 1]!;
  const merged = toSegment(text, a.start, b.end, classifier.classify(text.slice(a.start, b.end)), {
    floor: 0,
    coverage: 0,
  });
  return [...segments.slice(0, lo), merged, ...segments.slice(lo + 2)];
}
