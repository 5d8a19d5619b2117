import { hostname } from "node:os";
import { MemoryLedger } from "../budget/memory/memory-ledger.ts";
import type { DurableEngine } from "../durable/durable.ts";
import { MemoryDurableEngine } from "../durable/memory/memory-durable.ts";
import { PausableTimeout } from "../durable/pausable-timeout.ts";
import { WorkerPools } from "../durable/pools.ts";
import { describeError } from "../errors/arbiter-error.ts";
import { createRecognizerRegistry } from "../guard/pii/recognizer-registry.ts";
import type { Journal } from "../journal/journal.ts";
import { MemoryJournal } from "../journal/memory/memory-journal.ts";
import type { Gateway } from "../models/gateway/create-gateway-model.ts";
import { createProfileGateway } from "../models/profile-gateway.ts";
import { createPolicyAuthorizer } from "../policy/policy-authorizer.ts";
import type { Profile } from "../profile/load-profile.ts";
import { buildLocalRouter, type LocalRouter } from "../routing/local-router.ts";
import type { Plan } from "../routing/plan.ts";
import type { RunRecord, Store } from "../store/store.ts";
import type { Faults } from "../testing/fault-injection.ts";
import type { Authorizer } from "../tools/authorization.ts";
import { zeroUsage } from "../workers/worker-result.ts";
import { admit, type RunRequest } from "./admit.ts";
import { authorize, type StoppedDelegation } from "./authorize.ts";
import { deliver, type RunResult } from "./deliver.ts";
import { dispatch } from "./dispatch.ts";
import { guardInput } from "./guard-input.ts";
import { guardOutput } from "./guard-output.ts";
import type { Shield } from "./guards.ts";
import { plan } from "./plan.ts";
import { route } from "./route.ts";
import { type AdmittedRequest, type ModelResolver, RunContext } from "./run-context.ts";
import { checkRunId, newRunId as makeRunId } from "./run-id.ts";
import { synthesize } from "./synthesize.ts";
import type { TaskOutcome } from "./task-outcome.ts";

export interface SupervisorOptions {
  profile: Profile;
  /** Default: an in-memory journal. */
  journal?: Journal;
  /** Default: the in-process engine (no durability across restarts). */
  durable?: DurableEngine;
  /** Default: no models (code handlers, template synthesis, rules-only planning). */
  models?: ModelResolver;
  clock?: () => number;
  random?: () => number;
  newRunId?: () => string;
  /** Tokenises PII before any model or the journal sees it (the CLI installs the embedded vault). */
  shield?: Shield;
  authorizer?: Authorizer;
  /** Default: built from the profile (rules + a classifier trained on the workers' examples). */
  router?: LocalRouter;
  /** Where runs and approvals are recorded (with a durable engine on the same store, runs survive restarts). */
  store?: Store;
  /**
   * Strict replay of recorded runs (`arbiter replay`, with an engine in replay mode): approvals take
   * the decisions recorded in the run's steps, without a store.
   */
  replaying?: boolean;
  /** Injected latency and failures on tool and model calls (`--inject`). */
  faults?: Faults;
  /**
   * The model specs `models` was built with beyond the profile (the CLI's `--model`), kept with each
   * new run's request so `arbiter resume` runs it on the same models.
   */
  modelSpecs?: readonly string[];
  /**
   * The model gateway (fallback chains, breakers, retries, cache, budgets). Default: one built from the
   * profile with an in-memory ledger; `false` calls models directly.
   */
  gateway?: Gateway | false;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Use this run id (a run created beforehand, e.g. by `run --detach`). */
  runId?: string;
  /** `runId` was just made up for this run (nothing can be recorded under it yet). */
  freshRunId?: boolean;
  /** Called with the run id as soon as the run is admitted (before it finishes). */
  onStart?: (runId: string) => void;
  /** Called right after a new run is recorded in the store (before its first step). */
  onRecorded?: (runId: string) => void;
  /** Called when every open branch of the run waits for a person (the caller may stop and resume later). */
  onSuspend?: () => void;
  /** Who resumes the run (journaled in `run-resume`); default `<host>:<pid>`. */
  resumedBy?: string;
}

