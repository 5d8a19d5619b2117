import type { AuthorizationDecision, Authorizer } from "../tools/authorization.ts";
import type { PolicyRequest } from "./decision.ts";
import type { PolicyEngine } from "./policy-engine.ts";
import { delegationRequest, modelEgressRequest, toolCallRequest } from "./requests.ts";

function verdict(
  engine: PolicyEngine,
  request: PolicyRequest,
  approved?: readonly string[],
): AuthorizationDecision {
  const { active, shadow, differs } = engine.decide(
    request,
    approved === undefined ? undefined : { approved },
  );
  const reasons =
    active.errors.length > 0 ? [`policy evaluation failed closed: ${active.errors.join("; ")}`] : [];
  reasons.push(...active.reasons);
  if (reasons.length === 0) {
    reasons.push(active.outcome === "deny" ? "no policy permits it (default deny)" : "permitted");
  }
  return {
    outcome: active.outcome,
    reason: reasons.join("; "),
    policyIds: active.policyIds,
    bundleVersion: active.bundleVersion,
    request,
    ...(shadow === undefined
      ? {}
      : {
          shadow: {
            outcome: shadow.outcome,
            policyIds: shadow.policyIds,
            bundleVersion: shadow.bundleVersion,
            differs,
          },
        }),
  };
}

/** The Cedar policy engine as the supervisor's authorizer: every delegation and tool call is decided by it. */
export function createPolicyAuthorizer(engine: PolicyEngine): Authorizer {
  return {
    authorizeDelegation: async (r) =>
      verdict(
        engine,
        delegationRequest({
          runId: r.runId,
          tenant: r.tenant,
          taskId: r.taskId,
          injectionScore: r.injectionScore,
          worker: r.worker,
          dataClasses: r.dataClasses,
        }),
      ),
    authorizeToolCall: async (r) =>
      verdict(
        engine,
        toolCallRequest({
          runId: r.runId,
          tenant: r.tenant,
          taskId: r.taskId,
          injectionScore: r.injectionScore,
          worker: r.worker,
          tool: r.tool,
          args: (r.input ?? {}) as Record<string, unknown>,
          facts: r.facts,
          run: r.run,
          dataClasses: r.dataClasses,
        }),
        r.approved,
      ),
    authorizeModelEgress: async (r) =>
      verdict(
        engine,
        modelEgressRequest({
          runId: r.runId,
          tenant: r.tenant,
          taskId: r.taskId,
          injectionScore: r.injectionScore,
          ...r.caller,
          provider: r.provider,
          model: r.model,
          external: r.external,
          dataClasses: r.dataClasses,
        }),
      ),
  };
}
