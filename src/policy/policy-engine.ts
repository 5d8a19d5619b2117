import type { DecideOptions, Decision, PolicyBundle, PolicyRequest } from "./decision.ts";

export interface PolicyEngineOptions {
  /** The bundle whose decisions are enforced. */
  readonly active: PolicyBundle;
  /** A candidate bundle decided beside the active one and never enforced (shadow mode). */
  readonly shadow?: PolicyBundle;
}

export interface EngineDecision {
  /** Enforce this one. */
  readonly active: Decision;
  /** Record this one; never enforce it. */
  readonly shadow?: Decision;
  /** True when a shadow bundle is set and its decision differs (outcome or determining policy ids). */
  readonly differs: boolean;
  /** What differs: the outcome itself, or only the policies that determined the same outcome. */
  readonly difference?: "outcome" | "policy-ids";
}

export interface PolicyEngine {
  readonly active: PolicyBundle;
  readonly shadow: PolicyBundle | undefined;
  decide(request: PolicyRequest, options?: DecideOptions): EngineDecision;
}

/**
 * Runs the active bundle and, in shadow mode, a candidate bundle on every request.
 * @example
 * const engine = createPolicyEngine({ active: loadPolicyBundle("policies"), shadow: loadPolicyBundle("next") });
 * const { active, shadow, differs } = engine.decide(toolCallRequest({ ... }));
 * if (active.outcome !== "allow") refuse(active.policyIds);
 */
export function createPolicyEngine(options: PolicyEngineOptions): PolicyEngine {
  const { active, shadow } = options;
  return Object.freeze({
    active,
    shadow,
    decide(request: PolicyRequest, decideOptions?: DecideOptions): EngineDecision {
      const activeDecision = active.decide(request, decideOptions);
      if (shadow === undefined) return { active: activeDecision, differs: false };
      const shadowDecision = shadow.decide(request, decideOptions);
      const difference = compare(activeDecision, shadowDecision);
      return difference === undefined
        ? { active: activeDecision, shadow: shadowDecision, differs: false }
        : { active: activeDecision, shadow: shadowDecision, differs: true, difference };
    },
  });
}

function compare(a: Decision, b: Decision): "outcome" | "policy-ids" | undefined {
  if (a.outcome !== b.outcome) return "outcome";
  if (a.policyIds.length !== b.policyIds.length) return "policy-ids";
  const ids = new Set(a.policyIds);
  return b.policyIds.every((id) => ids.has(id)) ? undefined : "policy-ids";
}
