import { linkAbort } from "./linked-signal.ts";

/**
 * A timeout that can be paused — while a branch waits for a person, its clock stops (an approval may
 * take hours; the task and run timeouts measure work, not waiting). Its signal also aborts with
 * `parent` (the run's, for a task attempt), until `clear()`: one signal for both, not a third.
 */
export class PausableTimeout {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #left: number;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  #pauses = 0;
  readonly #unlink: () => void;

  constructor(ms: number, parent?: AbortSignal) {
    this.#ms = ms;
    this.#left = ms;
    this.#unlink = parent === undefined ? () => {} : linkAbort(this.#controller, [parent]);
    this.#start();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Nested pauses are counted: the clock runs again when the last one resumes. */
  pause(): void {
    if (this.#pauses++ > 0 || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#left -= performance.now() - this.#since;
  }

  resume(): void {
    if (--this.#pauses > 0 || this.#controller.signal.aborted) return;
    this.#pauses = 0;
    this.#start();
  }

  /** Stops the clock for good and detaches the signal from its parent. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unlink();
  }

  #start(): void {
    this.#since = performance.now();
    this.#timer = setTimeout(
      () => this.#controller.abort(new DOMException(`timed out after ${this.#ms} ms`, "TimeoutError")),
      Math.max(0, this.#left),
    );
    this.#timer.unref();
  }
}
