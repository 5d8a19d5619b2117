import { generateText, Output } from "ai";
import { ArbiterError, describeError, ErrorCode } from "../errors/arbiter-error.ts";
import { type Plan, planSchema, validatePlan } from "../routing/plan.ts";
import type { RouteDecision } from "./route.ts";
import type { RunContext } from "./run-context.ts";

/**
 * Phase 4: turn the routing decision into a DAG.
 * - one confident intent → a single task, no planner call;
 * - several confident intents and no planner → one task per intent;
 * - anything unsure or multi-intent → the LLM planner when configured;
 * - nothing matched and no planner → the fallback worker gets the whole message.
 */
export async function plan(ctx: RunContext, routing: RouteDecision, message: string): Promise<Plan> {
  const planner = ctx.deps.models.planner();
  const limits = ctx.profile.document.limits;
  const direct = routing.confident && routing.intents.length === 1;
  if (planner !== undefined && !direct) {
    const fromPlanner = await planWithModel(ctx, message);
    if (fromPlanner !== undefined) return record(ctx, "planner", fromPlanner);
  }
  if (routing.intents.length > 0) {
    const tasks = routing.intents.map((intent, i) => ({
      id: `t${i + 1}`,
      worker: intent.worker,
      // A lone intent gets the whole message; several get their own part of it.
      input: routing.intents.length === 1 ? message : intent.text,
      dependsOn: [],
    }));
    const fallback = ctx.profile.document.supervisor.fallbackWorker;
    if (routing.unsure.length > 0 && fallback !== undefined) {
      tasks.push({
        id: `t${tasks.length + 1}`,
        worker: fallback,
        input: routing.unsure.map((c) => c.text).join(" "),
        dependsOn: [],
      });
    }
    return record(ctx, direct ? "direct" : "rules", { tasks: tasks.slice(0, limits.maxTasks) });
  }
  const fallback = ctx.profile.document.supervisor.fallbackWorker;
  if (fallback === undefined) {
    throw new ArbiterError(
      ErrorCode.InvalidRequest,
      "no worker matched the request and the profile has no supervisor.fallbackWorker or planner; " +
        "add routing keywords or a fallback worker",
    );
  }
  return record(ctx, "fallback", { tasks: [{ id: "t1", worker: fallback, input: message, dependsOn: [] }] });
}

function record(ctx: RunContext, source: "direct" | "rules" | "planner" | "fallback", p: Plan): Plan {
  const valid = validatePlan(p, ctx.profile.workers, ctx.profile.document.limits.maxTasks);
  if (!valid.ok) throw valid.error;
  ctx.emit({ type: "plan-create", source, tasks: p.tasks });
  return p;
}

/** Asks the planner model for a plan; a rejected or failed plan is journaled and the rules take over. */
async function planWithModel(ctx: RunContext, message: string): Promise<Plan | undefined> {
  const resolved = ctx.deps.models.planner()!;
  const workers = [...ctx.profile.workers.values()].map((w) => `- ${w.name}: ${w.description}`).join("\n");
  try {
    const result = await generateText({
      model: ctx.observe(resolved.model, "planner"),
      instructions:
        "Split the customer's message into sub-tasks for these workers. One task per distinct need; " +
        "dependsOn only when a task needs another's result. Use only listed workers.\n" +
        workers,
      prompt: message,
      output: Output.object({ schema: planSchema }),
      abortSignal: ctx.signal,
      maxRetries: 1,
    });
    const candidate = result.output;
    const valid = validatePlan(candidate, ctx.profile.workers, ctx.profile.document.limits.maxTasks);
    if (!valid.ok) {
      ctx.emit({ type: "plan-reject", source: "planner", reason: valid.error.message });
      return undefined;
    }
    return candidate;
  } catch (error) {
    ctx.emit({ type: "plan-reject", source: "planner", reason: describeError(error) });
    return undefined;
  }
}
