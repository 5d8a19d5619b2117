import type { BudgetScopeName } from "../../budget/budget-exceeded-error.ts";
import type { FailureKind } from "./classify-failure.ts";

/** Why traffic moved from one model of a chain to the next. */
export type HopReason = "error-rate" | "latency" | "cost" | "circuit-open" | "error";

/** Who a gateway call was made for; stamped on every event so a process-wide sink can route it. */
export interface EventContext {
  readonly tenant: string;
  readonly runId: string;
  readonly worker?: string;
}

export interface CallUsageTokens {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** One attempt on one model (retries are separate calls), or a cache hit. */
export type ModelCallEvent = EventContext & {
  readonly type: "model-call";
  /** Catalog name of the model in the chain. */
  readonly model: string;
  readonly provider: string;
  readonly modelId: string;
  readonly ok: boolean;
  /** HTTP status of a failed call when there was one (200 for malformed or truncated bodies). */
  readonly status?: number;
  readonly error?: string;
  readonly fault?: FailureKind;
  readonly usage: CallUsageTokens;
  readonly costUsd: number;
  readonly durationMs: number;
  readonly cached: boolean;
  readonly stream: boolean;
};

export type ModelHopEvent = EventContext & {
  readonly type: "model-hop";
  readonly from: string;
  readonly to: string;
  readonly reason: HopReason;
  /** The measure that opened the breaker (error rate 0–1, latency ms at the percentile, mean $/call). */
  readonly measured?: number;
  readonly threshold?: number;
  /** For `error`: what the failed call answered. */
  readonly error?: string;
  readonly status?: number;
};

export type ModelRetryEvent = EventContext & {
  readonly type: "model-retry";
  readonly model: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly fault: FailureKind;
  readonly status?: number;
  readonly error: string;
};

export type CacheHitEvent = EventContext & {
  readonly type: "cache-hit";
  readonly model: string;
  /** Leading characters of the cache key's hash. */
  readonly key: string;
  readonly ageMs: number;
};

/**
 * What a call was charged in the ledger, when that is news: the call was held against a budget, or the
 * provider reported no usage and the charge is an estimate. Otherwise its `model-call` says the same.
 */
export type BudgetChargeEvent = EventContext & {
  readonly type: "budget-charge";
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
};

export type BudgetExceedEvent = EventContext & {
  readonly type: "budget-exceed";
  readonly model: string;
  readonly scope: BudgetScopeName;
  readonly subject: string;
  readonly unit: "tokens" | "usd";
  readonly limit: number;
  readonly spent: number;
  readonly estimate: number;
};

/** Everything the gateway reports. Discriminated on `type`; the supervisor journals them. */
export type GatewayEvent =
  | ModelCallEvent
  | ModelHopEvent
  | ModelRetryEvent
  | CacheHitEvent
  | BudgetChargeEvent
  | BudgetExceedEvent;

/** An event before the gateway stamps it with the call's context. */
export type GatewayEventInput = GatewayEvent extends infer E
  ? E extends GatewayEvent
    ? Omit<E, keyof EventContext>
    : never
  : never;
