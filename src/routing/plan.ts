import { z } from "zod";
import { ArbiterError, ErrorCode, err, ok, type Result } from "../errors/arbiter-error.ts";

/** One sub-task of a plan: a node of the DAG. */
export interface PlanTask {
  id: string;
  worker: string;
  input: string;
  dependsOn: string[];
  /** Set when the router was unsure and no planner could check: a person reviews the task before it runs. */
  review?: string;
}

export interface Plan {
  tasks: PlanTask[];
}

/** The schema an LLM planner must answer with. */
export const planSchema = z.object({
  tasks: z
    .array(
      z.object({
        id: z.string().min(1).describe('short id such as "t1"'),
        worker: z.string().min(1),
        input: z.string().min(1).describe("the sub-task, self-contained, in the customer's words"),
        dependsOn: z.array(z.string()).default([]).describe("ids of tasks whose results this task needs"),
      }),
    )
    .min(1),
});

/** A plan in one line: `t1→billing t2→tech_support t3→account<t1`. */
export function describePlan(tasks: readonly PlanTask[]): string {
  return tasks
    .map((t) => `${t.id}→${t.worker}${t.dependsOn.length > 0 ? `<${t.dependsOn.join(",")}` : ""}`)
    .join(" ");
}

/** Checks a plan before anything runs: known workers, unique ids, known dependencies, no cycles, size. */
export function validatePlan(
  plan: Plan,
  workers: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  maxTasks: number,
): Result<Plan> {
  const bad = (message: string) => err(new ArbiterError(ErrorCode.InvalidPlan, message));
  if (plan.tasks.length === 0) return bad("the plan has no tasks");
  if (plan.tasks.length > maxTasks) {
    return bad(
      `the plan has ${plan.tasks.length} tasks; the profile allows at most ${maxTasks} (limits.maxTasks)`,
    );
  }
  const ids = new Set<string>();
  for (const task of plan.tasks) {
    if (ids.has(task.id)) return bad(`duplicate task id "${task.id}"`);
    ids.add(task.id);
    if (!workers.has(task.worker)) {
      return bad(
        `task "${task.id}" names unknown worker "${task.worker}"; known: ${[...workers.keys()].join(", ")}`,
      );
    }
  }
  for (const task of plan.tasks) {
    for (const dep of task.dependsOn) {
      if (!ids.has(dep)) return bad(`task "${task.id}" depends on unknown task "${dep}"`);
      if (dep === task.id) return bad(`task "${task.id}" depends on itself`);
    }
  }
  const cycle = findCycle(plan.tasks);
  if (cycle) return bad(`the plan has a dependency cycle: ${cycle.join(" → ")}`);
  return ok(plan);
}

function findCycle(tasks: readonly PlanTask[]): string[] | undefined {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 2) return undefined;
    if (s === 1) return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 1);
    stack.push(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const task of tasks) {
    const found = visit(task.id);
    if (found) return found;
  }
  return undefined;
}
