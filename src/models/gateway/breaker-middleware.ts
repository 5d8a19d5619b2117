import type { LanguageModelV4Middleware } from "@ai-sdk/provider";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { CircuitBreaker, Trip } from "./circuit-breaker.ts";
import type { HopReason } from "./gateway-events.ts";

/** Why a model's breaker refused a call; the chain turns it into a `model-hop`. */
export interface CircuitOpenDetails {
  readonly model: string;
  readonly state: "open" | "half-open";
  readonly reason: HopReason;
  readonly measured: number;
  readonly threshold: number;
  readonly retryAt: number;
}

export function circuitOpenDetails(error: unknown): CircuitOpenDetails | undefined {
  return ArbiterError.is(error, ErrorCode.CircuitOpen) && typeof error.details.model === "string"
    ? (error.details as unknown as CircuitOpenDetails)
    : undefined;
}

function circuitOpenError(
  model: string,
  state: "open" | "half-open",
  trip: Trip,
  retryAt: number,
): ArbiterError {
  // An open breaker is explained by the measure that opened it; a half-open one is busy probing.
  const reason: HopReason = state === "open" ? trip.reason : "circuit-open";
  const details: CircuitOpenDetails = {
    model,
    state,
    reason,
    measured: trip.measured,
    threshold: trip.threshold,
    retryAt,
  };
  return new ArbiterError(
    ErrorCode.CircuitOpen,
    `The circuit breaker of model ${model} is ${state} (${trip.reason} ${round(trip.measured)} > ${round(trip.threshold)}); ` +
      `it lets a probe through at ${new Date(retryAt).toISOString()}. Add a fallback model to the chain to keep serving.`,
    { details: { ...details } },
  );
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * The breaker's gate: refuses calls while the model's breaker is open (or half-open with its
 * probe in flight). The breaker learns from the `model-call` observations of every attempt.
 */
export function breakerMiddleware(breaker: CircuitBreaker, clock: () => number): LanguageModelV4Middleware {
  async function gated<T>(call: () => PromiseLike<T>): Promise<T> {
    const admission = breaker.admit(clock());
    if (!admission.admitted) {
      throw circuitOpenError(breaker.model, admission.state, admission.trip, admission.retryAt);
    }
    if (!admission.probe) return call();
    try {
      return await call();
    } finally {
      // A no-op when the probe's observation already settled the breaker.
      breaker.releaseProbe();
    }
  }
  return {
    specificationVersion: "v4",
    wrapGenerate: ({ doGenerate }) => gated(doGenerate),
    wrapStream: ({ doStream }) => gated(doStream),
  };
}
