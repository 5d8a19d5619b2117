import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { Store } from "../../store/store.ts";
import type { DurableEngine, StepSealer } from "../durable.ts";
import { LocalDurableRun, type RunEnvironment, type RunMode, RunState, sealedResult } from "./local-run.ts";
import { encodeStepValue } from "./step-codec.ts";
import { taskLane } from "./step-lanes.ts";

/** What the engine's background work (lease renewal) reports instead of throwing. */
export type LocalDurableEvent =
  | { type: "lease-lost"; runId: string }
  | { type: "warning"; runId: string; message: string; cause?: unknown };

export interface LocalDurableOptions {
  store: Store;
  /** This process's identity for leases. Default `<hostname>:<pid>:<random>`. */
  owner?: string;
  clock?: () => number;
  uuid?: () => string;
  /** How long a claim lasts without renewal; renewed every third of it. Default 15 s. */
  leaseMs?: number;
  /** How often a waiting run looks for signals sent by other processes. Default 100 ms. */
  pollIntervalMs?: number;
  /** `lanes` (default): a new step in a task whose recorded steps were not all replayed is a determinism error. */
  determinism?: "lanes" | "off";
  /** Which lane a step name is in (default `taskLane`); `undefined` exempts it from the check. */
  laneOf?: (stepName: string) => string | undefined;
  /** Whether a lease holder is still running, so a crashed holder's run is taken over at once. Default: same host and its pid is alive. */
  isOwnerAlive?: (owner: string) => boolean;
  onEvent?: (event: LocalDurableEvent) => void;
}

/** How an in-doubt step is settled by whoever checked what really happened. */
export type StepResolution = { outcome: "completed"; value: unknown } | { outcome: "failed"; reason: string };

/**
 * The embedded durable engine: step records in a `Store` (normally the SQLite file), so a run
 * resumed in a new process replays completed steps instead of repeating their side effects.
 *
 * - Lookup is by step name (names are deterministic: task, tool, argument hash, occurrence). The
 *   n-th request of a name in a process returns the n-th recorded execution: a completed one replays
 *   its value, a failed one rethrows its recorded error; past the record, a completed step keeps
 *   replaying and a failed one executes again as the next attempt.
 * - A step recorded as started but never ended is in doubt: it executes again only when the call
 *   says `idempotent: true`; otherwise `InDoubtError` (`step-in-doubt`), until `resolveStep`.
 * - Determinism (`lanes`): executing a new step in a lane (a task) while recorded steps of that lane
 *   were not asked for yet is a `DeterminismError`, so a changed run cannot slip a different side
 *   effect in where the record has another. Lanes, not one sequence, because parallel branches
 *   legitimately interleave differently on every execution. `open(id, { mode: "replay" })` is strict:
 *   nothing unrecorded executes.
 * - Values are recorded as JSON (see `step-codec.ts`: Dates and bytes survive, `undefined` properties
 *   do not); steps do not nest.
 *
 * @example
 * const engine = new LocalDurableEngine({ store: new SqliteStore({ path }) });
 * if (engine.claim(runId)) {
 *   const run = engine.open(runId);
 *   const { value } = await run.step("tool:t1/issue_credit/ab12#0", () => issueCredit(), { idempotent: false });
 * }
 */
export class LocalDurableEngine implements DurableEngine {
  readonly name = "local";
  readonly owner: string;
  readonly store: Store;
  readonly #clock: () => number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #laneOf: (name: string) => string | undefined;
  readonly #isOwnerAlive: (owner: string) => boolean;
  readonly #onEvent: (event: LocalDurableEvent) => void;
  readonly #runs = new Map<string, RunState>();
  readonly #heartbeats = new Map<string, NodeJS.Timeout>();
  readonly #lost = new Set<string>();
  readonly #wakers = new Map<string, Set<() => void>>();
  readonly #closing = new AbortController();
  readonly #env: RunEnvironment;

