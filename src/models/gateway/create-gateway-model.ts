import type { LanguageModelV4, LanguageModelV4Middleware } from "@ai-sdk/provider";
import type { Budget, BudgetSubject } from "../../budget/budget.ts";
import type { Price } from "../../budget/cost.ts";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { breakerMiddleware } from "./breaker-middleware.ts";
import type { BreakerRegistry } from "./breaker-registry.ts";
import { budgetMiddleware } from "./budget-middleware.ts";
import { cacheMiddleware } from "./cache-middleware.ts";
import type { BreakerThresholds } from "./circuit-breaker.ts";
import { composeMiddleware } from "./compose-middleware.ts";
import { createFallbackChain } from "./fallback-chain.ts";
import type { EventContext, GatewayEvent, GatewayEventInput, ModelCallEvent } from "./gateway-events.ts";
import type { ResponseCache } from "./response-cache.ts";
import { responseCheckMiddleware } from "./response-check-middleware.ts";
import type { RetryOptions } from "./retry-middleware.ts";
import { resolveRetryOptions, retryMiddleware } from "./retry-middleware.ts";
import { telemetryMiddleware } from "./telemetry-middleware.ts";

/** One model of a chain: the primary first, then its fallbacks in order. */
export interface GatewayChainEntry {
  /** Catalog name; breakers, cache entries, events and the ledger use it. Unique in the chain. */
  readonly name: string;
  readonly model: LanguageModelV4;
  /** The catalog entry: `price` prices budgets and cost, `latencyObjectiveMs` is the default latency threshold. */
  readonly spec?: { readonly price?: Price | undefined; readonly latencyObjectiveMs?: number | undefined };
  /** Breaker thresholds for this model (used when its breaker is first created). */
  readonly breaker?: BreakerThresholds;
  /** Prompts to this model leave the organisation (model-egress decisions read it). */
  readonly external?: boolean;
}

/** Who the calls are for; passed per task by the supervisor. */
export type GatewayContext = BudgetSubject;

export interface GatewayCacheOptions {
  readonly store: ResponseCache;
  /** How long an answer is served from the cache. Default 1 hour. */
  readonly ttlMs?: number;
}

/** What is shared by every gateway model of a process: breakers, budgets, cache, time. */
export interface GatewayOptions {
  /** Per-process breakers, shared across runs. Without it, no breaker gates calls. */
  readonly breaker?: BreakerRegistry;
  /** Budgets and the cost ledger. Without it, nothing is held, checked or recorded. */
  readonly budget?: Budget;
  /** Response cache. Without it, every call reaches a model. */
  readonly cache?: GatewayCacheOptions;
  readonly retry?: RetryOptions;
  /** A process-wide sink for every `model-call` (metrics, traces). Must not throw. */
  readonly telemetry?: (event: ModelCallEvent) => void;
  /** Epoch milliseconds; durations, breaker windows, TTLs and budget periods. Default `Date.now`. */
  readonly clock?: () => number;
  /** In [0, 1), for backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Waits between retries. Default: a timer that ends early when the call is aborted. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface GatewayModelOptions extends GatewayOptions {
  readonly chain: readonly GatewayChainEntry[];
  readonly context: GatewayContext;
  /** Every event of calls through this model, stamped with the context. Must not throw. */
  readonly onEvent?: (event: GatewayEvent) => void;
  /**
   * Middleware of the caller's own for one entry (e.g. the model-egress decision, which depends on
   * the entry's provider), applied outermost. What it throws ends the call: it is not a model
   * failure, so it is neither retried, nor counted by the breaker, nor a reason to hop.
   */
  readonly entryMiddleware?: (entry: GatewayChainEntry) => readonly LanguageModelV4Middleware[];
}

/**
 * The one place the gateway is composed. Each chain entry becomes
 * `[entryMiddleware] → cache → breaker → budget → retry → telemetry → response check → provider model`
 * (outermost first; each an AI SDK middleware, composed by `composeMiddleware`), and the entries are joined into a fallback chain
 * that hops on failure or an open breaker.
 *
 * @example
 * const model = createGatewayModel({
 *   chain: [{ name: "gpt", model: gpt, spec }, { name: "claude", model: claude, spec: claudeSpec }],
 *   context: { tenant: "acme", runId, worker: "billing", profileVersion },
 *   breaker: breakers, budget, cache: { store: new MemoryResponseCache() },
 *   onEvent: (event) => journal(event),
 * });
 * const { text } = await generateText({ model, prompt, maxRetries: 0 });
 */
