import type { Plan } from "../routing/plan.ts";
import type { RunContext } from "./run-context.ts";

export interface AuthorizedPlan {
  /** Tasks allowed to run. */
  plan: Plan;
  /** Tasks refused by policy, with the reason, never run. */
  denied: Array<{ taskId: string; worker: string; reason: string }>;
}

/**
 * Phase 5: every delegation is decided before anything runs. With no authorizer configured every
 * delegation in a validated plan is allowed (the plan only names the profile's workers).
 */
export async function authorize(ctx: RunContext, plan: Plan): Promise<AuthorizedPlan> {
  const authorizer = ctx.deps.authorizer;
  if (authorizer === undefined) return { plan, denied: [] };
  const denied: AuthorizedPlan["denied"] = [];
  const allowed = [];
  for (const task of plan.tasks) {
    const decision = await authorizer.authorizeDelegation({
      runId: ctx.runId,
      tenant: ctx.request.tenant,
      taskId: task.id,
      worker: task.worker,
      input: task.input,
    });
    if (decision.outcome === "allow") {
      ctx.emit({ type: "delegation-decide", taskId: task.id, worker: task.worker, decision: "allow" });
      allowed.push(task);
    } else {
      const reason = `${decision.outcome}: ${decision.reason} (${decision.policyIds.join(", ")})`;
      ctx.emit({ type: "delegation-decide", taskId: task.id, worker: task.worker, decision: "deny", reason });
      denied.push({ taskId: task.id, worker: task.worker, reason });
    }
  }
  return { plan: { tasks: allowed }, denied };
}
