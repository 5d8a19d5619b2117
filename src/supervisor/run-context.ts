import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Middleware,
} from "@ai-sdk/provider";
import type { DurableRun } from "../durable/durable.ts";
import type { PausableTimeout } from "../durable/pausable-timeout.ts";
import type { WorkerPools } from "../durable/pools.ts";
import type { RecognizerRegistry } from "../guard/pii/recognizer-registry.ts";
import type { RunEvent, RunEventInput } from "../journal/events.ts";
import type { Journal } from "../journal/journal.ts";
import type { Gateway, GatewayChainEntry } from "../models/gateway/create-gateway-model.ts";
import type { GatewayEvent } from "../models/gateway/gateway-events.ts";
import { type ModelObservation, observeModel } from "../models/observed-model.ts";
import type { Profile } from "../profile/load-profile.ts";
import type { WorkerSpec } from "../profile/schema.ts";
import type { Store } from "../store/store.ts";
import type { Faults } from "../testing/fault-injection.ts";
import type { AuthorizationDecision, Authorizer } from "../tools/authorization.ts";
import { addUsage, type Usage, zeroUsage } from "../workers/worker-result.ts";
import { type EgressGate, egressCheck, type PolicyStops } from "./egress.ts";
import type { RunShield, Shield } from "./guards.ts";

/** A resolved model: the AI SDK model plus what the journal needs to say about it. */
export interface ResolvedModel {
  readonly name: string;
  readonly model: LanguageModelV4;
  /** Prompts leave the organisation (a public API). Default: true unless the provider is "scripted". */
  readonly external?: boolean;
  /** Primary then fallbacks, for the gateway (breakers, retries, budgets, cache). Default: `model` alone. */
  readonly chain?: readonly GatewayChainEntry[];
}

/** Resolves the models each part of the loop uses; `undefined` means "no model: use code or templates". */
export interface ModelResolver {
  forWorker(worker: WorkerSpec): ResolvedModel | undefined;
  planner(): ResolvedModel | undefined;
  synthesizer(): ResolvedModel | undefined;
}

/** Everything a run needs from the runtime that hosts it. Injected, never global. */
export interface RunDeps {
  readonly profile: Profile;
  readonly journal: Journal;
  /** Per-worker concurrency limits shared by every run of the supervisor (worker `concurrency:`). */
  readonly pools: WorkerPools;
  readonly models: ModelResolver;
  readonly clock: () => number;
  readonly random: () => number;
  readonly shield?: Shield;
  /** Injected latency and failures on tool and model calls (resilience testing). */
  readonly faults?: Faults;
  /** Where runs and approvals are recorded. */
  readonly store?: Store;
  /** A strict replay: approvals come from the recorded steps, not a store. */
  readonly replaying?: boolean;
  /** The engine never replays a run (in-process): events are journaled without idempotency keys. */
  readonly unkeyedEvents?: boolean;
  /** Model gateway: fallback chains, breakers, retries, budgets, cache. Without it models are called directly. */
  readonly gateway?: Gateway;
  /** Finds data classes still in clear in a prompt (for model-egress decisions). */
  readonly detector?: RecognizerRegistry;
  readonly authorizer?: Authorizer;
}

export interface AdmittedRequest {
  readonly message: string;
  readonly tenant: string;
  readonly context: Readonly<Record<string, unknown>>;
}

function initialCounters(profile: Profile): Record<string, number | boolean> {
  const counters: Record<string, number | boolean> = {};
  for (const tool of profile.tools.values()) {
    for (const [name, counter] of Object.entries(tool.counters ?? {})) counters[name] = counter.initial;
  }
  return counters;
}

/** Events that only happen when something really runs (never re-emitted by a replay): plain appends. */
const UNKEYED: ReadonlySet<string> = new Set([
  "run-resume",
  "model-attempt",
  "model-hop",
  "model-retry",
  "cache-hit",
  "budget-charge",
  "budget-exceed",
  "warning",
]);

/** One model call site of a run. */
export interface ModelCall {
  purpose: "planner" | "worker" | "synthesizer";
  /** Step-name prefix; unique per attempt so a retried attempt calls the model afresh. */
  stepPrefix: string;
  taskId?: string;
  worker?: string;
  /** The attempt's own usage, added to as its calls are made (the run's is added to in any case). */
  usage?: Usage;
  /** Where a policy stop of the call is kept (model egress denied): the task's tool-call scope. */
  stops?: PolicyStops;
}

/** A gateway event as the run's journal records it (the run id and time are stamped by the journal). */
function journalGatewayEvent(event: GatewayEvent): RunEventInput {
  const { tenant: _tenant, runId: _runId, ...rest } = event;
  return (rest.type === "model-call" ? { ...rest, type: "model-attempt" } : rest) as RunEventInput;
}