  constructor(options: LocalDurableOptions) {
    this.store = options.store;
    this.owner = options.owner ?? defaultOwner();
    this.#clock = options.clock ?? Date.now;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#pollMs = options.pollIntervalMs ?? 100;
    this.#laneOf = options.laneOf ?? taskLane;
    this.#isOwnerAlive = options.isOwnerAlive ?? sameHostOwnerAlive;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#env = {
      store: this.store,
      clock: this.#clock,
      uuid: options.uuid ?? (() => crypto.randomUUID()),
      checkDeterminism: (options.determinism ?? "lanes") === "lanes",
      laneOf: this.#laneOf,
      waitForWake: (topic, ms, signal) => this.#waitForWake(topic, ms, signal),
      closed: this.#closing.signal,
      isLeaseLost: (runId) => this.#lost.has(runId),
    };
  }

  /**
   * The durable context of a run, loading its recorded steps on first open. Handles for the same run
   * share state. `mode: "replay"` never executes: every step must be recorded (for `arbiter replay`).
   */
  open(runId: string, options: { mode?: RunMode; fresh?: boolean } = {}): LocalDurableRun {
    const mode = options.mode ?? "run";
    let state = this.#runs.get(runId);
    if (state === undefined) {
      const recorded = options.fresh === true && mode === "run" ? [] : this.store.loadSteps(runId);
      state = new RunState(runId, mode, recorded, this.#laneOf);
      this.#runs.set(runId, state);
    } else if (state.mode !== mode) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `run "${runId}" is already open in ${state.mode} mode; release it before opening it in ${mode} mode`,
      );
    }
    return new LocalDurableRun(state, this.#env);
  }

  /**
   * Takes the run's lease for this process and keeps renewing it until `release`/`close`. False when
   * another live process holds it. A holder on this host whose process is gone is taken over at once.
   */
  claim(runId: string): boolean {
    const now = this.#clock();
    let claimed = this.store.claimRun(runId, this.owner, now + this.#leaseMs, now);
    if (!claimed) {
      const run = this.store.getRun(runId);
      if (run?.owner != null && run.leaseUntil !== null && !this.#isOwnerAlive(run.owner)) {
        // Only succeeds while the dead holder's lease is unchanged, so two takers cannot both win.
        claimed = this.store.claimRun(runId, this.owner, now + this.#leaseMs, run.leaseUntil + 1);
      }
    }
    if (!claimed) return false;
    this.#lost.delete(runId);
    if (!this.#heartbeats.has(runId)) {
      const timer = setInterval(() => this.#renew(runId), Math.max(10, Math.floor(this.#leaseMs / 3)));
      timer.unref();
      this.#heartbeats.set(runId, timer);
    }
    return true;
  }

  /** Whether a live process (this one included) holds the run's lease now. */
  isHeld(run: { owner: string | null; leaseUntil: number | null }, now = this.#clock()): boolean {
    if (run.owner === null || run.leaseUntil === null || run.leaseUntil <= now) return false;
    return run.owner === this.owner || this.#isOwnerAlive(run.owner);
  }

  /** Drops the run's in-process state and gives up its lease; its records stay in the store. */
  release(runId: string): void {
    this.#runs.delete(runId);
    this.#lost.delete(runId);
    const timer = this.#heartbeats.get(runId);
    if (timer !== undefined) {
      clearInterval(timer);
      this.#heartbeats.delete(runId);
      this.store.releaseRun(runId, this.owner);
    }
  }

  /** Sends a signal (durably) and wakes this process's waiters on the topic at once. */
  sendSignal(topic: string, payload: unknown): void {
    this.store.sendSignal(topic, payload, this.#clock());
    this.wake(topic);
  }

  /** Wakes this process's waiters on `topic` (e.g. after `store.decideApproval` sent its signal). */
  wake(topic: string): void {
    for (const wake of this.#wakers.get(topic) ?? []) wake();
  }

  /**
   * Settles an in-doubt step with what a human found: `completed` records `value` as its result (it
   * replays from now on); `failed` records a failure so the next request executes it again.
   */
  resolveStep(
    runId: string,
    stepName: string,
    resolution: StepResolution,
    options: { sealer?: StepSealer } = {},
  ): void {
    const started = this.store
      .loadSteps(runId)
      .filter((s) => s.name === stepName)
      .at(-1);
    if (started?.state !== "started") {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `step "${stepName}" of run "${runId}" is not in doubt (${started === undefined ? "never started" : started.state}); nothing to resolve`,
        { details: { runId, stepName } },
      );
    }
    const endedAt = this.#clock();
    this.store.finishStep(
      runId,
      stepName,
      started.attempt,
      resolution.outcome === "completed"
        ? {
            state: "completed",
            // Sealed like the step's own result would be.
            result: sealedResult(
              runId,
              stepName,
              encodeStepValue(resolution.value),
              resolution.value,
              options.sealer,
            ),
            endedAt,
          }
        : { state: "failed", error: { name: "Resolved", message: resolution.reason }, endedAt },
    );
    // Handles already open see the resolution on their next request of the step.
    const state = this.#runs.get(runId);
    if (state !== undefined) {
      state.history.set(
        stepName,
        this.store.loadSteps(runId).filter((s) => s.name === stepName),
      );
    }
  }

  /** Stops renewing leases (releasing them), and ends every wait and sleep of this engine. Records stay. */
  close(): void {
    this.#closing.abort(new ArbiterError(ErrorCode.Aborted, "the durable engine was closed"));
    for (const runId of [...this.#heartbeats.keys()]) this.release(runId);
    this.#runs.clear();
  }

  #renew(runId: string): void {
    try {
      if (this.store.renewLease(runId, this.owner, this.#clock() + this.#leaseMs)) return;
      this.#lost.add(runId);
      const timer = this.#heartbeats.get(runId);
      clearInterval(timer);
      this.#heartbeats.delete(runId);
      this.#onEvent({ type: "lease-lost", runId });
    } catch (error) {
      // The next tick retries; the lease only lapses if renewals keep failing.
      this.#onEvent({
        type: "warning",
        runId,
        message: `renewing the lease failed: ${String(error)}`,
        cause: error,
      });
    }
  }

  #waitForWake(topic: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let wakers = this.#wakers.get(topic);
      if (wakers === undefined) {
        wakers = new Set();
        this.#wakers.set(topic, wakers);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        wakers.delete(wake);
        if (wakers.size === 0) this.#wakers.delete(topic);
      };
      const wake = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(wake, Math.min(this.#pollMs, Math.max(0, ms)));
      wakers.add(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * This process as a run's owner: `<host>:<pid>:<nonce>`, and on Linux `:<pid namespace>` (containers
 * that share a host name and the database file number their processes each from 1).
 */
function defaultOwner(): string {
  const namespace = pidNamespace();
  return `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}${namespace === undefined ? "" : `:${namespace}`}`;
}

/** The PID namespace of this process (`/proc/self/ns/pid`, e.g. 4026531836), where there is one. */
let ownNamespace: string | null | undefined;
function pidNamespace(): string | undefined {
  if (ownNamespace === undefined) {
    try {
      ownNamespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? null;
    } catch {
      ownNamespace = null;
    }
  }
  return ownNamespace ?? undefined;
}

/**
 * Owner ids are `<host>:<pid>:<nonce>[:<pid namespace>]`; on this host and in this PID namespace, a
 * holder whose pid is gone is dead. Elsewhere (another host, or another container under the same host
 * name), assume alive: its lease says when it is not. A process killed with `kill -9` stays a zombie
 * until its parent reaps it (a container whose first process never does keeps it for good): on Linux,
 * a zombie is dead too.
 */
export function sameHostOwnerAlive(owner: string): boolean {
  const [host, pid, , namespace] = owner.split(":");
  if (host !== hostname() || pid === undefined || !/^\d+$/.test(pid)) return true;
  if (namespace !== undefined && namespace !== pidNamespace()) return true;
  try {
    process.kill(Number(pid), 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(Number(pid));
}

/** Whether `/proc` says the process has exited and waits to be reaped (state Z or X); false elsewhere. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return false; // no /proc (not Linux), or gone in between (then the next look finds it dead)
  }
  // "pid (command) state …": the command may hold spaces and parentheses, so read after the last ")".
  const state = stat.charAt(stat.lastIndexOf(")") + 2);
  return state === "Z" || state === "X";
}
