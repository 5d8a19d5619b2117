/** Per-million-token prices of a catalog model (see `ModelSpec.price`). */
export interface Price {
  readonly inputPerMTok: number;
  readonly outputPerMTok: number;
}

const NANOS_PER_USD = 1e9;

/** Dollars as whole nano-dollars: the ledger adds integers, so its sums are exact. */
export const toNanos = (usd: number): number => Math.round(usd * NANOS_PER_USD);
export const fromNanos = (nanos: number): number => nanos / NANOS_PER_USD;

/** Cost of a call in US dollars, rounded to the nano-dollar; 0 for an unpriced model. */
export function costOf(price: Price | undefined, inputTokens: number, outputTokens: number): number {
  if (price === undefined) return 0;
  // tokens × $/MTok × 1e9 / 1e6 = nano-dollars.
  return fromNanos(Math.round((inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) * 1e3));
}