// A resolved model without a chain is a chain of one; the same one for every task, so the gateway builds
// its layers once (it shares them by chain).
const defaultChains = new WeakMap<ResolvedModel, readonly GatewayChainEntry[]>();
function defaultChain(resolved: ResolvedModel): readonly GatewayChainEntry[] {
  let chain = defaultChains.get(resolved);
  if (chain === undefined) {
    chain = [{ name: resolved.name, model: resolved.model, external: resolved.external ?? true }];
    defaultChains.set(resolved, chain);
  }
  return chain;
}

/** State of one run, shared by its phases. */
export class RunContext {
  readonly runId: string;
  readonly deps: RunDeps;
  readonly durable: DurableRun;
  readonly request: AdmittedRequest;
  readonly signal: AbortSignal;
  readonly startedAt: number;
  readonly usage: Usage = zeroUsage();
  /** Prompt-injection score of the request, set by the route phase; policies may act on it. */
  injectionScore = 0;
  /** Run-level counters fed by completed tool calls (see `ToolDefinition.counters`). */
  readonly counters: Record<string, number | boolean>;
  readonly countedCalls = new Set<string>();
  /** Model-egress decisions of this run, by caller, model and data classes (decided once each). */
  readonly egressDecisions = new Map<string, Promise<AuthorizationDecision>>();
  /** This run's PII shield (undefined when the runtime has none). */
  readonly shield: RunShield | undefined;

  constructor(
    deps: RunDeps,
    durable: DurableRun,
    request: AdmittedRequest,
    signal: AbortSignal,
    shield: RunShield | undefined,
    /** When the run began: now, or for a resumed run when it was first recorded. */
    startedAt: number = deps.clock(),
  ) {
    this.runId = durable.runId;
    this.deps = deps;
    this.durable = durable;
    this.request = request;
    this.signal = signal;
    this.startedAt = startedAt;
    this.counters = initialCounters(deps.profile);
    this.shield = shield;
  }

  get profile(): Profile {
    return this.deps.profile;
  }

  /**
   * Appends an event to the run's journal. Events that run code emits again when a resumed run replays
   * (everything but the gateway's per-attempt events and warnings) carry a key — type, task, call and
   * occurrence — so a replay does not journal them twice.
   */
  emit(event: RunEventInput): void {
    this.emitOnce(event);
  }

