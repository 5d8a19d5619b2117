import type { DurableEngine } from "../durable/durable.ts";
import type { LocalDurableEngine } from "../durable/local/local-durable.ts";
import type { LocalDurableRun } from "../durable/local/local-run.ts";
import { describeError } from "../errors/arbiter-error.ts";
import type { JournalEntry, RunEvent } from "../journal/events.ts";
import { MemoryJournal } from "../journal/memory/memory-journal.ts";
import type { Profile } from "../profile/load-profile.ts";
import { describePlan } from "../routing/plan.ts";
import type { RunRecord, Store } from "../store/store.ts";
import type { Shield } from "./guards.ts";
import type { ModelResolver } from "./run-context.ts";
import { createSupervisor } from "./supervisor.ts";

export interface ReplayReport {
  runId: string;
  identical: boolean;
  recordedProfile: string;
  replayedProfile: string;
  /** What differs, in words: routing, plan, the steps of a task, task outcomes. */
  divergences: string[];
  steps: number;
}

const routeOf = (events: RunEvent[]) =>
  events
    .filter((e) => e.type === "route-decide")
    .map((e) => (e.type === "route-decide" ? `${e.tier}: ${e.intents.map((i) => i.worker).join(", ")}` : ""));
const planOf = (events: RunEvent[]) =>
  events
    .filter((e) => e.type === "plan-create")
    .map((e) => (e.type === "plan-create" ? describePlan(e.tasks) : ""));
/** Per task: the tool calls in order (names and argument hashes), and how the task ended. */
const stepsOf = (events: RunEvent[]) => {
  const byTask = new Map<string, string[]>();
  for (const e of events) {
    if (e.type === "tool-call-end") byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), e.callId]);
    if (e.type === "task-end")
      byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), `end ${e.worker} ${e.status}`]);
  }
  return byTask;
};

/**
 * Per task: what the policy decided of its delegation and each tool call, in order — the first decision
 * of each (after a person approved, the run asks again, with the approval; a replay takes the recorded
 * call and does not).
 */
const decisionsOf = (events: RunEvent[]) => {
  const byTask = new Map<string, string[]>();
  const heldCalls = new Set<string>(); // approvals asked for a tool call the policy held
  const decided = new Set<string>(); // tasks whose next tool-call decision is the one with the approval
  for (const e of events) {
    if (e.type === "approval-request" && e.subject?.kind === "tool-call") heldCalls.add(e.approvalId);
    if (e.type === "approval-decide" && e.status === "approved" && heldCalls.has(e.approvalId))
      decided.add(e.taskId);
    if (e.type !== "policy-decide" || e.kind === "model-egress") continue;
    if (e.kind === "tool-call" && decided.delete(e.taskId)) continue; // the decision with the approval
    const ids = e.policyIds.length > 0 ? ` by ${e.policyIds.join(", ")}` : "";
    const what = e.kind === "delegation" ? `delegation to ${e.worker}` : (e.tool ?? "tool");
    byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), `${what}: ${e.decision}${ids}`]);
  }
  return byTask;
};

/**
 * Runs a finished run again against its recorded model and tool results (nothing unrecorded may
 * execute) with the current profile, and reports any divergence in routing, plan, step sequence or
 * what the policy decides of a delegation or tool call:
 * regression testing of profiles and prompts without calling a model.
 */
export async function replayRun(options: {
  record: RunRecord;
  profile: Profile;
  store: Store;
  engine: LocalDurableEngine;
  recorded: readonly JournalEntry[];
  shield?: Shield;
  models?: ModelResolver;
}): Promise<ReplayReport> {
  const { record, profile, engine } = options;
  const opened: LocalDurableRun[] = [];
  // Strict replay: recorded steps return their results; a step the record does not have is an error.
  const replaying: DurableEngine = {
    name: "replay",
    open: (runId) => {
      const run = engine.open(runId, { mode: "replay" });
      opened.push(run);
      return run;
    },
    release: () => {},
  };
  const journal = new MemoryJournal();
  const supervisor = createSupervisor({
    profile,
    journal,
    durable: replaying,
    replaying: true,
    gateway: false,
    ...(options.shield ? { shield: options.shield } : {}),
    ...(options.models ? { models: options.models } : {}),
  });
  const divergences: string[] = [];
  try {
    await supervisor.resume(record);
  } catch (error) {
    divergences.push(`the replay stopped: ${describeError(error)}`);
  }
  const before = options.recorded.map((e) => e.event);
  const after = journal.read(record.id).map((e) => e.event);
  const compare = (what: string, a: string[], b: string[]) => {
    if (a.join("\n") !== b.join("\n"))
      divergences.push(`${what}: recorded [${a.join(" | ")}], replayed [${b.join(" | ")}]`);
  };
  compare("routing", routeOf(before), routeOf(after));
  compare("plan", planOf(before), planOf(after));
  const recordedSteps = stepsOf(before);
  const replayedSteps = stepsOf(after);
  for (const task of new Set([...recordedSteps.keys(), ...replayedSteps.keys()])) {
    compare(`task ${task}`, recordedSteps.get(task) ?? [], replayedSteps.get(task) ?? []);
  }
  // What the policy decides now, against what it decided then (outcomes: a policy renamed is not a change).
  const recordedDecisions = decisionsOf(before);
  const replayedDecisions = decisionsOf(after);
  const outcome = (d: string) => d.replace(/ by .*$/, "");
  for (const task of new Set([...recordedDecisions.keys(), ...replayedDecisions.keys()])) {
    const then = recordedDecisions.get(task) ?? [];
    const now = replayedDecisions.get(task) ?? [];
    if (then.map(outcome).join("\n") !== now.map(outcome).join("\n"))
      divergences.push(`policy, task ${task}: recorded [${then.join(" | ")}], replayed [${now.join(" | ")}]`);
  }
  const unconsumed = opened.flatMap((run) => run.unconsumed());
  if (unconsumed.length > 0)
    divergences.push(`recorded steps the replay never asked for: ${unconsumed.join(", ")}`);
  return {
    runId: record.id,
    identical: divergences.length === 0,
    recordedProfile: record.profile.version,
    replayedProfile: profile.version,
    divergences,
    steps: options.store.loadSteps(record.id).length,
  };
}
