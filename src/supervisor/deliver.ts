import type { RunStatus } from "../journal/events.ts";
import type { Plan } from "../routing/plan.ts";
import type { Usage } from "../workers/worker-result.ts";
import type { RunContext } from "./run-context.ts";
import type { TaskOutcome } from "./task-outcome.ts";

export interface TaskReport {
  id: string;
  worker: string;
  /** The worker the plan named (differs from `worker` after a fallback). */
  plannedWorker: string;
  status: string;
  summary: string;
  confidence: number;
  startedAt: number;
  endedAt: number;
  attempts: number;
  toolCalls: number;
  reason?: string;
  data: Record<string, unknown>;
}

/** What a finished run returns to its caller. */
export interface RunResult {
  runId: string;
  status: RunStatus;
  profile: { name: string; version: string };
  tenant: string;
  plan: Plan;
  tasks: TaskReport[];
  /** Escalated tasks waiting for a person. */
  pending: Array<{ taskId: string; worker: string; reason: string }>;
  answer: string;
  usage: Usage;
  durationMs: number;
}

export function runStatus(outcomes: readonly TaskOutcome[]): RunStatus {
  let ok = 0;
  let escalated = 0;
  for (const o of outcomes) {
    if (o.result.status === "ok") ok++;
    else if (o.result.status === "escalated") escalated++;
  }
  if (escalated > 0) return "escalated";
  if (ok === outcomes.length && ok > 0) return "completed";
  const answered = outcomes.some((o) => o.result.status === "ok" || o.result.status === "partial");
  return answered ? "partial" : "failed";
}

/** Phase 9: record the end of the run and hand the result back. */
export function deliver(
  ctx: RunContext,
  plan: Plan,
  outcomes: readonly TaskOutcome[],
  answer: { journaled: string; delivered: string },
): RunResult {
  const status = runStatus(outcomes);
  const durationMs = ctx.deps.clock() - ctx.startedAt;
  ctx.emit({ type: "run-end", status, answer: answer.journaled, durationMs, usage: ctx.usage });
  return {
    runId: ctx.runId,
    status,
    profile: { name: ctx.profile.document.name, version: ctx.profile.version },
    tenant: ctx.request.tenant,
    plan,
    tasks: outcomes.map((o) => ({
      id: o.task.id,
      worker: o.worker,
      plannedWorker: o.task.worker,
      status: o.result.status,
      summary: o.result.summary,
      confidence: o.result.confidence,
      startedAt: o.startedAt,
      endedAt: o.endedAt,
      attempts: o.attempts,
      toolCalls: o.toolCalls,
      ...(o.reason === undefined ? {} : { reason: o.reason }),
      data: o.result.data,
    })),
    pending: outcomes
      .filter((o) => o.result.status === "escalated")
      .map((o) => ({ taskId: o.task.id, worker: o.worker, reason: o.reason ?? "" })),
    answer: answer.delivered,
    usage: { ...ctx.usage },
    durationMs,
  };
}