  /**
   * `emit`, telling what the journal already held under the event's key: a resumed run re-emits what
   * it did before, and gets the recorded event back (undefined when this one was appended).
   */
  emitOnce(event: RunEventInput): RunEvent | undefined {
    // Stamped in place (callers pass a fresh object): a spread of ~20 event shapes is a megamorphic copy.
    const full = event as Parameters<Journal["append"]>[0];
    full.runId = this.runId;
    full.at = this.deps.clock();
    const journal = this.deps.journal;
    // Keys only matter to a replay: a run the engine never replays is journaled without them.
    if (journal.appendOnce === undefined || this.deps.unkeyedEvents === true || UNKEYED.has(event.type)) {
      journal.append(full);
      return undefined;
    }
    const e = event as { taskId?: string; callId?: string; attempt?: number; kind?: string; tool?: string };
    const prefix = `${event.type}|${e.taskId ?? ""}|${e.callId ?? ""}|${e.attempt ?? ""}|${e.kind ?? ""}|${e.tool ?? ""}`;
    const n = (this.#emitted.get(prefix) ?? 0) + 1;
    this.#emitted.set(prefix, n);
    const { entry, appended } = journal.appendOnce(full, `${prefix}#${n}`);
    return appended ? undefined : entry.event;
  }

  readonly #emitted = new Map<string, number>();

  /** How many times each approval was asked for in this run (made when a run first asks one). */
  approvalAsks: Map<string, number> | undefined;

  /** `emit` bound to this run, for the scopes of its tasks. */
  readonly emitEvent = (event: RunEventInput): void => this.emit(event);

  // Suspension: when every task in flight waits for a person, the caller may stop here and resume later.
  #active = 0;
  #waiting = 0;
  onSuspend: (() => void) | undefined;
  /** The run's timeout; it stops while any branch waits for a person. */
  runTimer: PausableTimeout | undefined;

  taskStarted(): void {
    this.#active++;
  }

  taskEnded(): void {
    this.#active--;
    this.#checkSuspended();
  }

  waitStarted(): void {
    if (this.#waiting === 0) this.runTimer?.pause();
    this.#waiting++;
    this.#checkSuspended();
  }

  waitEnded(): void {
    this.#waiting--;
    if (this.#waiting === 0) this.runTimer?.resume();
  }

  #checkSuspended(): void {
    if (this.onSuspend === undefined || !(this.#waiting > 0 && this.#waiting >= this.#active)) return;
    // A signal that is already there is taken within a few turns of the event loop: look again then.
    setTimeout(() => {
      if (this.#waiting > 0 && this.#waiting >= this.#active) this.onSuspend?.();
    }, 20);
  }

  /** The model wrapped for a run-level call (planner, synthesizer): a durable step, journaled and charged. */
  observe(resolved: ResolvedModel, purpose: "planner" | "synthesizer"): LanguageModelV4 {
    return this.modelFor(resolved, { purpose, stepPrefix: purpose });
  }

  /**
   * The model as a call of this run makes it: through the gateway when the runtime has one (fallback
   * chain, breakers, retries, budgets, cache), each entry's prompt decided for egress, the prompt
   * tokenised, and the whole call a durable step journaled as `model-call-end`.
   */
  modelFor(resolved: ResolvedModel, call: ModelCall): LanguageModelV4 {
    const site = new ModelSite(this, call);
    const gateway = this.deps.gateway;
    if (gateway === undefined) {
      site.check = site.egressFor(resolved);
      return observeModel(resolved.model, site);
    }
    const chain = resolved.chain ?? defaultChain(resolved);
    const model = gateway.model(
      chain,
      {
        tenant: this.request.tenant,
        runId: this.runId,
        ...(call.worker === undefined ? {} : { worker: call.worker }),
        profileVersion: this.profile.version,
      },
      (event) => site.onGatewayEvent(event),
      (entry) => site.entryMiddleware(entry),
    );
    return observeModel(model, site);
  }

  /** Text as the journal may hold it: tokenised when the run has a shield. */
  async protect(text: string): Promise<string> {
    return this.shield === undefined ? text : (await this.shield.protectText(text)).text;
  }

  addUsage(usage: Usage): void {
    addUsage(this.usage, usage);
  }
}

/**
 * One task's (or run phase's) model calls: what they are observed and journaled as, the egress decision
 * of each chain entry, and the gateway attempt that answered each call. One object per task, not a
 * dozen closures: it lives as long as the task, for each of thousands of runs in flight.
 */
class ModelSite implements ModelObservation {
  readonly purpose: ModelCall["purpose"];
  readonly taskId?: string;
  readonly stepPrefix: string;
  readonly durable: DurableRun;
  readonly protect?: RunShield;
  /** The egress decision when there is no gateway (with one, each entry has its own). */
  check: EgressGate | undefined;
  readonly #ctx: RunContext;
  readonly #call: ModelCall;
  readonly #caller: { worker: string } | { supervisor: string };
  // The attempt that answered a call is journaled with the call's `model-call-end` (one event, not two);
  // calls of one site are sequential, so the last answering attempt is this call's.
  #answered: Extract<GatewayEvent, { type: "model-call" }> | undefined;

  constructor(ctx: RunContext, call: ModelCall) {
    this.#ctx = ctx;
    this.#call = call;
    this.#caller = call.worker === undefined ? { supervisor: call.purpose } : { worker: call.worker };
    this.purpose = call.purpose;
    if (call.taskId !== undefined) this.taskId = call.taskId;
    this.stepPrefix = call.stepPrefix;
    this.durable = ctx.durable;
    if (ctx.shield !== undefined) this.protect = ctx.shield;
  }

  egressFor(m: { model: LanguageModelV4; external?: boolean }): EgressGate | undefined {
    const ctx = this.#ctx;
    return egressCheck(
      ctx,
      ctx.deps.detector,
      this.#caller,
      m,
      this.taskId ?? this.purpose,
      this.#call.stops,
    );
  }

  entryMiddleware(entry: GatewayChainEntry): LanguageModelV4Middleware[] {
    const gate = this.egressFor(entry);
    return gate === undefined ? [] : [gate];
  }

  onGatewayEvent(event: GatewayEvent): void {
    if (event.type === "model-call" && event.ok && !event.cached && !event.stream) {
      if (this.#answered !== undefined) this.#ctx.emit(journalGatewayEvent(this.#answered));
      this.#answered = event;
    } else this.#ctx.emit(journalGatewayEvent(event));
  }

  async beforeCall(options: LanguageModelV4CallOptions): Promise<void> {
    await this.#ctx.deps.faults?.before(`model ${this.purpose}`, options.abortSignal);
    await this.check?.check(options);
  }

  emit(event: RunEventInput): void {
    this.#ctx.emit(event);
  }

  answeredBy(ok: boolean): ModelCallEndAnswer | undefined {
    const attempt = this.#answered;
    this.#answered = undefined;
    if (attempt === undefined) return undefined;
    if (!ok) {
      this.#ctx.emit(journalGatewayEvent(attempt));
      return undefined;
    }
    const { model, provider, modelId, costUsd } = attempt;
    return { model, provider, modelId, costUsd };
  }

  onUsage(usage: Usage): void {
    if (this.#call.usage !== undefined) addUsage(this.#call.usage, usage);
    this.#ctx.addUsage(usage);
  }
}

type ModelCallEndAnswer = Extract<RunEventInput, { type: "model-call-end" }>["answeredBy"];
