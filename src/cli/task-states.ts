import type { RunEvent } from "../journal/events.ts";
import type { TaskStatus, Usage } from "../workers/worker-result.ts";

/** Where one planned task of a run stands, as its journal tells it (what `arbiter runs show` lists). */
export interface TaskState {
  taskId: string;
  /** The worker doing it now (its fallback, after a hand-over), and the one the plan chose. */
  worker: string;
  plannedWorker: string;
  input: string;
  dependsOn: string[];
  /**
   * `planned`: not started (it waits for a task it depends on, or the run stopped first); `running`:
   * started and not ended (in flight, or left by a process that stopped: `arbiter resume` goes on);
   * `waiting`: it asks a person (`approvalId`) or was handed to one; `ended`: see `status`.
   */
  state: "planned" | "running" | "waiting" | "ended";
  /** Attempts started (retries included). */
  attempts: number;
  /** The approval it waits for. */
  approvalId?: string;
  /** Why it waits, or why it ended as it did. */
  reason?: string;
  // As it ended (its `task-end`):
  status?: TaskStatus;
  summary?: string;
  confidence?: number;
  startedAt?: number;
  durationMs?: number;
  toolCalls?: number;
  usage?: Usage;
}

/** Every planned task of a run, in plan order, with where it stands after `events`. */
export function taskStates(events: readonly RunEvent[]): TaskState[] {
  const tasks = new Map<string, TaskState>();
  for (const event of events) {
    if (event.type === "plan-create") {
      for (const task of event.tasks) {
        tasks.set(task.id, {
          taskId: task.id,
          worker: task.worker,
          plannedWorker: task.worker,
          input: task.input,
          dependsOn: [...task.dependsOn],
          state: "planned",
          attempts: 0,
        });
      }
      continue;
    }
    if (!("taskId" in event) || typeof event.taskId !== "string") continue;
    const task = tasks.get(event.taskId);
    if (task === undefined) continue;
    switch (event.type) {
      case "task-start":
        task.state = "running";
        task.worker = event.worker;
        task.attempts = Math.max(task.attempts, event.attempt);
        break;
      case "task-fallback":
        task.worker = event.to;
        break;
      case "approval-request":
        task.state = "waiting";
        task.approvalId = event.approvalId;
        task.reason = event.reason;
        break;
      case "approval-decide":
        if (task.state === "waiting") task.state = "running";
        delete task.approvalId;
        delete task.reason;
        break;
      case "escalation-pending":
        task.state = "waiting";
        task.reason = event.reason;
        break;
      case "task-end":
        Object.assign(task, {
          state: "ended",
          worker: event.worker,
          status: event.status,
          summary: event.summary,
          confidence: event.confidence,
          startedAt: event.startedAt,
          durationMs: event.durationMs,
          toolCalls: event.toolCalls,
          usage: event.usage,
        });
        delete task.approvalId;
        if (event.reason === undefined) delete task.reason;
        else task.reason = event.reason;
        break;
    }
  }
  return [...tasks.values()];
}

/** One line per task: `t1 billing  waiting for apr_… : why`, `t2 tech_support  ok (0.90) 25 ms, 3 tool calls`. */
export function describeTask(task: TaskState): string {
  const who = task.worker === task.plannedWorker ? task.worker : `${task.plannedWorker} → ${task.worker}`;
  const tries = task.attempts > 1 ? `, ${task.attempts} attempts` : "";
  switch (task.state) {
    case "planned":
      return `${task.taskId} ${who}  planned${task.dependsOn.length > 0 ? ` (after ${task.dependsOn.join(", ")})` : ""}`;
    case "running":
      return `${task.taskId} ${who}  running${tries}`;
    case "waiting":
      return `${task.taskId} ${who}  waiting${task.approvalId ? ` for ${task.approvalId}` : " for a person"}${task.reason ? `: ${task.reason}` : ""}`;
    case "ended": {
      const calls =
        task.toolCalls === undefined ? "" : `, ${task.toolCalls} tool call${task.toolCalls === 1 ? "" : "s"}`;
      const why = task.reason ? ` — ${task.reason}` : "";
      return `${task.taskId} ${who}  ${task.status} (${(task.confidence ?? 0).toFixed(2)}) ${task.durationMs ?? 0} ms${calls}${tries}${why}`;
    }
  }
}
