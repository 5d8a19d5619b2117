import { abortableDelay } from "../durable/abortable-delay.ts";
import { PausableTimeout } from "../durable/pausable-timeout.ts";
import { ArbiterError, describeError, ErrorCode, findArbiterError } from "../errors/arbiter-error.ts";
import type { Plan, PlanTask } from "../routing/plan.ts";
import type { ToolCallScope } from "../tools/invoke-tool.ts";
import type { DependencyResult, HandlerTask } from "../workers/code-handler.ts";
import { runWorker, type WorkerImplementation } from "../workers/run-worker.ts";
import { type TaskStatus, type WorkerResult, zeroUsage } from "../workers/worker-result.ts";
import { requestApproval } from "./approval.ts";
import type { RunContext } from "./run-context.ts";
import type { TaskOutcome } from "./task-outcome.ts";

const settled: ReadonlySet<TaskStatus> = new Set(["ok", "partial"]);

/**
 * The DAG scheduler: runs every task whose dependencies are done, in parallel up to the profile's
 * concurrency limit. A failed branch yields a failed outcome; the others continue. Dependents of a task
 * that did not succeed are not run and say why.
 */
export async function dispatch(ctx: RunContext, plan: Plan): Promise<TaskOutcome[]> {
  const limit = ctx.profile.document.supervisor.maxConcurrency;
  const outcomes = new Map<string, TaskOutcome>();
  const waiting = new Map<string, number>();
  const dependents = new Map<string, PlanTask[]>();
  for (const task of plan.tasks) {
    waiting.set(task.id, task.dependsOn.length);
    for (const dep of task.dependsOn) {
      const list = dependents.get(dep);
      if (list) list.push(task);
      else dependents.set(dep, [task]);
    }
  }
  const ready: PlanTask[] = plan.tasks.filter((t) => t.dependsOn.length === 0);
  let running = 0;

  let stopped: unknown;
  return new Promise<TaskOutcome[]>((resolve, reject) => {
    const finish = (outcome: TaskOutcome) => {
      outcomes.set(outcome.task.id, outcome);
      for (const next of dependents.get(outcome.task.id) ?? []) {
        const left = (waiting.get(next.id) ?? 1) - 1;
        waiting.set(next.id, left);
        if (left === 0) ready.push(next);
      }
    };
    const pump = () => {
      while (running < limit && ready.length > 0) {
        const task = ready.shift()!;
        const blocked = task.dependsOn.find((d) => !settled.has(outcomes.get(d)!.result.status));
        if (blocked !== undefined) {
          finish(skipped(ctx, task, blocked, outcomes.get(blocked)!));
          continue;
        }
        running++;
        ctx.taskStarted();
        runTask(ctx, task, outcomes).then(
          (outcome) => {
            running--;
            finish(outcome);
            ctx.taskEnded();
            pump();
          },
          (error: unknown) => {
            // The run was stopped (this process is shutting down, or every branch waits for a person):
            // nothing more starts, and the run stays unfinished for a resume.
            running--;
            stopped ??= error;
            ctx.taskEnded();
            ready.length = 0;
            pump();
          },
        );
      }
      if (running === 0 && ready.length === 0) {
        if (stopped !== undefined) reject(stopped);
        else resolve(plan.tasks.map((t) => outcomes.get(t.id)!));
      }
    };
    pump();
  });
}

function skipped(ctx: RunContext, task: PlanTask, blocked: string, upstream: TaskOutcome): TaskOutcome {
  const now = ctx.deps.clock();
  const reason = `not started: it needs ${blocked} (${upstream.worker}), which ended ${upstream.result.status}`;
  const result: WorkerResult = {
    status: upstream.result.status === "escalated" ? "escalated" : "failed",
    summary: "",
    data: {},
    confidence: 0,
    evidence: [],
    usage: zeroUsage(),
  };
  ctx.emit({
    type: "task-end",
    taskId: task.id,
    worker: task.worker,
    status: result.status,
    summary: "",
    confidence: 0,
    startedAt: now,
    durationMs: 0,
    toolCalls: 0,
    usage: result.usage,
    reason,
  });
  return {
    task,
    worker: task.worker,
    result,
    startedAt: now,
    endedAt: now,
    attempts: 0,
    toolCalls: 0,
    reason,
  };
}

