import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";

/** Options for one durable step. */
export interface StepOptions {
  /** Re-executing after a crash is safe (matters for steps that were started but never recorded). */
  idempotent?: boolean;
  /**
   * Changes the outside world (a credit, a dispatch): the run is on record before it executes, so a
   * run that could not be recorded (a full disk) left no effect behind that nobody can resume or trace.
   */
  effect?: boolean;
  /**
   * Keeps the recorded result from resting in clear when it holds personal data (a tool's answer):
   * engines that persist results store what `seal` returns, and open it again to replay the step.
   */
  sealer?: StepSealer;
}

/** Seals step results that must not be stored in clear (e.g. with the PII vault's key). */
export interface StepSealer {
  /**
   * The record to store for a result (`encoded`: the result as recorded; `value`: the result itself),
   * or `undefined` to store `encoded` as it is. `context` names the run and step: bind it, so a
   * record copied to another step does not open.
   */
  seal(encoded: string, value: unknown, context: string): string | undefined;
  /** `encoded` back from what `seal` returned; throws when the record does not open. */
  open(sealed: string, context: string): string;
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
export interface DurableRun extends DurableWaits {
  readonly runId: string;
  step<T>(name: string, fn: () => Promise<T>, options?: StepOptions): Promise<StepOutcome<T>>;
  /**
   * True when the next `step(name)` returns a recorded result without executing: what only led up to
   * that step (a policy check on live data) need not, and must not, be done again on a replay.
   */
  hasResult?(name: string): boolean;
  /** Recorded wall-clock time (replays return the recorded value). */
  now(): number;
  /** Recorded unique id. */
  uuid(): string;
}

/** Creates the durable context of a run. */
export interface DurableEngine {
  readonly name: string;
  /**
   * False when no run of this engine is ever replayed (resumed after a restart, or `arbiter replay`):
   * the in-process engine. Then nothing is journaled twice, and events need no idempotency keys.
   */
  readonly replays?: boolean;
  /**
   * `fresh`: the caller has just made up this run id, so nothing can be recorded for it yet (an engine
   * that loads a run's records may skip the read).
   */
  open(runId: string, options?: { fresh?: boolean }): DurableRun;
  /** Forget a finished run's step records (they remain in the journal). */
  release(runId: string): void;
  /** Delivers `payload` to the (possibly future) `waitForSignal(topic)` of any run, in any process sharing the engine's storage. */
  sendSignal?(topic: string, payload: unknown): void;
}

/** Options for `waitForSignal`. */
export interface WaitOptions {
  /** Give up after this long (measured from the first time the run waited, across restarts). */
  timeoutMs?: number;
  /** Stop waiting when aborted (the wait stays open: a resumed run waits again). */
  signal?: AbortSignal;
  /** Keeps the recorded signal from resting in clear when it holds personal data (as for a step). */
  sealer?: StepSealer;
}

/** The outcome of `waitForSignal`: a timeout is a result, not an error. */
export type SignalResult<T = unknown> =
  | { status: "received"; payload: T /** When the signal was sent. */; at: number }
  | { status: "timeout" };

/**
 * Optional capabilities of a `DurableRun` (additive to the port; engines that have them implement them).
 * `waitForSignal` takes the oldest signal sent on `topic` — sent before or during the wait, in this
 * process or another, while this process was down or not — and records it, so a replay returns it.
 */
export interface DurableWaits {
  waitForSignal?<T = unknown>(topic: string, options?: WaitOptions): Promise<SignalResult<T>>;
  /** A durable sleep: a restarted run sleeps only for what is left. */
  sleep?(ms: number, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Thrown by `step` for a step that started in a process that died before recording its end. */
export class InDoubtError extends ArbiterError {
  readonly runId: string;
  readonly stepName: string;
  readonly startedAt: number;

  constructor(runId: string, stepName: string, startedAt: number) {
    super(
      ErrorCode.StepInDoubt,
      `step "${stepName}" of run "${runId}" started at ${new Date(startedAt).toISOString()} and its process stopped ` +
        "before recording whether it finished; it is not declared idempotent, so it was not run again. " +
        "A human must check whether the side effect happened and resolve the step (completed with its result, or failed to run it again).",
      { details: { runId, stepName, startedAt } },
    );
    this.name = "InDoubtError";
    this.runId = runId;
    this.stepName = stepName;
    this.startedAt = startedAt;
  }
}

/** Thrown by `step` when replayed run code asks for a step the run's record does not have at that point. */
export class DeterminismError extends ArbiterError {
  readonly runId: string;
  readonly stepName: string;
  /** Recorded steps the run had not asked for yet when it asked for `stepName`. */
  readonly expected: readonly string[];

  constructor(runId: string, stepName: string, expected: readonly string[], why: string) {
    super(
      ErrorCode.DeterminismError,
      `run "${runId}" asked for step "${stepName}", which its record does not have at this point (${why}` +
        `${expected.length === 0 ? "" : `; recorded and not yet asked for: ${expected.slice(0, 5).join(", ")}${expected.length > 5 ? ", …" : ""}`}). ` +
        "The profile, prompts or code changed since the run was recorded; finish it with the version that started it, or escalate it.",
      { details: { runId, stepName, expected: [...expected] } },
    );
    this.name = "DeterminismError";
    this.runId = runId;
    this.stepName = stepName;
    this.expected = expected;
  }
}
