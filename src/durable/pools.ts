import type { DurableRun, StepOptions } from "./durable.ts";

/** One durable step of a batch. */
export interface StepCall<T> {
  name: string;
  fn: () => Promise<T>;
  options?: StepOptions;
}

/**
 * Runs steps concurrently; each is durable on its own, so a resumed run executes only those that have
 * no record yet and gets the recorded results of the others.
 */
export async function all<T>(run: DurableRun, steps: ReadonlyArray<StepCall<T>>): Promise<T[]> {
  const outcomes = await Promise.all(steps.map((s) => run.step(s.name, s.fn, s.options)));
  return outcomes.map((o) => o.value);
}

/**
 * Named worker pools: concurrency limits shared by every run of a process (e.g. at most 4 billing tasks
 * at once against the billing system). `spawn(pool, task)` runs a task when its pool has room; the task's
 * own model and tool calls stay durable steps of its run. Across machines the same role is played by the
 * DBOS engine's queues.
 */
export class WorkerPools {
  readonly #limits: ReadonlyMap<string, number>;
  readonly #running = new Map<string, number>();
  readonly #queued = new Map<string, Array<() => void>>();

  constructor(limits: Readonly<Record<string, number>>) {
    this.#limits = new Map(Object.entries(limits));
  }

  async spawn<T>(pool: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const limit = this.#limits.get(pool);
    if (limit === undefined) return task();
    if ((this.#running.get(pool) ?? 0) >= limit) {
      await new Promise<void>((resolve, reject) => {
        const queue = this.#queued.get(pool) ?? [];
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = queue.indexOf(wake);
          if (i >= 0) queue.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(wake);
        this.#queued.set(pool, queue);
      });
    }
    this.#running.set(pool, (this.#running.get(pool) ?? 0) + 1);
    try {
      return await task();
    } finally {
      this.#running.set(pool, (this.#running.get(pool) ?? 1) - 1);
      this.#queued.get(pool)?.shift()?.();
    }
  }

  /** Tasks running and waiting in a pool (for the console and tests). */
  load(pool: string): { running: number; waiting: number } {
    return { running: this.#running.get(pool) ?? 0, waiting: this.#queued.get(pool)?.length ?? 0 };
  }
}
