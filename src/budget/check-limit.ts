import { fromNanos, toNanos } from "./cost.ts";
import type { LimitCheck, LimitExceeded } from "./ledger.ts";

/**
 * Whether a request for `tokens` and `costNanos` fits under a scope's limits, given what is
 * already spent there (committed calls plus live holds). Limits are inclusive.
 */
export function exceededLimit(
  check: LimitCheck,
  spent: { tokens: number; costNanos: number },
  request: { tokens: number; costNanos: number },
): LimitExceeded | undefined {
  if (check.tokens !== undefined && spent.tokens + request.tokens > check.tokens) {
    return {
      scope: check.scope,
      unit: "tokens",
      limit: check.tokens,
      spent: spent.tokens,
      requested: request.tokens,
    };
  }
  if (check.costUsd !== undefined && spent.costNanos + request.costNanos > toNanos(check.costUsd)) {
    return {
      scope: check.scope,
      unit: "usd",
      limit: check.costUsd,
      spent: fromNanos(spent.costNanos),
      requested: fromNanos(request.costNanos),
    };
  }
  return undefined;
}