function dependencyResults(
  task: PlanTask,
  outcomes: ReadonlyMap<string, TaskOutcome>,
): Record<string, DependencyResult> {
  const deps: Record<string, DependencyResult> = {};
  for (const id of task.dependsOn) {
    const o = outcomes.get(id)!;
    deps[id] = { worker: o.worker, status: o.result.status, summary: o.result.summary, data: o.result.data };
  }
  return deps;
}

/** One task: its worker with retries, then its fallback worker if it still failed or refused. */
async function runTask(
  ctx: RunContext,
  task: PlanTask,
  outcomes: ReadonlyMap<string, TaskOutcome>,
): Promise<TaskOutcome> {
  const handlerTask: HandlerTask = {
    id: task.id,
    input: task.input,
    dependencies: dependencyResults(task, outcomes),
  };
  const startedAt = ctx.deps.clock();
  let outcome: TaskOutcome;
  // A worker with `concurrency:` runs in its pool: at most that many of its tasks at once, across runs.
  if (task.review === undefined) {
    outcome = await ctx.deps.pools.spawn(
      task.worker,
      () => runWithRetries(ctx, task, task.worker, handlerTask, startedAt),
      ctx.signal,
    );
  } else {
    // Held before it runs (an unsure route, a delegation that needs approval): a person decides.
    const decision = await requestApproval(ctx, {
      taskId: task.id,
      worker: task.worker,
      reason: task.review,
      key: `review:${task.id}`,
      subject: { kind: "delegation", input: task.input },
    });
    if (decision.status === "unavailable") outcome = heldForReview(task, startedAt);
    else if (decision.status === "denied")
      outcome = deniedByPerson(task, startedAt, ctx.deps.clock(), decision);
    else {
      const input = typeof decision.edit === "string" ? decision.edit : task.input;
      outcome = await ctx.deps.pools.spawn(
        task.worker,
        () => runWithRetries(ctx, task, task.worker, { ...handlerTask, input }, startedAt),
        ctx.signal,
      );
    }
  }
  // A stopped run journals no end for its tasks: a resume finishes them.
  ctx.signal.throwIfAborted();
  const visited = new Set([task.worker]);
  let spec = ctx.profile.workers.get(outcome.worker)!;
  while (
    (outcome.result.status === "failed" || outcome.result.status === "refused") &&
    outcome.stopped !== true &&
    spec.fallback !== undefined &&
    !visited.has(spec.fallback) &&
    !ctx.signal.aborted
  ) {
    const to = spec.fallback;
    visited.add(to);
    ctx.emit({
      type: "task-fallback",
      taskId: task.id,
      from: outcome.worker,
      to,
      reason: outcome.reason ?? outcome.result.status,
    });
    const previous = outcome;
    outcome = await ctx.deps.pools.spawn(
      to,
      () => runWithRetries(ctx, task, to, handlerTask, startedAt),
      ctx.signal,
    );
    outcome = {
      ...outcome,
      attempts: previous.attempts + outcome.attempts,
      toolCalls: previous.toolCalls + outcome.toolCalls,
    };
    spec = ctx.profile.workers.get(to)!;
  }
  ctx.emit({
    type: "task-end",
    taskId: task.id,
    worker: outcome.worker,
    status: outcome.result.status,
    summary: await ctx.protect(outcome.result.summary),
    confidence: outcome.result.confidence,
    startedAt: outcome.startedAt,
    durationMs: outcome.endedAt - outcome.startedAt,
    toolCalls: outcome.toolCalls,
    usage: outcome.result.usage,
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
  });
  if (outcome.result.status === "escalated") {
    ctx.emit({
      type: "escalation-pending",
      taskId: task.id,
      worker: outcome.worker,
      reason: outcome.reason ?? "",
    });
  }
  return outcome;
}

function deniedByPerson(
  task: PlanTask,
  startedAt: number,
  endedAt: number,
  decision: { by: string | null; reason: string | null },
): TaskOutcome {
  return {
    task,
    worker: task.worker,
    result: { status: "refused", summary: "", data: {}, confidence: 0, evidence: [], usage: zeroUsage() },
    startedAt,
    endedAt,
    attempts: 0,
    toolCalls: 0,
    reason: `denied by ${decision.by ?? "a person"}${decision.reason ? `: ${decision.reason}` : ""}`,
    stopped: true,
  };
}

