import type { IntentClassifier } from "../../routing/classifier/classification.ts";
import { splitPieces } from "../../routing/decompose/boundaries.ts";
import type { Domains } from "./load-data.ts";

/** Most candidate segmentations tried per utterance. */
const MAX_TRIES = 2000;

/**
 * Splits a multi-intent training utterance into one span per gold intent: the contiguous split
 * and the order of intents under which `router` best explains each span. Returns no parts when
 * the text has fewer candidate boundaries than it needs.
 */
export function alignParts(
  text: string,
  intents: readonly string[],
  router: IntentClassifier,
  domains: Domains,
): Array<{ text: string; intent: string }> {
  const pieces = splitPieces(text);
  const k = intents.length;
  if (k < 2 || pieces.length < k) return [];
  const cache = new Map<string, ReturnType<IntentClassifier["classify"]>>();
  const classify = (i: number, j: number) => {
    const key = `${i}:${j}`;
    let c = cache.get(key);
    if (!c) {
      c = router.classify(text.slice(pieces[i]!.start, pieces[j - 1]!.end));
      cache.set(key, c);
    }
    return c;
  };
  const fit = (i: number, j: number, intent: string): number => {
    const c = classify(i, j);
    const worker = domains.workerOf.get(intent);
    const p = c.ranking.find((r) => r.worker === worker)?.score ?? 0;
    return Math.log(Math.max(1e-6, p)) + (c.candidate?.intent === intent ? 0 : -1);
  };
  let best = -Infinity;
  let bestParts: Array<{ text: string; intent: string }> = [];
  let tries = 0;
  for (const order of permutations([...intents])) {
    for (const cuts of combinations(pieces.length - 1, k - 1)) {
      if (++tries > MAX_TRIES) return bestParts;
      const bounds = [0, ...cuts.map((c) => c + 1), pieces.length];
      let score = 0;
      for (let p = 0; p < k; p++) score += fit(bounds[p]!, bounds[p + 1]!, order[p]!);
      if (score > best) {
        best = score;
        bestParts = order.map((intent, p) => ({
          intent,
          text: text.slice(pieces[bounds[p]!]!.start, pieces[bounds[p + 1]! - 1]!.end),
        }));
      }
    }
  }
  return bestParts;
}

function* permutations<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i]!, ...tail];
  }
}

/** Increasing `r`-subsets of `0 .. n-1`. */
function* combinations(n: number, r: number, from = 0): Generator<number[]> {
  if (r === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= n - r; i++) for (const rest of combinations(n, r - 1, i + 1)) yield [i, ...rest];
}
