/** Words around a candidate that make it more (or less) likely to be what it looks like. */
export interface ContextWords {
  positive: RegExp;
  negative?: RegExp;
  /** Characters inspected before the candidate (default 48). */
  before?: number;
  /** Characters inspected after the candidate (default 24). */
  after?: number;
}

export interface ContextHits {
  positive: boolean;
  negative: boolean;
}

/**
 * Looks for context words near `[start, end)`. Positive hits win over negative ones when both
 * occur: "card number" beats "number" in "order number for card …" — the caller decides.
 */
export function contextHits(text: string, start: number, end: number, words: ContextWords): ContextHits {
  const from = Math.max(0, start - (words.before ?? 48));
  const to = Math.min(text.length, end + (words.after ?? 24));
  const window = text.slice(from, start) + " " + text.slice(end, to);
  return {
    positive: words.positive.test(window),
    negative: words.negative?.test(window) ?? false,
  };
}

/** Clamp a score into [0, 1] with two decimals, so scores compare and print predictably. */
export function clampScore(score: number): number {
  return Math.round(Math.min(1, Math.max(0, score)) * 100) / 100;
}
