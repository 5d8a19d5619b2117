import { dataClassesOf } from "../guard/pii/data-class.ts";
import { findTokens } from "../guard/pii/token.ts";
import type { Plan } from "../routing/plan.ts";
import { decisionEvent, describeDecision } from "../tools/authorization.ts";
import type { RunContext } from "./run-context.ts";

/** A delegation the authorizer did not allow: refused by policy, or waiting for a person. */
export interface StoppedDelegation {
  taskId: string;
  worker: string;
  status: "refused" | "escalated";
  reason: string;
}

export interface AuthorizedPlan {
  /** Tasks allowed to run. */
  plan: Plan;
  stopped: StoppedDelegation[];
}

/**
 * Phase 5: every delegation is decided before anything runs. Deny → the task is refused with the
 * policy id as the reason; needs approval → the task waits for a person. With no authorizer every
 * delegation in a validated plan is allowed (the plan only names the profile's workers).
 */
export async function authorize(ctx: RunContext, plan: Plan): Promise<AuthorizedPlan> {
  const authorizer = ctx.deps.authorizer;
  if (authorizer === undefined) return { plan, stopped: [] };
  const stopped: StoppedDelegation[] = [];
  const allowed = [];
  for (const task of plan.tasks) {
    const decision = await authorizer.authorizeDelegation({
      runId: ctx.runId,
      tenant: ctx.request.tenant,
      taskId: task.id,
      injectionScore: ctx.injectionScore,
      worker: task.worker,
      input: task.input,
      // The sub-task carries these classes as tokens (a card number in a billing request → "PCI").
      dataClasses: dataClassesOf(findTokens(task.input)),
    });
    ctx.emit(decisionEvent("delegation", task.id, task.worker, decision));
    if (decision.outcome === "allow") allowed.push(task);
    else if (decision.outcome === "needs-approval") {
      // Held in the plan: its branch asks a person and waits, the others go on.
      allowed.push({ ...task, review: `delegation to ${task.worker}: ${describeDecision(decision)}` });
    } else {
      stopped.push({
        taskId: task.id,
        worker: task.worker,
        status: decision.outcome === "deny" ? "refused" : "escalated",
        reason: `delegation to ${task.worker}: ${describeDecision(decision)}`,
      });
    }
  }
  return { plan: { tasks: allowed }, stopped };
}
