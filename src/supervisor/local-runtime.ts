import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { importLegacyLedger } from "../budget/sqlite/legacy-ledger.ts";
import { createSqliteLedger } from "../budget/sqlite/sqlite-ledger.ts";
import { linkAbort } from "../durable/linked-signal.ts";
import { LocalDurableEngine } from "../durable/local/local-durable.ts";
import type { ArbiterError } from "../errors/arbiter-error.ts";
import { openEmbeddedShield } from "../guard/embedded-shield.ts";
import { loadCheckpointSigner } from "../journal/audit/checkpoint-key.ts";
import { SqliteJournal } from "../journal/sqlite/sqlite-journal.ts";
import { createProfileGateway } from "../models/profile-gateway.ts";
import type { Profile } from "../profile/load-profile.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import { WalCheckpointer } from "../store/sqlite/wal-checkpointer.ts";
import {
  type ApprovalDecision,
  type ApprovalRecord,
  approvalTopic,
  effectiveStatus,
  type RunRecord,
} from "../store/store.ts";
import type { Faults } from "../testing/fault-injection.ts";
import type { RunRequest } from "./admit.ts";
import { protectDecision } from "./approval.ts";
import { checkEdit, checkToolEdit, subjectOf } from "./approval-edit.ts";
import { companionFiles } from "./companion-files.ts";
import type { RunResult } from "./deliver.ts";
import type { Shield } from "./guards.ts";
import type { ModelResolver } from "./run-context.ts";
import { checkRunId, newRunId } from "./run-id.ts";
import { createSupervisor, type RunOptions, type Supervisor } from "./supervisor.ts";

export interface LocalRuntimeOptions {
  profile: Profile;
  /** The run database (runs, steps, signals, approvals, journal, cost ledger). */
  dbPath: string;
  env?: Readonly<Record<string, string | undefined>>;
  models?: ModelResolver;
  /** The `--model` specs `models` was built with: recorded with each new run (see `SupervisorOptions`). */
  modelSpecs?: readonly string[];
  faults?: Faults;
  /**
   * Something worth telling whoever started the runtime (e.g. a vault or key found where an older version
   * kept it: see `companionFiles`). Default: ignored.
   */
  onNote?: (message: string) => void;
}

/** A run that stopped because every branch still open waits for a person (it resumes later). */
export interface SuspendedRun {
  runId: string;
  status: "waiting";
  pending: Array<{ approvalId: string; taskId: string; worker: string; reason: string }>;
}

export type RunOutcome = RunResult | SuspendedRun;

export interface WatchOptions {
  /** How often to look for runs to take up. Default 250 ms. */
  intervalMs?: number;
  /** At most this many runs resumed at once by the watch. Default 64. */
  concurrency?: number;
  /** Each resumed run's outcome, or the error it stopped on. */
  onOutcome?: (report: { runId: string; outcome?: RunOutcome; error?: unknown }) => void;
  /** A failed look (e.g. the database was locked for longer than its busy timeout); the next one retries. */
  onError?: (error: unknown) => void;
  /** Something the watch leaves alone and why (said once per run). */
  onWarning?: (runId: string, message: string) => void;
}

export interface RuntimeWatch {
  /** Stops watching and stops the runs it resumed (they stay unfinished, for the next process). */
  stop(): Promise<void>;
}

/** Log pages (4 KiB) after which a connection checkpoints by itself, on the event loop. */
const WAL_SAFETY_NET_PAGES = 10_000;

/**
 * The embedded default: everything on one SQLite file, no server. Runs are durable steps, so a run
 * killed at any point resumes from its last completed step; approvals wait across restarts.
 */
export class LocalRuntime {
  readonly store: SqliteStore;
  readonly journal: SqliteJournal;
  readonly engine: LocalDurableEngine;
  readonly supervisor: Supervisor;
  readonly profile: Profile;
  /** The `--model` specs this runtime's models were built with (recorded with each new run). */
  readonly modelSpecs: readonly string[];
  readonly #closers: Array<() => unknown>;
  /** The PII shield of the runs (undefined when the profile's guard.pii is off). */
  readonly #shield: Shield | undefined;

