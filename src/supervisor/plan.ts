import { ArbiterError, describeError, ErrorCode } from "../errors/arbiter-error.ts";
import { describePlan, type Plan, type PlanTask, planSchema, validatePlan } from "../routing/plan.ts";
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
  const recorded = ctx.emitOnce({ type: "plan-create", source, tasks: p.tasks });
  if (recorded?.type !== "plan-create" || samePlan(recorded.tasks, p.tasks) || ctx.deps.replaying) return p;
  // A resumed run whose profile now plans otherwise (routing, workers or planner changed since it was
  // recorded) follows the plan it recorded: its tasks' records are under those ids, and a task the new
  // plan adds would run side effects the run already made under another id. (`arbiter replay` keeps
  // the new plan: the difference is what it reports.)
  const then = describePlan(recorded.tasks);
  ctx.emit({
    type: "warning",
    message: `the profile now plans ${describePlan(p.tasks)}; this run follows the plan it recorded: ${then}`,
  });
  const kept = validatePlan({ tasks: recorded.tasks }, ctx.profile.workers, Number.POSITIVE_INFINITY);
  if (!kept.ok) {
    throw new ArbiterError(
      ErrorCode.DeterminismError,
      `run "${ctx.runId}" recorded the plan ${then}, which the profile can no longer run (${kept.error.message}); ` +
        "finish it with the profile version that started it, or escalate it.",
      { details: { runId: ctx.runId } },
    );
  }
  return { tasks: recorded.tasks };
}

const samePlan = (a: readonly PlanTask[], b: readonly PlanTask[]): boolean =>
  a.length === b.length &&
  a.every((t, i) => {
    const u = b[i]!;
    return (
      t.id === u.id &&
      t.worker === u.worker &&
      t.input === u.input &&
      t.review === u.review &&
      t.dependsOn.join(",") === u.dependsOn.join(",")
    );
  });

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
