import type { RouteIntent } from "../journal/events.ts";
import type { Clause, RulesRouter } from "../routing/rules-router.ts";
import type { RunContext } from "./run-context.ts";

export interface RouteDecision {
  /** Confident intents, one per worker. */
  intents: RouteIntent[];
  /** Parts of the message no rule placed with confidence. */
  unsure: Clause[];
  confident: boolean;
}

/** Phase 3: tier-1 routing by the profile's rules; decides whether the planner is needed. */
export function route(ctx: RunContext, router: RulesRouter, message: string): RouteDecision {
  const routing = router.route(message);
  const reason =
    routing.intents.length === 0
      ? "no worker's rules matched with confidence"
      : routing.confident
        ? routing.intents.length === 1
          ? `one confident intent: ${routing.intents[0]!.worker}`
          : `${routing.intents.length} confident intents`
        : `${routing.unsure.length} part(s) of the message are ambiguous`;
  ctx.emit({
    type: "route-decide",
    tier: "rules",
    confident: routing.confident,
    intents: routing.intents,
    reason,
  });
  return routing;
}