export function createGatewayModel(options: GatewayModelOptions): LanguageModelV4 {
  const { chain, context } = options;
  if (chain.length === 0)
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      "A gateway model needs at least one model in its chain.",
    );
  const names = new Set<string>();
  for (const entry of chain) {
    if (names.has(entry.name)) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `Model "${entry.name}" appears twice in one chain; name each model once.`,
      );
    }
    names.add(entry.name);
  }

  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const retry = resolveRetryOptions(options.retry);
  const stamp: EventContext = {
    tenant: context.tenant,
    runId: context.runId,
    ...(context.worker === undefined ? {} : { worker: context.worker }),
  };
  const { onEvent, telemetry } = options;
  const emit = (input: GatewayEventInput) => {
    const event = { ...input, ...stamp } as GatewayEvent;
    try {
      onEvent?.(event);
      if (event.type === "model-call") telemetry?.(event);
    } catch {
      // A failing listener must not fail the model call; the listener owns its errors.
    }
  };

  // Errors that came out of a model attempt; only these (and open breakers) move a call down the chain.
  const modelFailures = new WeakSet<object>();
  const links = chain.map((entry) => {
    const price = entry.spec?.price;
    const breaker = options.breaker?.get(entry.name, {
      ...(entry.spec?.latencyObjectiveMs === undefined ? {} : { latencyMs: entry.spec.latencyObjectiveMs }),
      ...entry.breaker,
    });
    const middleware: LanguageModelV4Middleware[] = [...(options.entryMiddleware?.(entry) ?? [])];
    if (options.cache !== undefined) {
      middleware.push(
        cacheMiddleware({
          store: options.cache.store,
          ttlMs: options.cache.ttlMs ?? 3_600_000,
          tenant: context.tenant,
          name: entry.name,
          clock,
          emit,
        }),
      );
    }
    if (breaker !== undefined) middleware.push(breakerMiddleware(breaker, clock));
    if (options.budget !== undefined) {
      middleware.push(
        budgetMiddleware({ budget: options.budget, subject: context, name: entry.name, price, emit }),
      );
    }
    middleware.push(
      retryMiddleware({
        retry,
        random,
        clock,
        ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
        ...(breaker === undefined ? {} : { canRetry: () => breaker.allowsRetry(clock()) }),
        onRetry: ({ attempt, delayMs, failure }) =>
          emit({
            type: "model-retry",
            model: entry.name,
            attempt,
            delayMs,
            fault: failure.kind,
            ...(failure.status === undefined ? {} : { status: failure.status }),
            error: failure.message,
          }),
      }),
      telemetryMiddleware({
        name: entry.name,
        onFailure: (error) => {
          if (typeof error === "object" && error !== null) modelFailures.add(error);
        },
        price,
        clock,
        onCall: (call) => {
          breaker?.record(
            {
              ok: call.ok,
              durationMs: call.durationMs,
              costUsd: call.costUsd,
              aborted: call.fault === "aborted",
            },
            clock(),
          );
          emit(call);
        },
      }),
      responseCheckMiddleware(),
    );
    return { name: entry.name, model: composeMiddleware(entry.model, middleware) };
  });

  return createFallbackChain(links, {
    onHop: emit,
    isModelFailure: (error) => typeof error === "object" && error !== null && modelFailures.has(error),
  });
}

/**
 * The shared parts bound once; `model(...)` then makes a gateway model per task.
 *
 * @example
 * const gateway = createGateway({ breaker: new BreakerRegistry(), budget, cache: { store } });
 * const model = gateway.model(chain, { tenant, runId, worker }, (event) => ctx.emit(event));
 */
export interface Gateway {
  model(
    chain: readonly GatewayChainEntry[],
    context: GatewayContext,
    onEvent?: (event: GatewayEvent) => void,
    entryMiddleware?: GatewayModelOptions["entryMiddleware"],
  ): LanguageModelV4;
}

export function createGateway(options: GatewayOptions): Gateway {
  return {
    model: (chain, context, onEvent, entryMiddleware) =>
      createGatewayModel({
        ...options,
        chain,
        context,
        ...(onEvent === undefined ? {} : { onEvent }),
        ...(entryMiddleware === undefined ? {} : { entryMiddleware }),
      }),
  };
}
