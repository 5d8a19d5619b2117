import { ArbiterError, describeError, ErrorCode } from "../errors/arbiter-error.ts";
import { type Plan, type PlanTask, planSchema, validatePlan } from "../routing/plan.ts";
import type { RouteDecision } from "./route.ts";
import type { RunContext } from "./run-context.ts";

/**
 * Phase 4: turn the routing decision into a DAG.
 * - every part confident → one task per intent (a single intent gets the whole message), no model call;
 * - some part unsure (or nothing in scope) and a planner configured → the LLM planner;
 * - some part unsure and no planner → a best-effort plan: confident parts run, an unsure part with a
 *   likely worker waits for a person (`review`), an unsure part without one goes to the fallback worker;
 * - nothing in scope → the fallback worker gets the message.
 * Tasks are cut from `routing.text`, so text routing withheld as injected never reaches a worker.
 */
export async function plan(ctx: RunContext, routing: RouteDecision): Promise<Plan> {
  const message = routing.text;
  const limits = ctx.profile.document.limits;
  const fallback = ctx.profile.document.supervisor.fallbackWorker;
  if (!routing.confident && ctx.deps.models.planner() !== undefined) {
    const fromPlanner = await planWithModel(ctx, message);
    if (fromPlanner !== undefined) return record(ctx, "planner", fromPlanner);
  }
  if (routing.intents.length > 0 || routing.unsure.some((u) => u.candidate !== undefined)) {
    const tasks: PlanTask[] = routing.intents.map((intent) => ({
      id: "",
      worker: intent.worker,
      input: routing.intents.length === 1 && routing.unsure.length === 0 ? message : intent.text,
      dependsOn: [],
    }));
    const orphans: string[] = [];
    for (const part of routing.unsure) {
      if (part.candidate === undefined) orphans.push(part.text);
      else {
        tasks.push({
          id: "",
          worker: part.candidate,
          input: part.text,
          dependsOn: [],
          review: `the router is unsure that "${part.text.slice(0, 80)}" is for ${part.candidate}; a person should confirm`,
        });
      }
    }
    if (orphans.length > 0 && fallback !== undefined) {
      tasks.push({ id: "", worker: fallback, input: orphans.join(" "), dependsOn: [] });
    }
    tasks.forEach((t, i) => {
      t.id = `t${i + 1}`;
    });
    const direct = routing.confident && tasks.length === 1;
    return record(ctx, direct ? "direct" : "rules", { tasks: tasks.slice(0, limits.maxTasks) });
  }
  if (fallback === undefined) {
    throw new ArbiterError(
      ErrorCode.InvalidRequest,
      "no worker matched the request and the profile has no supervisor.fallbackWorker or planner; " +
        "add routing keywords, examples or a fallback worker",
    );
  }
  // Nothing but injected-looking text: a person sees the original before any worker does.
  const nothingLeft = message.trim() === "";
  return record(ctx, "fallback", {
    tasks: [
      {
        id: "t1",
        worker: fallback,
        input: nothingLeft ? routing.original : message,
        dependsOn: [],
        ...(nothingLeft
          ? { review: "the whole message looks like injected instructions; a person should read it" }
          : {}),
      },
    ],
  });
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
    // Loaded when a planner model is first used: a profile that plans by rules starts without the AI SDK.
    const { generateText, Output } = await import("ai");
    const result = await generateText({
      model: ctx.observe(resolved, "planner"),
      instructions:
        "Split the customer's message into sub-tasks for these workers. One task per distinct need; " +
        "dependsOn only when a task needs another's result. Use only listed workers.\n" +
        workers,
      prompt: message,
      output: Output.object({ schema: planSchema }),
      // Plans are repeatable: temperature 0 also lets the gateway serve a repeated request from its cache.
      temperature: 0,
      abortSignal: ctx.signal,
      maxRetries: 0,
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
