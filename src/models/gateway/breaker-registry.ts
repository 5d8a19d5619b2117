import type { BreakerChange, BreakerState, BreakerThresholds, Trip } from "./circuit-breaker.ts";
import { CircuitBreaker, resolveThresholds } from "./circuit-breaker.ts";

export interface BreakerRegistryOptions {
  /** Thresholds for every model, under each model's own. */
  readonly defaults?: BreakerThresholds;
  /** Thresholds per catalog model name (from the profile). */
  readonly models?: Readonly<Record<string, BreakerThresholds>>;
  /** State changes, for logs and metrics. Must not throw. */
  readonly onChange?: (change: BreakerChange) => void;
}

export interface BreakerSnapshot {
  readonly model: string;
  readonly state: BreakerState;
  readonly trip?: Trip;
}

/**
 * The circuit breakers of one process, one per catalog model, shared by every run and every
 * chain the model appears in. Create one at startup and pass it to every gateway model.
 */
export class BreakerRegistry {
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #options: BreakerRegistryOptions;

  constructor(options: BreakerRegistryOptions = {}) {
    this.#options = options;
  }

  /**
   * The breaker of `model`, created on first use with `models[model]`, then `thresholds`
   * (a chain entry's, e.g. its latency objective), then `defaults`.
   */
  get(model: string, thresholds: BreakerThresholds = {}): CircuitBreaker {
    let breaker = this.#breakers.get(model);
    if (breaker === undefined) {
      const own = { ...thresholds, ...this.#options.models?.[model] };
      breaker = new CircuitBreaker(
        model,
        resolveThresholds(own, this.#options.defaults),
        this.#options.onChange,
      );
      this.#breakers.set(model, breaker);
    }
    return breaker;
  }

  snapshot(now: number = Date.now()): BreakerSnapshot[] {
    return [...this.#breakers.values()].map((b) => ({
      model: b.model,
      state: b.state(now),
      ...(b.trip === undefined ? {} : { trip: b.trip }),
    }));
  }
}
