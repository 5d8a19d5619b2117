import { MemoryLedger } from "../budget/memory/memory-ledger.ts";
import type { DurableEngine } from "../durable/durable.ts";
import { MemoryDurableEngine } from "../durable/memory/memory-durable.ts";
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
  /**
   * The model gateway (fallback chains, breakers, retries, cache, budgets). Default: one built from the
   * profile with an in-memory ledger; `false` calls models directly.
   */
  gateway?: Gateway | false;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with the run id as soon as the run is admitted (before it finishes). */
  onStart?: (runId: string) => void;
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
}

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const profile = options.profile;
  const journal = options.journal ?? new MemoryJournal();
  const durable =
    options.durable ?? new MemoryDurableEngine({ ...(options.clock ? { clock: options.clock } : {}) });
  const clock = options.clock ?? Date.now;
  const newRunId = options.newRunId ?? (() => `run_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`);
  const router: LocalRouter = options.router ?? buildLocalRouter(profile);
  const authorizer =
    options.authorizer ?? (profile.policy ? createPolicyAuthorizer(profile.policy) : undefined);
  const gateway =
    options.gateway === false
      ? undefined
      : (options.gateway ?? createProfileGateway(profile, { ledger: new MemoryLedger(), clock }).gateway);
  const deps = {
    profile,
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
    const runId = newRunId();
    const timeout = AbortSignal.timeout(profile.document.limits.runTimeout);
    const signal = runOptions.signal ? AbortSignal.any([runOptions.signal, timeout]) : timeout;
    const ctx = new RunContext(deps, durable.open(runId), admitted, signal);
    runOptions.onStart?.(runId);
    let started = false;
    try {
      const guarded = await guardInput(ctx, admitted.message);
      const message = guarded.message;
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
      return deliver(ctx, thePlan, all, await guardOutput(ctx, await synthesize(ctx, all)));
    } catch (error) {
      // A run that started always ends in the journal, even when a phase throws.
      if (started) {
        ctx.emit({ type: "warning", message: `run aborted: ${describeError(error)}` });
        ctx.emit({
          type: "run-end",
          status: "failed",
          answer: "",
          durationMs: clock() - ctx.startedAt,
          usage: ctx.usage,
        });
      }
      throw error;
    } finally {
      durable.release(runId);
    }
  }

  return { journal, profile, warnings: [...profile.warnings, ...router.warnings], run };
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
