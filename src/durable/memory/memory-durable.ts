import type { DurableEngine, DurableRun, StepOptions, StepOutcome } from "../durable.ts";

export interface MemoryDurableOptions {
  clock?: () => number;
  uuid?: () => string;
}

type Record = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * In-process engine: steps are memoised per run for the life of the process, so a retried task
 * does not repeat a completed side effect. Nothing survives a restart; `durable/local/` does that.
 */
export class MemoryDurableEngine implements DurableEngine {
  readonly name = "memory";
  readonly #runs = new Map<string, Map<string, Promise<Record>>>();
  readonly #clock: () => number;
  readonly #uuid: () => string;

  constructor(options: MemoryDurableOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#uuid = options.uuid ?? (() => crypto.randomUUID());
  }

  open(runId: string): DurableRun {
    let steps = this.#runs.get(runId);
    if (steps === undefined) {
      steps = new Map();
      this.#runs.set(runId, steps);
    }
    const recorded = steps;
    const clock = this.#clock;
    const uuid = this.#uuid;
    return {
      runId,
      now: clock,
      uuid,
      async step<T>(name: string, fn: () => Promise<T>, _options?: StepOptions): Promise<StepOutcome<T>> {
        const existing = recorded.get(name);
        if (existing !== undefined) {
          const record = await existing;
          // A failed step is not a completed step: run it again.
          if (record.ok) return { value: record.value as T, replayed: true };
        }
        const pending = fn().then(
          (value): Record => ({ ok: true, value }),
          (error): Record => ({ ok: false, error }),
        );
        recorded.set(name, pending);
        const record = await pending;
        if (!record.ok) {
          recorded.delete(name);
          throw record.error;
        }
        return { value: record.value as T, replayed: false };
      },
    };
  }

  release(runId: string): void {
    this.#runs.delete(runId);
  }
}
