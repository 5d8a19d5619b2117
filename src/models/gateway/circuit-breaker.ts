import { RollingWindow } from "./rolling-window.ts";

/** Thresholds of one model's breaker (from the profile). */
export interface BreakerThresholds {
  /** Share of failed calls in the window that opens the breaker. Default 0.5. */
  readonly errorRate?: number;
  /** Latency at `latencyPercentile` that opens the breaker. Default: the model's `latencyObjectiveMs`, else none. */
  readonly latencyMs?: number;
  /** Default 0.9 (p90). */
  readonly latencyPercentile?: number;
  /** Mean cost of a successful call that opens the breaker. Default none. */
  readonly costPerCallUsd?: number;
  /** Calls the window must hold before it is judged. Default 5. */
  readonly minCalls?: number;
  /** Default 60 s. */
  readonly windowMs?: number;
  /** The window keeps at most this many calls. Default 50. */
  readonly maxCalls?: number;
  /** How long an open breaker refuses calls before it lets one probe through. Default 30 s. */
  readonly coolDownMs?: number;
}

export type ResolvedThresholds = Readonly<
  Required<Omit<BreakerThresholds, "latencyMs" | "costPerCallUsd">> & {
    latencyMs: number | undefined;
    costPerCallUsd: number | undefined;
  }
>;

export function resolveThresholds(
  thresholds: BreakerThresholds = {},
  defaults: BreakerThresholds = {},
): ResolvedThresholds {
  const pick = <K extends keyof BreakerThresholds>(key: K) => thresholds[key] ?? defaults[key];
  return Object.freeze({
    errorRate: pick("errorRate") ?? 0.5,
    latencyMs: pick("latencyMs"),
    latencyPercentile: pick("latencyPercentile") ?? 0.9,
    costPerCallUsd: pick("costPerCallUsd"),
    minCalls: pick("minCalls") ?? 5,
    windowMs: pick("windowMs") ?? 60_000,
    maxCalls: pick("maxCalls") ?? 50,
    coolDownMs: pick("coolDownMs") ?? 30_000,
  });
}

export type BreakerState = "closed" | "open" | "half-open";

/** The measure that opened a breaker. */
export interface Trip {
  readonly reason: "error-rate" | "latency" | "cost";
  readonly measured: number;
  readonly threshold: number;
  readonly at: number;
}

export type Admission =
  | { readonly admitted: true; readonly probe: boolean }
  | {
      readonly admitted: false;
      readonly state: "open" | "half-open";
      readonly trip: Trip;
      /** When the breaker will let a probe through. */
      readonly retryAt: number;
    };

export interface BreakerObservation {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly costUsd: number;
  /** A call the caller cancelled says nothing about the model. */
  readonly aborted?: boolean;
}

export interface BreakerChange {
  readonly model: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly trip?: Trip;
  readonly at: number;
}

/**
 * One model's circuit breaker: closed → open when the rolling window's error rate, latency
 * percentile or cost per call passes its threshold → half-open after the cool-down, when one probe
 * call is let through → closed if the probe is good (ok, fast and cheap enough), open again if not.
 */
export class CircuitBreaker {
  readonly model: string;
  readonly thresholds: ResolvedThresholds;
  readonly #window: RollingWindow;
  readonly #onChange: ((change: BreakerChange) => void) | undefined;
  #state: BreakerState = "closed";
  #trip: Trip | undefined;
  #probeInFlight = false;

  constructor(model: string, thresholds: ResolvedThresholds, onChange?: (change: BreakerChange) => void) {
    this.model = model;
    this.thresholds = thresholds;
    this.#window = new RollingWindow(thresholds.windowMs, thresholds.maxCalls);
    this.#onChange = onChange;
  }

  state(now: number): BreakerState {
    if (this.#state === "open" && now >= this.#retryAt()) this.#move("half-open", now);
    return this.#state;
  }

  get trip(): Trip | undefined {
    return this.#trip;
  }

  /** Asks to make a call now. In half-open, only one probe is in flight at a time. */
  admit(now: number): Admission {
    const state = this.state(now);
    if (state === "closed") return { admitted: true, probe: false };
    if (state === "half-open" && !this.#probeInFlight) {
      this.#probeInFlight = true;
      return { admitted: true, probe: true };
    }
    return { admitted: false, state, trip: this.#trip!, retryAt: this.#retryAt() };
  }

  /** A probe that ended without an observation (refused by a budget, cancelled) frees the slot. */
  releaseProbe(): void {
    this.#probeInFlight = false;
  }

  /** Whether another attempt on this model makes sense right now. */
  allowsRetry(now: number): boolean {
    return this.state(now) !== "open";
  }

  record(observation: BreakerObservation, now: number): void {
    if (observation.aborted) return;
    const state = this.state(now);
    if (state === "open") return; // a call admitted before the trip; the window restarts on close
    if (state === "half-open") {
      if (!this.#probeInFlight) return;
      this.#probeInFlight = false;
      const failed = this.#judgeProbe(observation, now);
      if (failed === undefined) {
        this.#window.clear();
        this.#trip = undefined;
        this.#move("closed", now);
      } else {
        this.#trip = failed;
        this.#move("open", now);
      }
      return;
    }
    this.#window.add({ at: now, ...observation });
    const trip = this.#judgeWindow(now);
    if (trip !== undefined) {
      this.#trip = trip;
      this.#move("open", now);
    }
  }

  #judgeWindow(now: number): Trip | undefined {
    const t = this.thresholds;
    if (this.#window.size < t.minCalls) return undefined;
    const errorRate = this.#window.errorRate();
    if (errorRate >= t.errorRate)
      return { reason: "error-rate", measured: errorRate, threshold: t.errorRate, at: now };
    if (t.latencyMs !== undefined) {
      const latency = this.#window.latency(t.latencyPercentile);
      if (latency > t.latencyMs)
        return { reason: "latency", measured: latency, threshold: t.latencyMs, at: now };
    }
    if (t.costPerCallUsd !== undefined) {
      const cost = this.#window.costPerCall();
      if (cost.calls >= t.minCalls && cost.mean > t.costPerCallUsd) {
        return { reason: "cost", measured: cost.mean, threshold: t.costPerCallUsd, at: now };
      }
    }
    return undefined;
  }

  #judgeProbe(observation: BreakerObservation, now: number): Trip | undefined {
    const t = this.thresholds;
    if (!observation.ok) return { reason: "error-rate", measured: 1, threshold: t.errorRate, at: now };
    if (t.latencyMs !== undefined && observation.durationMs > t.latencyMs) {
      return { reason: "latency", measured: observation.durationMs, threshold: t.latencyMs, at: now };
    }
    if (t.costPerCallUsd !== undefined && observation.costUsd > t.costPerCallUsd) {
      return { reason: "cost", measured: observation.costUsd, threshold: t.costPerCallUsd, at: now };
    }
    return undefined;
  }

  #retryAt(): number {
    return (this.#trip?.at ?? 0) + this.thresholds.coolDownMs;
  }

  #move(to: BreakerState, now: number): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    if (to !== "half-open") this.#probeInFlight = false;
    this.#onChange?.({
      model: this.model,
      from,
      to,
      ...(this.#trip === undefined ? {} : { trip: this.#trip }),
      at: now,
    });
  }
}