  private constructor(parts: {
    store: SqliteStore;
    journal: SqliteJournal;
    engine: LocalDurableEngine;
    supervisor: Supervisor;
    profile: Profile;
    modelSpecs: readonly string[];
    closers: Array<() => unknown>;
    shield: Shield | undefined;
  }) {
    this.store = parts.store;
    this.journal = parts.journal;
    this.engine = parts.engine;
    this.supervisor = parts.supervisor;
    this.profile = parts.profile;
    this.modelSpecs = parts.modelSpecs;
    this.#closers = parts.closers;
    this.#shield = parts.shield;
  }

  static async open(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const env = options.env ?? process.env;
    // The vault and keys live beside the database (or where their variables say).
    const companions = companionFiles(options.dbPath, { env, databaseExisted: existsSync(options.dbPath) });
    const { vault, vaultKeyFile, auditKeyFile } = companions.notes;
    // (The vault is opened only for a profile that tokenises PII.)
    const notes = options.profile.document.guard.pii ? [vault, vaultKeyFile, auditKeyFile] : [auditKeyFile];
    for (const note of notes) if (note !== undefined) options.onNote?.(note);
    mkdirSync(dirname(options.dbPath), { recursive: true });
    // Every journal entry is hash-chained; checkpoints are signed with the embedded key (made on first run).
    // Grouped commits: the writes of one turn of the event loop share one commit. Before a side effect
    // that is not safe to repeat, the engine waits for that commit and an fsync of the log, so such a
    // step is on disk as started before it runs. The cost ledger writes through the same commit groups;
    // the PII vault has a file of its own.
    // A failed commit (a full disk) lost some runs' writes: those runs stop (see `#stopLost`).
    let stopLost: (lost: readonly string[], error: ArbiterError) => void = () => {};
    // A key made for a database that then fails to open (not a database, locked, newer schema) is removed:
    // a failed command leaves nothing behind.
    const keyExisted = existsSync(companions.auditKeyFile);
    let store: SqliteStore;
    try {
      store = new SqliteStore({
        path: options.dbPath,
        commit: "grouped",
        onError: (error, lost) => stopLost(lost, error),
        // Another process holding the write lock past the busy timeout: the writes wait (and say so).
        ...(options.onNote ? { onNote: options.onNote } : {}),
        // Commits survive a crash of this process without an fsync on the event loop; a step that is not
        // safe to repeat waits for an fsync of the log (off the main thread) before its side effect.
        synchronous: "normal",
        signer: loadCheckpointSigner({ env, file: companions.auditKeyFile }),
        // At most ~4 signatures a second (each ~50 µs): a run's end is covered within 250 ms, or at close.
        checkpointGapMs: 250,
        // A thread of its own copies the log into the database file (below), not the committing loop; the
        // connection checkpoints itself only past 40 MiB of log (should that thread be gone).
        walAutocheckpoint: WAL_SAFETY_NET_PAGES,
      });
    } catch (error) {
      if (!keyExisted) rmSync(companions.auditKeyFile, { force: true });
      throw error;
    }
    const closers: Array<() => unknown> = [];
    try {
      // A process that died within a checkpoint gap left its last runs' ends unsigned: sign them now.
      store.checkpoint();
      const journal = new SqliteJournal(store);
      const engine = new LocalDurableEngine({ store });
      closers.push(() => engine.close());
      // The cost ledger lives in the run database and writes through its commit groups: a call's charge
      // costs no commit of its own, and normally commits together with the step that made the call.
      const ledger = createSqliteLedger({
        database: store.database,
        transaction: (fn) => store.unit("writing the cost ledger", fn),
        // A call's charge is added up with the group's others and written as the group commits.
        defer: (flush) => store.deferUntilCommit("writing the cost ledger", flush),
      });
      importLegacyLedger(store.database, options.dbPath);
      closers.push(() => ledger.close());
      const checkpointer = WalCheckpointer.start([options.dbPath]);
      // Stopped first on close (its last checkpoint), before the connections close.
      closers.unshift(() => checkpointer.stop());
      const guard = options.profile.document.guard;
      const shield = guard.pii
        ? await openEmbeddedShield({
            env,
            vaultPath: companions.vault,
            vaultKeyFile: companions.vaultKeyFile,
            revealToRequester: guard.revealToRequester,
          })
        : undefined;
      if (shield) closers.push(() => shield.close());
      const supervisor = createSupervisor({
        profile: options.profile,
        journal,
        durable: engine,
        store,
        gateway: createProfileGateway(options.profile, { ledger }).gateway,
        ...(options.models ? { models: options.models } : {}),
        ...(options.modelSpecs?.length ? { modelSpecs: options.modelSpecs } : {}),
        ...(options.faults ? { faults: options.faults } : {}),
        ...(shield ? { shield: shield.shield } : {}),
      });
      closers.push(() => store.close());
      const runtime = new LocalRuntime({
        store,
        journal,
        engine,
        supervisor,
        profile: options.profile,
        modelSpecs: options.modelSpecs ?? [],
        closers,
        shield: shield?.shield,
      });
      stopLost = (lost, error) => runtime.#stopLost(lost, error);
      return runtime;
    } catch (error) {
      for (const close of closers.reverse()) await close();
      store.close();
      throw error;
    }
  }

