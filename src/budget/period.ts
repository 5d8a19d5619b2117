import type { BudgetPeriod } from "./ledger.ts";

/** The UTC day or month containing `at`, as `[start, end)` in epoch milliseconds. */
export function periodBounds(period: BudgetPeriod, at: number): { start: number; end: number } {
  const date = new Date(at);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (period === "month") return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
  const day = date.getUTCDate();
  return { start: Date.UTC(year, month, day), end: Date.UTC(year, month, day + 1) };
}

/** The last key computed per period kind, with the bounds it holds for (most calls fall in the same day). */
const lastKey: Partial<Record<BudgetPeriod, { start: number; end: number; key: string }>> = {};

/** `YYYY-MM-DD` (UTC), or `YYYY-MM` for a month. */
export function periodKey(period: BudgetPeriod, at: number): string {
  const last = lastKey[period];
  if (last !== undefined && at >= last.start && at < last.end) return last.key;
  const iso = new Date(at).toISOString();
  const key = period === "month" ? iso.slice(0, 7) : iso.slice(0, 10);
  if (Number.isFinite(at)) lastKey[period] = { ...periodBounds(period, at), key };
  return key;
}
