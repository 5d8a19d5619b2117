import { ArbiterError, describeError, ErrorCode } from "../../errors/arbiter-error.ts";
import { STORE_SCHEMA_VERSION, type StepRecord, type Store } from "../../store/store.ts";
import { abortableDelay } from "../abortable-delay.ts";
import {
  DeterminismError,
  type DurableRun,
  InDoubtError,
  type SignalResult,
  type StepOptions,
  type StepOutcome,
  type StepSealer,
  type WaitOptions,
} from "../durable.ts";
import { linkSignals } from "../linked-signal.ts";
import { decodeStepValue, describeStepError, encodeStepValue, replayedError } from "./step-codec.ts";

/** Marks a sealed result in the step log (an encoded result is JSON, which never starts with "~"). */
const SEALED = "~sealed:";

/**
 * The record of a step's result (`encoded`, as `encodeStepValue` made it): sealed, and marked so a replay
 * knows to open it, when there is a sealer and it seals it; else as encoded.
 */
export function sealedResult(
  runId: string,
  name: string,
  encoded: string | null,
  value: unknown,
  sealer: StepSealer | undefined,
): string | null {
  if (encoded === null || sealer === undefined) return encoded;
  const sealed = sealer.seal(encoded, value, `${runId}\u0000${name}`);
  return sealed === undefined ? encoded : `${SEALED}${sealed}`;
}

/** What a run handle needs from its engine. */
export interface RunEnvironment {
  readonly store: Store;
  readonly clock: () => number;
  readonly uuid: () => string;
  readonly checkDeterminism: boolean;
  readonly laneOf: (stepName: string) => string | undefined;
  /** Resolves after `ms`, when a signal on `topic` is sent through this engine, or rejects on abort/close. */
  waitForWake(topic: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** Aborted when the engine closes. */
  readonly closed: AbortSignal;
  isLeaseLost(runId: string): boolean;
}

/** `run`: execute what is not recorded. `replay`: never execute; anything not recorded is a determinism error. */
export type RunMode = "run" | "replay";

type Execution = StepRecord;

/** Everything this process knows about one run's steps; shared by every handle `open` returns for it. */
export class RunState {
  readonly runId: string;
  readonly mode: RunMode;
  /** Executions by step name, index = attempt. */
  readonly history = new Map<string, Execution[]>();
  /** How many times this process asked for each step name. */
  readonly requests = new Map<string, number>();
  readonly inflight = new Map<string, Promise<unknown>>();
  /** Per lane, recorded executions (`name@attempt`) that this process has not asked for yet. */
  readonly unconsumed = new Map<string, Set<string>>();
  readonly counters = new Map<string, number>();

  constructor(
    runId: string,
    mode: RunMode,
    recorded: readonly StepRecord[],
    laneOf: (name: string) => string | undefined,
  ) {
    this.runId = runId;
    this.mode = mode;
    for (const step of recorded) {
      let executions = this.history.get(step.name);
      if (executions === undefined) {
        executions = [];
        this.history.set(step.name, executions);
      }
      executions[step.attempt] = step;
      const lane = laneOf(step.name);
      if (lane !== undefined) {
        let pending = this.unconsumed.get(lane);
        if (pending === undefined) {
          pending = new Set();
          this.unconsumed.set(lane, pending);
        }
        pending.add(`${step.name}@${step.attempt}`);
      }
    }
  }

  consume(name: string, attempt: number, laneOf: (name: string) => string | undefined): void {
    const lane = laneOf(name);
    if (lane !== undefined) this.unconsumed.get(lane)?.delete(`${name}@${attempt}`);
  }

  next(counter: string): number {
    const n = this.counters.get(counter) ?? 0;
    this.counters.set(counter, n + 1);
    return n;
  }
}

/** One run's durable context on the local engine. Obtain it from `LocalDurableEngine.open`. */
export class LocalDurableRun implements DurableRun {
  readonly runId: string;
  readonly #state: RunState;
  readonly #env: RunEnvironment;

