import { abortableDelay } from "../abortable-delay.ts";
import type {
  DurableEngine,
  DurableRun,
  SignalResult,
  StepOptions,
  StepOutcome,
  WaitOptions,
} from "../durable.ts";

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
  /** Runs end with the process: none is ever replayed. */
  readonly replays = false;
  readonly #runs = new Map<string, Map<string, Promise<Record>>>();
  readonly #clock: () => number;
  readonly #uuid: () => string;
  readonly #mailbox = new Map<string, Array<{ payload: unknown; at: number }>>();
  readonly #waiters = new Map<string, Set<() => void>>();

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
    const completed = new Set<string>();
    const clock = this.#clock;
    const uuid = this.#uuid;
    const take = (topic: string) => this.#mailbox.get(topic)?.shift();
    const waiters = this.#waiters;
    return {
      runId,
      now: clock,
      uuid,
      sleep: (ms: number, options: { signal?: AbortSignal } = {}) => abortableDelay(ms, options.signal),
      async waitForSignal<T>(topic: string, options: WaitOptions = {}): Promise<SignalResult<T>> {
        const deadline = options.timeoutMs === undefined ? undefined : clock() + options.timeoutMs;
        for (;;) {
          const sent = take(topic);
          if (sent !== undefined) return { status: "received", payload: sent.payload as T, at: sent.at };
          if (deadline !== undefined && clock() >= deadline) return { status: "timeout" };
          await new Promise<void>((resolve, reject) => {
            let set = waiters.get(topic);
            if (set === undefined) {
              set = new Set();
              waiters.set(topic, set);
            }
            const cleanup = () => {
              clearTimeout(timer);
              options.signal?.removeEventListener("abort", abort);
              set.delete(wake);
            };
            const wake = () => {
              cleanup();
              resolve();
            };
            const abort = () => {
              cleanup();
              reject(options.signal?.reason);
            };
            const timer =
              deadline === undefined ? undefined : setTimeout(wake, Math.max(0, deadline - clock()));
            if (options.signal?.aborted) return abort();
            options.signal?.addEventListener("abort", abort, { once: true });
            set.add(wake);
          });
        }
      },
      hasResult: (name) => completed.has(name),
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
        completed.add(name);
        return { value: record.value as T, replayed: false };
      },
    };
  }

  release(runId: string): void {
    this.#runs.delete(runId);
  }

  /** Queues `payload` for the next `waitForSignal(topic)` of any run of this engine. */
  sendSignal(topic: string, payload: unknown): void {
    let queue = this.#mailbox.get(topic);
    if (queue === undefined) {
      queue = [];
      this.#mailbox.set(topic, queue);
    }
    queue.push({ payload, at: this.#clock() });
    for (const wake of [...(this.#waiters.get(topic) ?? [])]) wake();
  }
}
