import assert from "node:assert/strict";
import { test } from "node:test";
import type { RunEvent } from "../journal/events.ts";
import { describeTask, taskStates } from "./task-states.ts";

const usage = { inputTokens: 10, outputTokens: 5, modelCalls: 1 };
const at = 1_700_000_000_000;
const ev = (event: Record<string, unknown>) => ({ runId: "r", at, ...event }) as RunEvent;

test("every planned task is listed with where it stands: ended, waiting for a person, running, not started", () => {
  const events = [
    ev({ type: "run-start", tenant: "t", profile: { name: "p", version: "1" }, message: "m", context: {} }),
    ev({
      type: "plan-create",
      source: "rules",
      tasks: [
        { id: "t1", worker: "billing", input: "credit me", dependsOn: [] },
        { id: "t2", worker: "tech_support", input: "slow line", dependsOn: [] },
        { id: "t3", worker: "account", input: "upgrade", dependsOn: [] },
        { id: "t4", worker: "account", input: "then confirm", dependsOn: ["t3"] },
      ],
    }),
    ev({ type: "task-start", taskId: "t1", worker: "billing", attempt: 1, mode: "model" }),
    ev({ type: "task-start", taskId: "t2", worker: "tech_support", attempt: 1, mode: "model" }),
    ev({ type: "task-start", taskId: "t3", worker: "account", attempt: 1, mode: "model" }),
    ev({
      type: "approval-request",
      approvalId: "apr_1",
      taskId: "t1",
      worker: "billing",
      reason: "over $50",
    }),
    ev({
      type: "task-retry",
      taskId: "t2",
      worker: "tech_support",
      attempt: 1,
      error: "timeout",
      delayMs: 100,
    }),
    ev({ type: "task-start", taskId: "t2", worker: "tech_support", attempt: 2, mode: "model" }),
    ev({
      type: "task-fallback",
      taskId: "t2",
      from: "tech_support",
      to: "generalist",
      reason: "failed twice",
    }),
    ev({ type: "task-start", taskId: "t2", worker: "generalist", attempt: 1, mode: "handler" }),
    ev({
      type: "task-end",
      taskId: "t2",
      worker: "generalist",
      status: "ok",
      summary: "noted",
      confidence: 0.6,
      startedAt: at,
      durationMs: 12,
      toolCalls: 0,
      usage,
    }),
  ];
  const tasks = taskStates(events);
  assert.deepEqual(
    tasks.map((t) => [t.taskId, t.state, t.worker, t.plannedWorker, t.attempts]),
    [
      ["t1", "waiting", "billing", "billing", 1],
      ["t2", "ended", "generalist", "tech_support", 2],
      ["t3", "running", "account", "account", 1],
      ["t4", "planned", "account", "account", 0],
    ],
  );
  assert.equal(tasks[0]!.approvalId, "apr_1");
  assert.deepEqual([tasks[1]!.status, tasks[1]!.summary, tasks[1]!.usage], ["ok", "noted", usage]);
  assert.deepEqual(tasks.map(describeTask), [
    "t1 billing  waiting for apr_1: over $50",
    "t2 tech_support → generalist  ok (0.60) 12 ms, 0 tool calls, 2 attempts",
    "t3 account  running",
    "t4 account  planned (after t3)",
  ]);
  // The person decides: the task goes on, then ends refused with why.
  const decided = taskStates([
    ...events,
    ev({
      type: "approval-decide",
      approvalId: "apr_1",
      taskId: "t1",
      status: "denied",
      by: "bob",
      decidedAt: at,
    }),
  ]);
  assert.deepEqual([decided[0]!.state, decided[0]!.approvalId], ["running", undefined]);
  const ended = taskStates([
    ...events,
    ev({
      type: "task-end",
      taskId: "t1",
      worker: "billing",
      status: "refused",
      summary: "",
      confidence: 0,
      startedAt: at,
      durationMs: 30,
      toolCalls: 1,
      usage,
      reason: "denied by bob",
    }),
  ]);
  assert.equal(describeTask(ended[0]!), "t1 billing  refused (0.00) 30 ms, 1 tool call — denied by bob");
});

test("a run with no plan yet lists no tasks", () => {
  assert.deepEqual(taskStates([]), []);
});
