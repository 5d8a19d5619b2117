/** Options for one durable step. */
export interface StepOptions {
  /** Re-executing after a crash is safe (matters for steps that were started but never recorded). */
  idempotent?: boolean;
}

/** The outcome of a step: executed now, or returned from the record of an earlier execution. */
export interface StepOutcome<T> {
  value: T;
  replayed: boolean;
}

/**
 * The execution port for one run. Every side effect of a run (model call, tool call, wait) goes through
 * `step`: a step whose name already has a recorded result returns that result instead of executing again.
 */
export interface DurableRun {
  readonly runId: string;
  step<T>(name: string, fn: () => Promise<T>, options?: StepOptions): Promise<StepOutcome<T>>;
  /** Recorded wall-clock time (replays return the recorded value). */
  now(): number;
  /** Recorded unique id. */
  uuid(): string;
}

/** Creates the durable context of a run. */
export interface DurableEngine {
  readonly name: string;
  open(runId: string): DurableRun;
  /** Forget a finished run's step records (they remain in the journal). */
  release(runId: string): void;
}
