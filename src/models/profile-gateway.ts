import { Budget, type BudgetLimitsConfig } from "../budget/budget.ts";
import type { Ledger } from "../budget/ledger.ts";
import type { Profile } from "../profile/load-profile.ts";
import { BreakerRegistry } from "./gateway/breaker-registry.ts";
import { createGateway, type Gateway } from "./gateway/create-gateway-model.ts";
import { MemoryResponseCache } from "./gateway/response-cache.ts";

export interface ProfileGatewayOptions {
  /** Where spend is recorded and budgets are checked (SQLite makes tenant budgets hold across processes). */
  ledger?: Ledger;
  /** Shared breakers (one per process); default a new registry. */
  breakers?: BreakerRegistry;
  clock?: () => number;
  random?: () => number;
}

/** The profile's budgets as the budget library reads them. */
export function budgetLimits(profile: Profile): BudgetLimitsConfig {
  const { onExceed: _onExceed, ...limits } = profile.document.budgets;
  return limits;
}

/** The model gateway for a profile: retries, breakers (model hopping), the response cache and budgets. */
export function createProfileGateway(
  profile: Profile,
  options: ProfileGatewayOptions = {},
): { gateway: Gateway; budget: Budget | undefined; breakers: BreakerRegistry } {
  const clock = options.clock ?? Date.now;
  const config = profile.document.supervisor.gateway;
  const breakers = options.breakers ?? new BreakerRegistry();
  const budget =
    options.ledger === undefined
      ? undefined
      : new Budget({ ledger: options.ledger, limits: budgetLimits(profile), clock });
  const gateway = createGateway({
    breaker: breakers,
    ...(budget ? { budget } : {}),
    cache: { store: new MemoryResponseCache(), ttlMs: config.cacheTtl },
    retry: { maxRetries: config.retries },
    clock,
    ...(options.random ? { random: options.random } : {}),
  });
  return { gateway, budget, breakers };
}
