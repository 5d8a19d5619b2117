import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createSqliteLedger } from "../budget/sqlite/sqlite-ledger.ts";
import { LocalDurableEngine } from "../durable/local/local-durable.ts";
import { openEmbeddedShield } from "../guard/embedded-shield.ts";
import { loadCheckpointSigner } from "../journal/audit/checkpoint-key.ts";
import { SqliteJournal } from "../journal/sqlite/sqlite-journal.ts";
import { createProfileGateway } from "../models/profile-gateway.ts";
import type { Profile } from "../profile/load-profile.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { RunRecord } from "../store/store.ts";
import type { Faults } from "../testing/fault-injection.ts";
import type { RunRequest } from "./admit.ts";
import type { RunResult } from "./deliver.ts";
import type { ModelResolver } from "./run-context.ts";
import { createSupervisor, type RunOptions, type Supervisor } from "./supervisor.ts";

export interface LocalRuntimeOptions {
  profile: Profile;
  /** The run database (runs, steps, signals, approvals, journal, cost ledger). */
  dbPath: string;
  env?: Readonly<Record<string, string | undefined>>;
  models?: ModelResolver;
  faults?: Faults;
}

/** The cost ledger beside the run database (its own file: the run database commits in groups). */
export function ledgerPath(dbPath: string): string {
  return dbPath.endsWith(".db") ? `${dbPath.slice(0, -3)}-ledger.db` : `${dbPath}-ledger`;
}

/** A run that stopped because every branch still open waits for a person (it resumes later). */
export interface SuspendedRun {
  runId: string;
  status: "waiting";
  pending: Array<{ approvalId: string; taskId: string; worker: string; reason: string }>;
}

export type RunOutcome = RunResult | SuspendedRun;

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
  readonly #closers: Array<() => unknown>;

  private constructor(parts: {
    store: SqliteStore;
    journal: SqliteJournal;
    engine: LocalDurableEngine;
    supervisor: Supervisor;
    profile: Profile;
    closers: Array<() => unknown>;
  }) {
    this.store = parts.store;
    this.journal = parts.journal;
    this.engine = parts.engine;
    this.supervisor = parts.supervisor;
    this.profile = parts.profile;
    this.#closers = parts.closers;
  }

  static async open(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const env = options.env ?? process.env;
    mkdirSync(dirname(options.dbPath), { recursive: true });
    // Every journal entry is hash-chained; checkpoints are signed with the embedded key (made on first run).
    // Grouped commits: the writes of one turn of the event loop share one fsync; the engine waits for the
    // commit before any side effect, so a started step is always durable first. Nothing else in this
    // process writes this file (the ledger and the vault have their own).
    const store = new SqliteStore({
      path: options.dbPath,
      commit: "grouped",
      signer: loadCheckpointSigner({ env }),
    });
    const closers: Array<() => unknown> = [];
    try {
      const journal = new SqliteJournal(store);
      const engine = new LocalDurableEngine({ store });
      closers.push(() => engine.close());
      const ledger = createSqliteLedger({ path: ledgerPath(options.dbPath) });
      closers.push(() => ledger.close());
      const guard = options.profile.document.guard;
      const shield = guard.pii
        ? await openEmbeddedShield({ env, revealToRequester: guard.revealToRequester })
        : undefined;
      if (shield) closers.push(() => shield.close());
      const supervisor = createSupervisor({
        profile: options.profile,
        journal,
        durable: engine,
        store,
        gateway: createProfileGateway(options.profile, { ledger }).gateway,
        ...(options.models ? { models: options.models } : {}),
        ...(options.faults ? { faults: options.faults } : {}),
        ...(shield ? { shield: shield.shield } : {}),
      });
      closers.push(() => store.close());
      return new LocalRuntime({ store, journal, engine, supervisor, profile: options.profile, closers });
    } catch (error) {
      for (const close of closers.reverse()) await close();
      store.close();
      throw error;
    }
  }

  /** Runs a request to its end, or until every open branch waits for a person. */
  run(request: RunRequest, options: RunOptions = {}): Promise<RunOutcome> {
    // Claimed before its first step, so no other process resumes it while it runs.
    const runId = options.runId ?? `run_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    return this.#drive(
      (opts) => this.supervisor.run(request, opts),
      { ...options, runId, onRecorded: (id) => this.engine.claim(id) },
      runId,
    );
  }

  /** Continues a recorded, unfinished run (claiming it first: no two processes resume the same run). */
  async resume(record: RunRecord, options: RunOptions = {}): Promise<RunOutcome | undefined> {
    if (!this.engine.claim(record.id)) return undefined;
    return this.#drive((opts) => this.supervisor.resume(record, opts), options, record.id);
  }

  /** Unfinished runs of this runtime's profile. */
  unfinished(): RunRecord[] {
    return this.store.listUnfinished().filter((r) => r.profile.name === this.profile.document.name);
  }

  async #drive(
    start: (options: RunOptions) => Promise<RunResult>,
    options: RunOptions,
    knownRunId?: string,
  ): Promise<RunOutcome> {
    const stop = new AbortController();
    let runId = knownRunId ?? "";
    let suspended = false;
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    try {
      return await start({
        ...options,
        signal,
        onStart: (id) => {
          runId = id;
          options.onStart?.(id);
        },
        onSuspend: () => {
          suspended = true;
          stop.abort(new Error("every open branch waits for a person"));
        },
      });
    } catch (error) {
      if (!suspended) throw error;
      return this.#suspended(runId);
    } finally {
      this.engine.release(runId);
    }
  }

  #suspended(runId: string): SuspendedRun {
    this.store.setRunStatus(runId, "waiting", Date.now());
    const pending = this.store
      .listApprovals({ runId, status: "pending" })
      .map((a) => ({ approvalId: a.id, taskId: a.taskId, worker: a.worker, reason: a.reason }));
    return { runId, status: "waiting", pending };
  }

  async close(): Promise<void> {
    for (const close of this.#closers) await close();
  }
}