const noModels: ModelResolver = {
  forWorker: () => undefined,
  planner: () => undefined,
  synthesizer: () => undefined,
};

/** The supervisor: admit → guard → route → plan → authorize → dispatch → synthesize → guard → deliver. */
export interface Supervisor {
  readonly journal: Journal;
  readonly profile: Profile;
  /** Load-time warnings of the profile and its router. */
  readonly warnings: readonly string[];
  run(request: RunRequest, options?: RunOptions): Promise<RunResult>;
  /** Continues a recorded, unfinished run (after a crash or a restart). */
  resume(record: RunRecord, options?: RunOptions): Promise<RunResult>;
}

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const profile = options.profile;
  const journal = options.journal ?? new MemoryJournal();
  const durable =
    options.durable ?? new MemoryDurableEngine({ ...(options.clock ? { clock: options.clock } : {}) });
  const clock = options.clock ?? Date.now;
  const newRunId = options.newRunId ?? (() => makeRunId(clock()));
  const router: LocalRouter = options.router ?? buildLocalRouter(profile);
  const store = options.store;
  const authorizer =
    options.authorizer ?? (profile.policy ? createPolicyAuthorizer(profile.policy) : undefined);
  const gateway =
    options.gateway === false
      ? undefined
      : (options.gateway ??
        // The default ledger is only read while runs spend (their budgets): bounded, so a long-lived
        // supervisor does not keep every call it ever made.
        createProfileGateway(profile, {
          ledger: new MemoryLedger({ maxEntries: 10_000, maxRuns: 10_000 }),
          clock,
        }).gateway);
  const pools = new WorkerPools(
    Object.fromEntries(
      profile.document.workers.flatMap((w) => (w.concurrency === undefined ? [] : [[w.name, w.concurrency]])),
    ),
  );
  const deps = {
    profile,
    pools,
    ...(store ? { store } : {}),
    ...(options.replaying ? { replaying: true } : {}),
    ...(durable.replays === false && !options.replaying && !store ? { unkeyedEvents: true } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(gateway ? { gateway } : {}),
    journal,
    models: options.models ?? noModels,
    clock,
    random: options.random ?? Math.random,
    ...(options.shield ? { shield: options.shield } : {}),
    // A profile with a policy bundle is governed by it: default deny; every delegation, tool call and
    // model egress decided. Egress decisions need to know what is still in clear in a prompt.
    ...(authorizer ? { authorizer, detector: createRecognizerRegistry() } : {}),
  };

  async function run(request: RunRequest, runOptions: RunOptions = {}): Promise<RunResult> {
    const admitted: AdmittedRequest = admit(profile, request);
    return execute(
      runOptions.runId === undefined ? newRunId() : checkRunId(runOptions.runId),
      admitted,
      runOptions,
      false,
    );
  }

  /** Runs a recorded run again from the top: completed steps return their recorded results. */
  async function resume(record: RunRecord, runOptions: RunOptions = {}): Promise<RunResult> {
    const stored = record.request as { message: string; context?: Record<string, unknown> };
    return execute(
      record.id,
      { message: stored.message, tenant: record.tenant, context: stored.context ?? {} },
      runOptions,
      true,
    );
  }

  async function execute(
    runId: string,
    admitted: AdmittedRequest,
    runOptions: RunOptions,
    resumed: boolean,
  ): Promise<RunResult> {
    const shield = deps.shield?.open(admitted.tenant);
    let request = admitted;
    if (resumed && shield) {
      // The stored request holds tokens: they are this run's, and tools get the context's values back.
      shield.adopt(admitted);
      request = { ...admitted, context: (await shield.revealValue(admitted.context)).value };
    }
    // A resumed run's duration counts from when it was first recorded, not from this process's start.
    const record = resumed ? store?.getRun(runId) : undefined;
    // A new run's id was just made up (by us or the caller): nothing is recorded under it to load.
    const fresh = !resumed && (runOptions.runId === undefined || runOptions.freshRunId === true);
    const run = durable.open(runId, { fresh });
    // Aborts on the run's timeout or with the caller's signal; cleared (and detached from that signal)
    // in the `finally` below, however the run ends.
    const runTimer = new PausableTimeout(profile.document.limits.runTimeout, runOptions.signal);
    const ctx = new RunContext(deps, run, request, runTimer.signal, shield, record?.createdAt);
    ctx.onSuspend = runOptions.onSuspend;
    ctx.runTimer = runTimer;
    let started = false;
    let result: RunResult | undefined;
    try {
      if (resumed) {
        ctx.emit({
          type: "run-resume",
          by: runOptions.resumedBy ?? `${hostname()}:${process.pid}`,
          from: record?.status ?? "unknown",
          profileVersion: profile.version,
        });
      }
      runOptions.onStart?.(runId);
      const guarded = await guardInput(ctx, admitted.message);
      const message = guarded.message;
      if (!resumed) {
        // The request as the store keeps it for a resume: tokens, never values.
        store?.createRun({
          id: runId,
          tenant: admitted.tenant,
          profile: { name: profile.document.name, version: profile.version },
          // The profile file too: `arbiter resume` finds it there.
          request: {
            message,
            context: guarded.context,
            profileFile: profile.file,
            ...(options.modelSpecs?.length ? { models: options.modelSpecs } : {}),
          },
          createdAt: clock(),
          status: "running",
          fresh,
        });
        runOptions.onRecorded?.(runId);
        // On record before anything it does outside (the steps also wait before a side effect).
        await store?.runRecorded?.(runId);
      }
      ctx.emit({
        type: "run-start",
        tenant: admitted.tenant,
        profile: { name: profile.document.name, version: profile.version },
        message,
        context: guarded.context,
      });
      started = true;
      if (guarded.guard) {
        ctx.emit({
          type: "input-guard",
          guard: guarded.guard.name,
          findings: guarded.guard.findings,
          dataClasses: guarded.guard.dataClasses,
        });
      }
      const thePlan = await plan(ctx, route(ctx, router, message));
      const authorized = await authorize(ctx, thePlan);
      const outcomes = await dispatch(ctx, authorized.plan);
      const all = withStopped(ctx, thePlan, outcomes, authorized.stopped);
      result = deliver(ctx, thePlan, all, await guardOutput(ctx, await synthesize(ctx, all)));
      return result;
    } catch (error) {
      // A run that started always ends in the journal, even when a phase throws — unless this process
      // is stopping: then the run stays unfinished and the next process resumes it.
      if (started && !runOptions.signal?.aborted) {
        ctx.emit({ type: "warning", message: `run aborted: ${describeError(error)}` });
        ctx.emit({
          type: "run-end",
          status: "failed",
          answer: "",
          durationMs: clock() - ctx.startedAt,
          usage: ctx.usage,
        });
        store?.setRunStatus(runId, "failed", clock());
      }
      throw error;
    } finally {
      runTimer.clear();
      if (result !== undefined) store?.setRunStatus(runId, result.status, clock());
      durable.release(runId);
    }
  }

  return { journal, profile, warnings: [...profile.warnings, ...router.warnings], run, resume };
}

function withStopped(
  ctx: RunContext,
  plan: Plan,
  outcomes: TaskOutcome[],
  stopped: readonly StoppedDelegation[],
): TaskOutcome[] {
  if (stopped.length === 0) return outcomes;
  const byId = new Map(outcomes.map((o) => [o.task.id, o]));
  const now = ctx.deps.clock();
  for (const d of stopped) {
    const task = plan.tasks.find((t) => t.id === d.taskId)!;
    byId.set(d.taskId, {
      task,
      worker: d.worker,
      result: { status: d.status, summary: "", data: {}, confidence: 0, evidence: [], usage: zeroUsage() },
      startedAt: now,
      endedAt: now,
      attempts: 0,
      toolCalls: 0,
      reason: d.reason,
    });
  }
  return plan.tasks.map((t) => byId.get(t.id)!);
}