  /** Runs a request to its end, or until every open branch waits for a person. */
  run(request: RunRequest, options: RunOptions = {}): Promise<RunOutcome> {
    // Claimed before its first step, so no other process resumes it while it runs.
    const runId = options.runId === undefined ? newRunId() : checkRunId(options.runId);
    return this.#drive(
      (opts) => this.supervisor.run(request, opts),
      {
        ...options,
        runId,
        ...(options.runId === undefined ? { freshRunId: true } : {}),
        onRecorded: (id) => this.engine.claim(id),
      },
      runId,
    );
  }

  /**
   * Continues a recorded, unfinished run (claiming it first: no two processes resume the same run).
   * `undefined` when another live process holds it, or this runtime already drives it.
   */
  async resume(record: RunRecord, options: RunOptions = {}): Promise<RunOutcome | undefined> {
    if (this.#active.has(record.id) || !this.engine.claim(record.id)) return undefined;
    return this.#drive(
      (opts) => this.supervisor.resume(record, opts),
      { resumedBy: this.engine.owner, ...options },
      record.id,
    );
  }

  /**
   * A person's decision on a pending approval, as `arbiter approvals approve|deny` records it: personal
   * data in the reason and the edit become tokens of the run's tenant before anything stores them, the
   * decision commits with its signal, and a run of this process waiting for it goes on at once (others
   * take it up when they look). Throws `unknown-approval`, `approval-decided` or `approval-expired`.
   */
  async decide(
    approvalId: string,
    decision: Omit<ApprovalDecision, "at"> & { at?: number },
  ): Promise<ApprovalRecord> {
    const pending = this.store.getApproval(approvalId);
    // An edit that does not fit what is decided is refused before anything is stored (as the CLI does).
    if (pending !== undefined && decision.edit !== undefined && decision.edit !== null) {
      const subject = subjectOf(this.journal.read(pending.runId), pending);
      checkEdit(subject, decision.status, decision.edit);
      const tool = subject?.kind === "tool-call" ? this.profile.tools.get(subject.tool) : undefined;
      if (subject !== undefined && tool !== undefined && decision.status === "approved")
        checkToolEdit(subject, decision.edit, tool.input);
    }
    const words = {
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      ...(decision.edit === undefined ? {} : { edit: decision.edit }),
    };
    const stored =
      pending === undefined || this.#shield === undefined
        ? words
        : await protectDecision(this.#shield, this.store.getRun(pending.runId)?.tenant ?? "default", words);
    const decided = this.store.decideApproval(approvalId, {
      status: decision.status,
      by: decision.by,
      ...stored,
      at: decision.at ?? Date.now(),
    });
    await this.store.commit();
    this.engine.wake(approvalTopic(approvalId));
    return decided;
  }

  /**
   * Resumes, now and then every `intervalMs`, each unfinished run of this profile that nobody is
   * working on: runs whose process died (its lease lapsed or its pid is gone), and waiting runs as
   * soon as a person decides one of their approvals or one expires. What a long-running process
   * (`arbiter serve`) does on start and from then on. `stop()` ends the watch and the runs in flight
   * here (they stay unfinished; the next process resumes them).
   */
  watch(options: WatchOptions = {}): RuntimeWatch {
    const intervalMs = options.intervalMs ?? 250;
    const limit = options.concurrency ?? 64;
    const report = options.onOutcome ?? (() => {});
    const stopping = new AbortController();
    const inflight = new Set<Promise<void>>();
    // A run whose resume threw (and stays unfinished) is tried again later, 1 s doubling to 5 min.
    const backoff = new Map<string, { until: number; delayMs: number }>();
    // A run started on other `--model` specs is not taken up on these (arbiter resume runs it on its own).
    const otherModels = new Set<string>();
    const mine = this.modelSpecs.join(" ");
    const tick = () => {
      if (stopping.signal.aborted || inflight.size >= limit) return;
      const now = Date.now();
      // A run another process parked is reported as waiting when first seen, not replayed to find out.
      for (const record of this.#resumable((parked) => report({ runId: parked.runId, outcome: parked }))) {
        if (inflight.size >= limit) break;
        if ((backoff.get(record.id)?.until ?? 0) > now) continue;
        const recorded = (record.request as { models?: unknown }).models;
        const theirs = Array.isArray(recorded) ? recorded.join(" ") : "";
        if (theirs !== mine) {
          if (!otherModels.has(record.id)) {
            otherModels.add(record.id);
            options.onWarning?.(
              record.id,
              `${record.id} was started on ${theirs === "" ? "the profile's models" : `--model ${theirs}`}, ` +
                `not ${mine === "" ? "the profile's models" : `--model ${mine}`}: left for \`arbiter resume\` ` +
                "(or a serve started with the same --model)",
            );
          }
          continue;
        }
        const going = this.resume(record, { signal: stopping.signal })
          .then(
            (outcome) => {
              backoff.delete(record.id);
              if (outcome !== undefined) report({ runId: record.id, outcome });
            },
            (error: unknown) => {
              if (stopping.signal.aborted) return;
              const delayMs = Math.min(300_000, (backoff.get(record.id)?.delayMs ?? 500) * 2);
              backoff.set(record.id, { until: Date.now() + delayMs, delayMs });
              report({ runId: record.id, error });
            },
          )
          .finally(() => inflight.delete(going));
        inflight.add(going);
      }
    };
    const safeTick = () => {
      try {
        tick();
      } catch (error) {
        options.onError?.(error);
      }
    };
    safeTick();
    const timer = setInterval(safeTick, intervalMs);
    return {
      stop: async () => {
        clearInterval(timer);
        stopping.abort(new Error("the runtime is stopping"));
        await Promise.all([...inflight]);
      },
    };
  }

  /** Unfinished runs of this profile that this process could take up now. */
  #resumable(onParked: (run: SuspendedRun) => void): RunRecord[] {
    const now = Date.now();
    // The pending approvals of every waiting run, in one query (read only when a run waits).
    let pendingByRun: Map<string, ApprovalRecord[]> | undefined;
    const pendingOf = (runId: string): ApprovalRecord[] => {
      if (pendingByRun === undefined) {
        pendingByRun = new Map();
        for (const approval of this.store.listApprovals({ status: "pending" })) {
          const list = pendingByRun.get(approval.runId);
          if (list === undefined) pendingByRun.set(approval.runId, [approval]);
          else list.push(approval);
        }
      }
      return pendingByRun.get(runId) ?? [];
    };
    return this.unfinished().filter((run) => {
      if (this.#active.has(run.id)) return false;
      // Held by a live process (the claim checks again, atomically).
      if (this.engine.isHeld(run, now)) return false;
      if (run.status !== "waiting") return true;
      // Waiting for a person: worth a resume once one of its approvals is decided or has expired.
      const parked = this.#parked.get(run.id);
      if (parked === undefined) {
        // Parked by another process: left alone while nothing could move it, then watched like our own.
        const blocked = this.blockedOnPeople(run, now);
        if (blocked === undefined) return true;
        this.#parked.set(run.id, blocked.length);
        onParked({
          runId: run.id,
          status: "waiting",
          pending: blocked.map((a) => ({
            approvalId: a.id,
            taskId: a.taskId,
            worker: a.worker,
            reason: a.reason,
          })),
        });
        return false;
      }
      const pending = pendingOf(run.id);
      return (
        pending.length === 0 ||
        pending.length < parked ||
        pending.some((a) => effectiveStatus(a, now) === "expired")
      );
    });
  }

  /**
   * The approvals a waiting run is blocked on when nothing could move it now: every one still pending,
   * none expired, and every decision already taken up by the run (journaled). `undefined` when resuming
   * it would do something (or it is not waiting). `arbiter resume` leaves such a run alone instead of
   * replaying it only to park it again (and journaling a resume each time it is called).
   */
  blockedOnPeople(record: RunRecord, now = Date.now()): ApprovalRecord[] | undefined {
    if ((this.store.getRun(record.id) ?? record).status !== "waiting") return undefined;
    const approvals = this.store.listApprovals({ runId: record.id });
    const pending = approvals.filter((a) => a.status === "pending");
    if (pending.length === 0 || pending.some((a) => effectiveStatus(a, now) === "expired")) return undefined;
    const decided = approvals.filter((a) => a.status !== "pending");
    if (decided.length === 0) return pending;
    const taken = new Set<string>();
    for (const { event } of this.journal.read(record.id))
      if (event.type === "approval-decide") taken.add(event.approvalId);
    return decided.every((a) => taken.has(a.id)) ? pending : undefined;
  }

  /** Unfinished runs of this runtime's profile. */
  unfinished(): RunRecord[] {
    return this.store.listUnfinished().filter((r) => r.profile.name === this.profile.document.name);
  }

  /** Runs this runtime drives now. */
  readonly #active = new Set<string>();
  /** How to stop each run driven now (those whose id is known yet). */
  readonly #stops = new Map<string, AbortController>();
  /** Waiting runs this runtime suspended, with how many approvals they were waiting for. */
  readonly #parked = new Map<string, number>();

  async #drive(
    start: (options: RunOptions) => Promise<RunResult>,
    options: RunOptions,
    knownRunId?: string,
  ): Promise<RunOutcome> {
    const stop = new AbortController();
    let runId = knownRunId ?? "";
    let suspended = false;
    // Stopped by this runtime (close, a lost commit, a suspension) or with the caller's signal.
    const unlink = options.signal ? linkAbort(stop, [options.signal]) : undefined;
    const signal = stop.signal;
    if (knownRunId !== undefined) {
      this.#active.add(knownRunId);
      this.#stops.set(knownRunId, stop);
    }
    this.#parked.delete(runId);
    try {
      const result = await start({
        ...options,
        signal,
        onStart: (id) => {
          runId = id;
          this.#stops.set(id, stop);
          options.onStart?.(id);
        },
        onSuspend: () => {
          suspended = true;
          stop.abort(new Error("every open branch waits for a person"));
        },
      });
      // The outcome is committed before the caller sees it (concurrent runs share the commit).
      await this.store.commit();
      return result;
    } catch (error) {
      // Whatever it stopped on, a run that lost writes says so (and what to do).
      const lost = this.store.lostReason(runId);
      if (lost !== undefined) {
        // Its release went with the lost writes: give the run up again, for whoever resumes it.
        try {
          this.store.releaseRun(runId, this.engine.owner);
        } catch {
          // Still failing: the lease lapses by itself.
        }
        throw lost;
      }
      if (!suspended) throw error;
      const waiting = this.#suspended(runId);
      await this.store.commit();
      return waiting;
    } finally {
      unlink?.();
      this.#active.delete(runId);
      this.#stops.delete(runId);
      this.engine.release(runId);
    }
  }

  /**
   * A commit group failed (e.g. the disk is full): the runs with writes in it stop where they are, as
   * their record no longer holds what they did (the store refuses their further writes). A recorded
   * one is resumed from its last commit by the next `resume`; one never recorded did no side effect.
   */
  #stopLost(lost: readonly string[], error: ArbiterError): void {
    for (const runId of lost) this.#stops.get(runId)?.abort(this.store.lostReason(runId) ?? error);
  }

  #suspended(runId: string): SuspendedRun {
    this.store.setRunStatus(runId, "waiting", Date.now());
    const pending = this.store
      .listApprovals({ runId, status: "pending" })
      .map((a) => ({ approvalId: a.id, taskId: a.taskId, worker: a.worker, reason: a.reason }));
    this.#parked.set(runId, pending.length);
    return { runId, status: "waiting", pending };
  }

  async close(): Promise<void> {
    for (const close of this.#closers) await close();
  }
}