  constructor(state: RunState, env: RunEnvironment) {
    this.runId = state.runId;
    this.#state = state;
    this.#env = env;
  }

  step<T>(name: string, fn: () => Promise<T>, options: StepOptions = {}): Promise<StepOutcome<T>> {
    // Calls of one step name are taken in order: a retry racing its first try waits for it to settle.
    const inflight = this.#state.inflight;
    const previous = inflight.get(name);
    const current = (async () => {
      if (previous !== undefined) await previous.catch(() => {});
      return this.#step(name, fn, options);
    })();
    inflight.set(name, current);
    const clear = () => {
      if (inflight.get(name) === current) inflight.delete(name);
    };
    current.then(clear, clear);
    return current;
  }

  hasResult(name: string): boolean {
    const executions = this.#state.history.get(name) ?? [];
    return recordAt(executions, this.#state.requests.get(name) ?? 0)?.state === "completed";
  }

  async #step<T>(name: string, fn: () => Promise<T>, options: StepOptions): Promise<StepOutcome<T>> {
    this.#checkLease();
    const state = this.#state;
    const request = state.requests.get(name) ?? 0;
    state.requests.set(name, request + 1);
    const executions = state.history.get(name) ?? [];
    const inHistory = request < executions.length;
    const recorded = recordAt(executions, request);
    if (inHistory && recorded !== undefined) state.consume(name, recorded.attempt, this.#env.laneOf);

    if (recorded?.state === "completed") {
      return {
        value: decodeStepValue(this.#opened(name, recorded.result, options.sealer)) as T,
        replayed: true,
      };
    }
    if (recorded?.state === "failed" && inHistory) {
      throw replayedError(recorded.error ?? { name: "Error", message: "failed" }, this.runId, name);
    }
    let attempt = executions.length;
    if (recorded?.state === "started") {
      // Started by a process that stopped before recording the end: in doubt.
      if (state.mode === "replay" || options.idempotent !== true) {
        throw new InDoubtError(this.runId, name, recorded.startedAt);
      }
      attempt = recorded.attempt;
    }
    await this.#checkSequence(name);
    return {
      value: await this.#execute(
        name,
        attempt,
        fn,
        options.idempotent === true,
        options.sealer,
        options.effect === true,
      ),
      replayed: false,
    };
  }

  now(): number {
    return this.#instant(`$now#${this.#state.next("$now")}`, () => this.#env.clock()) as number;
  }

  uuid(): string {
    return this.#instant(`$uuid#${this.#state.next("$uuid")}`, () => this.#env.uuid()) as string;
  }

  async sleep(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    const until = this.#instant(
      `$sleep#${this.#state.next("$sleep")}`,
      () => this.#env.clock() + ms,
    ) as number;
    const remaining = until - this.#env.clock();
    if (remaining <= 0) return;
    // (The engine's close signal lives as long as the engine: the link is undone when the sleep ends.)
    const linked = options.signal ? linkSignals([options.signal, this.#env.closed]) : undefined;
    try {
      await abortableDelay(remaining, linked?.signal ?? this.#env.closed);
    } finally {
      linked?.dispose();
    }
  }

  async waitForSignal<T = unknown>(topic: string, options: WaitOptions = {}): Promise<SignalResult<T>> {
    this.#checkLease();
    const env = this.#env;
    const name = `$signal:${topic}#${this.#state.next(`$signal:${topic}`)}`;
    const recorded = this.#state.history.get(name)?.[0];
    if (recorded?.state === "completed")
      return decodeStepValue(this.#opened(name, recorded.result, options.sealer)) as SignalResult<T>;
    if (this.#state.mode === "replay")
      throw new DeterminismError(this.runId, name, [], "a replay never waits");
    const timeoutMs = options.timeoutMs;
    const deadline =
      timeoutMs === undefined
        ? Number.POSITIVE_INFINITY
        : (this.#instant(`${name}:deadline`, () => env.clock() + timeoutMs) as number);
    if (recorded === undefined) this.#start(name, 0, true); // visible as waiting
    const consumer = `${this.runId}/${name}`;
    const linked = options.signal ? linkSignals([options.signal, env.closed]) : undefined;
    const signal = linked?.signal ?? env.closed;
    let result: SignalResult<T>;
    try {
      for (;;) {
        this.#checkLease();
        const taken = env.store.takeSignal(topic, consumer, env.clock());
        if (taken !== undefined) {
          result = { status: "received", payload: taken.payload as T, at: taken.createdAt };
          break;
        }
        const left = deadline - env.clock();
        if (left <= 0) {
          result = { status: "timeout" };
          break;
        }
        await env.waitForWake(topic, left, signal);
      }
    } finally {
      linked?.dispose();
    }
    const record = sealedResult(this.runId, name, encodeStepValue(result), result, options.sealer);
    this.#finish(name, 0, { state: "completed", result: record, endedAt: env.clock() });
    return result;
  }

  /**
   * Recorded executions (`name@attempt`) of laned steps this process has not asked for: after
   * `arbiter replay` of a finished run, anything left here is a divergence.
   */
  unconsumed(): string[] {
    return [...this.#state.unconsumed.values()].flatMap((pending) => [...pending]);
  }

  async #execute<T>(
    name: string,
    attempt: number,
    fn: () => Promise<T>,
    idempotent: boolean,
    sealer: StepSealer | undefined,
    effect = false,
  ): Promise<T> {
    const clock = this.#env.clock;
    this.#start(name, attempt, idempotent);
    // A step that is not safe to repeat is on disk before fn runs: if this process dies during fn,
    // the next one knows the step is in doubt. An idempotent one need not wait: whether its start
    // survives or not, the next process may run it again.
    // A side effect safe to repeat still needs its run on record: a run lost before its first commit
    // cannot be resumed, and a new one would repeat the effect under new idempotency keys.
    const before = idempotent
      ? effect
        ? this.#env.store.runRecorded?.(this.runId)
        : undefined
      : this.#env.store.sync?.();
    if (before !== undefined) {
      try {
        await before;
        // The commit went through, but it may have dropped this run's writes (taken over elsewhere).
        const lost = this.#env.store.lostReason?.(this.runId);
        if (lost !== undefined) throw lost;
      } catch (error) {
        this.#state.history.get(name)?.splice(attempt); // the start was never recorded
        throw error;
      }
    }
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      this.#finish(name, attempt, { state: "failed", error: describeStepError(error), endedAt: clock() });
      throw error;
    }
    let encoded: string | null;
    try {
      encoded = encodeStepValue(value);
    } catch (error) {
      const failure = new ArbiterError(
        ErrorCode.InvalidData,
        `step "${name}" returned a value that cannot be recorded (${describeError(error)}); ` +
          "return JSON-serialisable data (no bigint, no cycles) from durable steps",
        { cause: error, details: { runId: this.runId, stepName: name } },
      );
      this.#finish(name, attempt, { state: "failed", error: describeStepError(failure), endedAt: clock() });
      throw failure;
    }
    const result = sealedResult(this.runId, name, encoded, value, sealer);
    this.#finish(name, attempt, { state: "completed", result, endedAt: clock() });
    return value;
  }

  /** A recorded result as encoded: opened with the step's sealer when it was sealed. */
  #opened(name: string, recorded: string | null, sealer: StepSealer | undefined): string | null {
    if (recorded === null || !recorded.startsWith(SEALED)) return recorded;
    if (sealer === undefined) {
      throw new ArbiterError(
        ErrorCode.InvalidData,
        `step "${name}" of run "${this.runId}" recorded a result sealed with the PII vault's key (it held personal ` +
          "data), and this replay has no vault to open it: run with the profile's guard.pii on and the same vault key",
        { details: { runId: this.runId, stepName: name, reason: "sealed-step" } },
      );
    }
    try {
      return sealer.open(recorded.slice(SEALED.length), `${this.runId}\u0000${name}`);
    } catch (cause) {
      throw new ArbiterError(
        ErrorCode.InvalidData,
        `step "${name}" of run "${this.runId}" recorded a result sealed with the PII vault's key, and it does not ` +
          `open here (${describeError(cause)}): use the vault the run was recorded with (pii-vault.db and ` +
          "vault.key beside the run database, or ARBITER_VAULT and ARBITER_VAULT_KEY / ARBITER_VAULT_KEY_FILE)",
        { cause, details: { runId: this.runId, stepName: name, reason: "sealed-step" } },
      );
    }
  }

  /**
   * The determinism check. Within a lane (one task), executing a new step while recorded steps of
   * that lane were never asked for means the run no longer takes the recorded path.
   */
  async #checkSequence(name: string): Promise<void> {
    if (this.#state.mode === "replay") {
      const expected = this.unconsumed().map((key) => key.slice(0, key.lastIndexOf("@")));
      throw new DeterminismError(this.runId, name, expected, "a replay never executes steps");
    }
    if (!this.#env.checkDeterminism) return;
    const lane = this.#env.laneOf(name);
    if (lane === undefined || (this.#state.unconsumed.get(lane)?.size ?? 0) === 0) return;
    // Parallel calls in one lane can arrive in another order than recorded: let them claim their records first.
    await new Promise((resolve) => setImmediate(resolve));
    const pending = this.#state.unconsumed.get(lane);
    if (pending !== undefined && pending.size > 0) {
      throw new DeterminismError(
        this.runId,
        name,
        [...pending].map((key) => key.slice(0, key.lastIndexOf("@"))),
        `lane "${lane}" has recorded steps this replay has not reached`,
      );
    }
  }

  /** A value produced once and recorded in one write (`now`, `uuid`, deadlines); replays return the record. */
  #instant(name: string, produce: () => unknown): unknown {
    this.#checkLease();
    const recorded = this.#state.history.get(name)?.[0];
    if (recorded?.state === "completed") return decodeStepValue(recorded.result);
    if (this.#state.mode === "replay")
      throw new DeterminismError(this.runId, name, [], "a replay never records");
    const value = produce();
    const at = this.#env.clock();
    const step = { runId: this.runId, name, attempt: 0, idempotent: true, startedAt: at };
    const end = { state: "completed" as const, result: encodeStepValue(value), endedAt: at };
    this.#env.store.recordStep(step, end);
    this.#state.history.set(name, [{ ...step, ...end, error: null, v: STORE_SCHEMA_VERSION }]);
    return value;
  }

  #start(name: string, attempt: number, idempotent: boolean): void {
    const startedAt = this.#env.clock();
    this.#env.store.startStep({ runId: this.runId, name, attempt, idempotent, startedAt });
    let executions = this.#state.history.get(name);
    if (executions === undefined) {
      executions = [];
      this.#state.history.set(name, executions);
    }
    executions[attempt] = {
      runId: this.runId,
      name,
      attempt,
      state: "started",
      result: null,
      error: null,
      idempotent,
      startedAt,
      endedAt: null,
      v: STORE_SCHEMA_VERSION,
    };
  }

  #finish(name: string, attempt: number, end: Parameters<Store["finishStep"]>[3]): void {
    this.#env.store.finishStep(this.runId, name, attempt, end);
    const executions = this.#state.history.get(name);
    const started = executions?.[attempt];
    if (executions !== undefined && started !== undefined) {
      executions[attempt] = {
        ...started,
        state: end.state,
        result: end.state === "completed" ? end.result : null,
        error: end.state === "failed" ? end.error : null,
        endedAt: end.endedAt,
      };
    }
  }

  #checkLease(): void {
    if (this.#env.isLeaseLost(this.runId)) {
      throw new ArbiterError(
        ErrorCode.LeaseLost,
        `run "${this.runId}" was taken over by another process after this one failed to renew its lease; ` +
          "this process stopped working on it (the other process resumes it)",
        { details: { runId: this.runId } },
      );
    }
  }
}

/** The record the `request`-th `step(name)` meets: that execution, or the last one once past them. */
function recordAt<T>(executions: readonly T[], request: number): T | undefined {
  return request < executions.length ? executions[request] : executions.at(-1);
}
