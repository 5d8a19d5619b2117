import type { PlanTask } from "../routing/plan.ts";
import type { WorkerResult } from "../workers/worker-result.ts";

/** A finished task as the rest of the loop sees it. */
export interface TaskOutcome {
  readonly task: PlanTask;
  /** The worker that produced the result (differs from `task.worker` after a fallback). */
  readonly worker: string;
  readonly result: WorkerResult;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly attempts: number;
  readonly toolCalls: number;
  /** Why the task did not succeed, in words a customer may read. */
  readonly reason?: string;
  /** A policy or a budget stopped it: no fallback worker may try instead. */
  readonly stopped?: boolean;
}
