/**
 * A timeout that can be paused — while a branch waits for a person, its clock stops (an approval may
 * take hours; the task and run timeouts measure work, not waiting).
 */
export class PausableTimeout {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #left: number;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  #pauses = 0;

  constructor(ms: number) {
    this.#ms = ms;
    this.#left = ms;
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

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
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
