/**
 * Ctrl-C or SIGTERM for a command that drives runs: the first signal aborts `signal` (the runs stop where
 * they are, unfinished, their leases released, for `arbiter resume`); a second one ends the process at
 * once (the handlers are `once`). `dispose()` removes the handlers when the command is done.
 * @example
 * const stop = new StopOnSignals();
 * try { await runtime.run(request, { signal: stop.signal }); } finally { stop.dispose(); }
 * if (stop.by !== undefined) return stop.exitCode;
 */
export class StopOnSignals {
  readonly #controller = new AbortController();
  #by: NodeJS.Signals | undefined;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#by = signal;
    this.#controller.abort(new Error(`stopped by ${signal}`));
  };

  constructor() {
    process.once("SIGINT", this.#onSignal);
    process.once("SIGTERM", this.#onSignal);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The signal that stopped the command, if one did. */
  get by(): NodeJS.Signals | undefined {
    return this.#by;
  }

  /** The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
  get exitCode(): number {
    return this.#by === "SIGINT" ? 130 : 143;
  }

  dispose(): void {
    process.off("SIGINT", this.#onSignal);
    process.off("SIGTERM", this.#onSignal);
  }
}