/** A task the router was unsure of: it does not run until a person confirms it. */
function heldForReview(task: PlanTask, at: number): TaskOutcome {
  return {
    task,
    worker: task.worker,
    result: { status: "escalated", summary: "", data: {}, confidence: 0, evidence: [], usage: zeroUsage() },
    startedAt: at,
    endedAt: at,
    attempts: 0,
    toolCalls: 0,
    reason: task.review!,
  };
}

function implementationFor(ctx: RunContext, workerName: string): WorkerImplementation {
  const spec = ctx.profile.workers.get(workerName)!;
  const model = ctx.deps.models.forWorker(spec);
  if (model !== undefined) return { kind: "model", model: model.model };
  const handler = spec.handler === undefined ? undefined : ctx.profile.handlers.get(spec.handler);
  if (handler === undefined) {
    throw new ArbiterError(
      ErrorCode.UnknownModel,
      `worker "${workerName}" has no model available and no code handler; configure a model or a handler`,
    );
  }
  return { kind: "handler", handler };
}

async function runWithRetries(
  ctx: RunContext,
  task: PlanTask,
  workerName: string,
  handlerTask: HandlerTask,
  startedAt: number,
): Promise<TaskOutcome> {
  const spec = ctx.profile.workers.get(workerName)!;
  const backoff = ctx.profile.document.supervisor.retryBackoff;
  const usage = zeroUsage();
  let toolCalls = 0;
  let lastError = "";
  const attempts = spec.retries + 1;
  let made = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (ctx.signal.aborted) {
      lastError = "the run was cancelled";
      break;
    }
    let implementation: WorkerImplementation;
    try {
      implementation = implementationFor(ctx, workerName);
    } catch (error) {
      lastError = describeError(error);
      break;
    }
    made = attempt;
    ctx.emit({ type: "task-start", taskId: task.id, worker: workerName, attempt, mode: implementation.kind });
    // Aborts on the attempt's timeout or with the run.
    const attemptTimer = new PausableTimeout(spec.timeout, ctx.signal);
    const signal = attemptTimer.signal;
    const scope: ToolCallScope = {
      runId: ctx.runId,
      tenant: ctx.request.tenant,
      taskId: task.id,
      worker: workerName,
      allowedTools: spec.tools,
      tools: ctx.profile.tools,
      requestContext: ctx.request.context,
      signal,
      durable: ctx.durable,
      authorizer: ctx.deps.authorizer,
      injectionScore: ctx.injectionScore,
      shield: ctx.shield,
      counters: ctx.counters,
      counted: ctx.countedCalls,
      policyStop: undefined,
      ...(ctx.deps.faults ? { faults: ctx.deps.faults } : {}),
      ...(ctx.deps.replaying ? { replaying: true } : {}),
      askApproval: async (site) => {
        // The attempt's clock stops while a person decides.
        attemptTimer.pause();
        try {
          return await requestApproval(ctx, { taskId: task.id, worker: workerName, ...site });
        } finally {
          attemptTimer.resume();
        }
      },
      emit: ctx.emitEvent,
      occurrences: new Map(),
      toolCalls: 0,
    };
    if (implementation.kind === "model") {
      implementation = {
        kind: "model",
        model: ctx.modelFor(ctx.deps.models.forWorker(spec)!, {
          purpose: "worker",
          taskId: task.id,
          worker: workerName,
          stepPrefix: `${task.id}/${workerName}#${attempt}`,
          usage,
          stops: scope,
        }),
      };
    }
    let answer: Awaited<ReturnType<typeof runWorker>> | undefined;
    let failure: unknown;
    try {
      answer = await runWorker(spec, implementation, handlerTask, scope);
    } catch (error) {
      failure = error;
    }
    attemptTimer.clear();
    // Stops that end the task whatever the worker did, with no retry and no fallback worker: a policy
    // (deny, or needs approval without durable approvals), a budget (partial answer or escalation), a
    // side effect left in doubt by a crash that is not safe to repeat (a person must find out), or a
    // resumed task that no longer takes its recorded path (the profile or code changed: another attempt
    // or worker would take a different one, and could repeat under new keys what the record did).
    const overBudget = answer === undefined ? findArbiterError(failure, ErrorCode.BudgetExceeded) : undefined;
    const inDoubt = answer === undefined ? findArbiterError(failure, ErrorCode.StepInDoubt) : undefined;
    const diverged = answer === undefined ? findArbiterError(failure, ErrorCode.DeterminismError) : undefined;
    const stop = scope.policyStop ?? inDoubt ?? diverged ?? overBudget;
    if (stop !== undefined) {
      const status: TaskStatus =
        stop.code === ErrorCode.PolicyDenied
          ? "refused"
          : stop === overBudget && ctx.profile.document.budgets.onExceed !== "escalate"
            ? "failed"
            : "escalated";
      return {
        task,
        worker: workerName,
        result: { status, summary: "", data: {}, confidence: 0, evidence: [], usage },
        startedAt,
        endedAt: ctx.deps.clock(),
        attempts: attempt,
        toolCalls: toolCalls + scope.toolCalls,
        reason: stop.message,
        stopped: true,
      };
    }
    try {
      if (answer === undefined) throw failure;
      toolCalls += scope.toolCalls;
      const result: WorkerResult = {
        status: answer.status,
        summary: answer.summary,
        data: answer.data ?? {},
        confidence: answer.confidence,
        evidence: answer.evidence ?? [],
        usage,
      };
      let reason: string | undefined;
      if (result.status === "ok" || result.status === "partial") {
        if (result.confidence < spec.confidenceThreshold) {
          reason = `confidence ${result.confidence.toFixed(2)} is below ${workerName}'s threshold ${spec.confidenceThreshold}; a person must review it`;
          const decision = await requestApproval(ctx, {
            taskId: task.id,
            worker: workerName,
            reason: `${reason}. Proposed answer: ${result.summary}`,
            key: `confidence:${task.id}:${workerName}#${attempt}`,
            subject: { kind: "answer" },
          });
          if (decision.status === "unavailable") result.status = "escalated";
          else if (decision.status === "denied") {
            result.status = "refused";
            reason = `denied by ${decision.by ?? "a person"}${decision.reason ? `: ${decision.reason}` : ""}`;
          } else {
            // Approved: the answer stands, or as the approver edited it ({ summary?, data? }).
            const edit = (decision.edit ?? {}) as { summary?: unknown; data?: unknown };
            if (typeof edit.summary === "string") result.summary = edit.summary;
            if (edit.data !== null && typeof edit.data === "object")
              result.data = edit.data as Record<string, unknown>;
            result.status = "ok";
            reason = undefined;
          }
        }
      } else if (result.status === "refused") reason = `${workerName} refused: ${answer.summary}`;
      else if (result.status === "failed") reason = answer.summary;
      return {
        task,
        worker: workerName,
        result,
        startedAt,
        endedAt: ctx.deps.clock(),
        attempts: attempt,
        toolCalls,
        ...(reason === undefined ? {} : { reason }),
      };
    } catch (error) {
      toolCalls += scope.toolCalls;
      lastError =
        signal.aborted && !ctx.signal.aborted ? `timed out after ${spec.timeout} ms` : describeError(error);
      if (attempt < attempts && !ctx.signal.aborted) {
        const ceiling = Math.min(backoff.max, backoff.base * 2 ** (attempt - 1));
        const delayMs = Math.round(ceiling / 2 + (ctx.deps.random() * ceiling) / 2);
        ctx.emit({
          type: "task-retry",
          taskId: task.id,
          worker: workerName,
          attempt,
          error: lastError,
          delayMs,
        });
        await abortableDelay(delayMs, ctx.signal).catch(() => undefined);
      }
    }
  }
  return {
    task,
    worker: workerName,
    result: { status: "failed", summary: "", data: {}, confidence: 0, evidence: [], usage },
    startedAt,
    endedAt: ctx.deps.clock(),
    attempts: made,
    toolCalls,
    reason: `${workerName} failed: ${lastError}`,
  };
}
