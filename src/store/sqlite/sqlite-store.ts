import { closeSync, fsync, openSync } from "node:fs";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { type CheckpointSigner, checkpointMessage } from "../../journal/audit/checkpoint-key.ts";
import { batchHash, entryHash, GENESIS } from "../../journal/audit/hash-chain.ts";
import { EVENT_SCHEMA_VERSION, type JournalEntry, type RunEvent } from "../../journal/events.ts";
import {
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStatus,
  approvalSignalOf,
  approvalTopic,
  effectiveStatus,
  type NewApproval,
  type NewRun,
  type NewStep,
  newRunRecord,
  type RunRecord,
  type SignalRecord,
  STORE_SCHEMA_VERSION,
  type StepEnd,
  type StepError,
  type StepRecord,
  type Store,
  type StoredRunStatus,
  UNFINISHED_RUN_STATUSES,
} from "../store.ts";
import { approvalExists, notPending, runExists, unknownApproval, unknownRun } from "../store-errors.ts";
import { type OpenDatabaseOptions, openDatabase } from "./open-database.ts";
import { whereOf } from "./sql-where.ts";
import { isBusy, storeError } from "./sqlite-error.ts";

export interface SqliteStoreOptions extends OpenDatabaseOptions {
  /**
   * `each` (default): every write is its own commit, durable when the call returns.
   * `grouped`: step records and journal appends made in one turn of the event loop share one commit
   * at the end of the turn (or after 20,000 writes); `commit()` and `sync()` wait for it (the durable
   * engine waits before running a step's side effect, so a started step is always durable first).
   * A run's journal entries of one group are written as one row (one link of the audit chain), its
   * step writes as one row of the step log, both when the group commits or before a read of the run.
   * A run created in a group is one insert as the group is written (its claim, status changes, lease and
   * release until then are applied in memory; `getRun` reads it there, listings write it first).
   * A status change or release of a run already written is buffered the same way. Other writes
   * (signals, approvals) commit at once.
   * The group takes the write lock only when it must write: as it commits, or earlier for a write
   * that cannot wait (a claim, a lease renewal, a savepoint unit, a read of what it buffered); other
   * processes write in between. From then until the end of the turn no other connection *in this
   * process* may write to the same file (its synchronous busy wait would block the turn that releases
   * it) — e.g. open the cost ledger and PII vault on another file, or use `each`.
   */
  commit?: "each" | "grouped";
  /*
   * With `commit: "grouped"` and `synchronous: "normal"`, commits are not fsynced on the event loop;
   * instead `sync()` (which the durable engine awaits before a side effect that is not safe to
   * repeat) commits the group and then fsyncs the write-ahead log off the main thread, coalescing
   * concurrent callers into one fsync. Everything committed survives a crash of the process; what a
   * power loss can take is only the tail written since the last barrier — steps that are safe to run
   * again, never the start of one that is not.
   */
  /** Signs audit checkpoints (Ed25519); without it the chain is kept but not checkpointed. */
  signer?: CheckpointSigner;
  /** A checkpoint every this many journal entries (default 256)… */
  checkpointEvery?: number;
  /** …or when this long has passed since the last one (default 60 s). */
  checkpointIntervalMs?: number;
  /**
   * A run's end is covered by a checkpoint at once (default 0), or, when one was signed less than this
   * long ago, by one signed when this long has passed (and at close): at most one signature per gap.
   */
  checkpointGapMs?: number;
  /**
   * Where a failed grouped commit is reported (its waiters are rejected too), with the runs that had
   * writes in it: their record no longer matches what their process did, so the store refuses their
   * further writes (until a new `claimRun` resumes one from its record) and their driver should stop them.
   */
  onError?: (error: ArbiterError, runs: readonly string[]) => void;
  /**
   * How long a grouped commit keeps its writes while another process holds the write lock (default
   * 60 s). It never waits inside SQLite (whose busy wait sleeps 1, 2, 5… ms with the event loop blocked):
   * it tries again in the next turn, then less and less often (at most every 50 ms), and its runs go on
   * meanwhile (a step that is not safe to repeat waits for the commit). A wait past the busy timeout is
   * said (`onNote`); only past this is the group given up, its runs stopped and told (`onError`).
   */
  lockPatienceMs?: number;
  /** Told when a group starts waiting for the write lock, and when it commits after waiting. */
  onNote?: (message: string) => void;
}

type Row = Record<string, unknown>;
/** One run's entries appended in an open commit group: written as one row (one link of the chain). */
interface PendingBatch {
  /** Seq of the first entry. */
  readonly seq: number;
  /** When the first entry happened, and its type (the row's, when it holds one entry). */
  readonly at: number;
  readonly type: string;
  /** Each entry's JSON text, and its key (or null). */
  readonly texts: string[];
  readonly keys: Array<string | null>;
  runEnded: boolean;
}
/** Runs remembered as having lost writes to a failed commit (their further writes are refused). */
const LOST_RUNS = 10_000;

/**
 * When a commit group that found the write lock taken tries again (without blocking the loop): at once
 * (next turn) at first, as another process's commit takes well under a millisecond to a few; then less
 * and less often, at most every LOCK_RETRY_MS.
 */
const LOCK_BACKOFF_MS = [0, 0, 0, 1, 1, 2, 2, 5, 5, 10, 10, 20, 20];
const LOCK_RETRY_MS = 50;

/** A commit group commits at the end of its turn of the event loop, or after this many writes. */
const GROUP_WRITES = 20_000;
/** How many runs' journal tails a grouped store keeps in memory (the least recently loaded go first). */
const HOT_RUNS = 4096;

/** A step write not yet in the log: a start (with its end if it came in the same group), or an end alone. */
interface PendingStep {
  step?: NewStep;
  end?: StepEnd;
}

/**
 * One record of the step log: a start or a whole execution (`s`, `i`, `t`, and `r`/`e`/`d` once ended),
 * or (`f: 1`) the end of an execution recorded before.
 */
interface StepLogRecord {
  /** Name and attempt. */
  n: string;
  a: number;
  f?: 1;
  s: StepRecord["state"];
  i?: 0 | 1;
  t?: number;
  r: string | null;
  e: StepError | null;
  d: number | null;
}

/**
 * One open commit group: the writes of one turn of the event loop, buffered in memory. It takes the write
 * lock (`BEGIN IMMEDIATE`) only when something must be written — as it commits at the end of the turn, or
 * earlier for a write that cannot wait (a claim, a savepoint unit, a read of buffered rows) — and holds it
 * until it commits: other processes on the file write in between.
 */
interface CommitGroup {
  /** Whether it holds the write lock (its transaction is open). */
  locked: boolean;
  /** Whether what this connection keeps in memory was checked against other connections' commits. */
  refreshed: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
  /** Each run's entries appended in this group, written (one row per run) when it commits or before a read. */
  batches: Map<string, PendingBatch>;
  /** Step records written in this group, by run: a start and its end made in one group become one row. */
  steps: Map<string, Map<string, PendingStep>>;
  /**
   * Runs created in this group, as they are now (status, lease): each inserted once, with its latest
   * values, when the group is written — not inserted, claimed, updated and released row by row.
   */
  runs: Map<string, PendingRun>;
  /**
   * Changes to runs already in the database (a status, a release), applied as the group is written: a
   * run's end takes no write lock in the middle of a turn.
   */
  updates: Map<string, RunUpdate>;
  /** Runs created in this group (written or not): not on disk until it commits. */
  created: Set<string>;
  /** Runs with writes in this group: lost with it if it fails. */
  touched: Set<string>;
  /**
   * The audit chain's head and last checkpoint, from the last commit of this connection until another
   * connection is seen to have committed (then read again, under the write lock, before a link is written).
   */
  chain?: { gseq: number; hash: string; checkpoint: { size: number; at: number } | undefined };
  /** A checkpoint fell due in this group: one is signed over its last entry when it commits. */
  signDue?: boolean;
  /** Grouped writes made in it (see GROUP_WRITES). */
  writes: number;
  /** Writers sharing the connection that buffer too (the cost ledger): flushed before the commit. */
  flushers?: Set<() => void>;
  /** Since when its commit has found the write lock held by another process, its tries, and its next one. */
  busySince?: number;
  tries?: number;
  /** Cancels the scheduled next try. */
  retry?: () => void;
  /** The wait outlasted the busy timeout and was said (`onNote`): its end is said too. */
  noted?: boolean;
}

/** What the open group will change in a run's row (see `CommitGroup.updates`). */
interface RunUpdate {
  status?: { status: StoredRunStatus; at: number };
  /** Released by this owner (if it still holds it as the group is written). */
  releasedBy?: string;
}

/** A run created in the open commit group, not yet in the database (see `CommitGroup.runs`). */
interface PendingRun {
  record: RunRecord;
  /** The request as stored (its JSON text). */
  readonly request: string;
}

interface HotRun {
  nextSeq: number;
  /** The run's idempotency keys and the seq each was appended at. */
  readonly keys: Map<string, number>;
}

const v = STORE_SCHEMA_VERSION;
const unfinished = "status IN ('created', 'running', 'waiting')";

const sql = {
  insertRun: `INSERT INTO runs (id, tenant, profile_name, profile_version, status, owner, lease_until, created_at, updated_at, request, v)
    VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *`,
  // Grouped mode: a run created in a group is inserted as the group is written, as it is by then.
  insertRunRow: `INSERT INTO runs (id, tenant, profile_name, profile_version, status, owner, lease_until, created_at, updated_at, request, v)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  // Whether the run exists, and where its journal goes on (NULL: it has no entries yet).
  runAndNextSeq: `SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1) AS run,
    (SELECT seq + n FROM journal WHERE run_id = ?1 ORDER BY seq DESC LIMIT 1) AS next`,
  getRun: "SELECT * FROM runs WHERE id = ?",
  // Who holds each run now, and the seq its next journal entry takes.
  holdersOf: `SELECT r.id, r.owner, (SELECT MAX(j.seq + j.n) FROM journal j WHERE j.run_id = r.id) AS next
    FROM runs r WHERE r.id IN (SELECT value FROM json_each(?))`,
  setRunStatus: "UPDATE runs SET status = ?, updated_at = ? WHERE id = ?",
  listUnfinished: `SELECT * FROM runs WHERE ${unfinished} ORDER BY created_at, id`,
  listUnfinishedFor: `SELECT * FROM runs WHERE ${unfinished}
    AND (owner IS NULL OR owner = ? OR lease_until < ?) ORDER BY created_at, id`,
  // A finished run is nobody's to take (another process may have finished it since it was listed).
  claimRun: `UPDATE runs SET owner = ?, lease_until = ?
    WHERE id = ? AND ${unfinished} AND (owner IS NULL OR owner = ? OR lease_until < ?)`,
  renewLease: "UPDATE runs SET lease_until = ? WHERE id = ? AND owner = ?",
  releaseRun: "UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?",
  // Steps: rows of the steps table (schema 4 and before), then the step log in the order written.
  legacySteps: "SELECT * FROM steps WHERE run_id = ?",
  anyLegacyStep: "SELECT 1 FROM steps LIMIT 1",
  stepLogOf: "SELECT records, v FROM step_log WHERE run_id = ? ORDER BY id",
  appendStepLog: "INSERT INTO step_log (run_id, records, v) VALUES (?, ?, ?)",
  insertSignal: "INSERT INTO signals (topic, payload, created_at, v) VALUES (?, ?, ?, ?) RETURNING *",
  takenSignal: "SELECT * FROM signals WHERE topic = ? AND consumed_by = ? ORDER BY id LIMIT 1",
  takeSignal: `UPDATE signals SET consumed_by = ?, consumed_at = ?
    WHERE id = (SELECT id FROM signals WHERE topic = ? AND consumed_by IS NULL ORDER BY id LIMIT 1) RETURNING *`,
  insertApproval: `INSERT INTO approvals (id, run_id, task_id, worker, reason, status, created_at, expires_at, v)
    VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING`,
  getApproval: "SELECT * FROM approvals WHERE id = ?",
  decideApproval: `UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ?, edit = ?
    WHERE id = ? AND status = 'pending' RETURNING *`,
  expireApproval: `UPDATE approvals SET status = 'expired', decided_at = ?
    WHERE id = ? AND status = 'pending' RETURNING *`,
  // (No alias named like the column sorted on: ORDER BY would sort on the alias, reading every row.)
  nextSeq: "SELECT seq + n AS next FROM journal WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
  appendEvent: `INSERT INTO journal (gseq, run_id, seq, n, v, type, at, key, keys, event, prev, hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  eventByKey: "SELECT seq, v, event FROM journal_entries WHERE run_id = ? AND key = ?",
  rowAt: "SELECT seq, n, v, event FROM journal WHERE run_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
  keysOf: "SELECT key, seq FROM journal_entries WHERE run_id = ? AND key IS NOT NULL",
  dataVersion: "PRAGMA data_version",
  // From the row holding entry afterSeq + 1 on (rows hold consecutive entries).
  readEvents: `SELECT seq, n, v, event FROM journal WHERE run_id = ?
    AND seq >= IFNULL((SELECT MAX(seq) FROM journal WHERE run_id = ? AND seq <= ?), 0) ORDER BY seq`,
  chainHead: "SELECT gseq + n - 1 AS head, hash FROM journal WHERE gseq > 0 ORDER BY gseq DESC LIMIT 1",
  lastCheckpoint: "SELECT size, at FROM audit_checkpoints ORDER BY id DESC LIMIT 1",
  addCheckpoint:
    "INSERT INTO audit_checkpoints (size, head, at, public_key, signature) VALUES (?, ?, ?, ?, ?)",
} as const;

/**
 * The embedded store: one `node:sqlite` file in WAL mode shared by every process on the machine.
 * Each method is one statement or one `BEGIN IMMEDIATE` transaction, so it is atomic across processes.
 */
export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<keyof typeof sql, StatementSync>();
  readonly #clock: () => number;
  readonly #grouped: boolean;
  readonly #signer: CheckpointSigner | undefined;
  readonly #checkpointEvery: number;
  readonly #checkpointIntervalMs: number;
  readonly #checkpointGapMs: number;
  #checkpointTimer: NodeJS.Timeout | undefined;
  readonly #busyTimeoutMs: number;
  readonly #lockPatienceMs: number;
  readonly #onNote: (message: string) => void;
  readonly #ownsDatabase: boolean;
  readonly #onError: (error: ArbiterError, runs: readonly string[]) => void;
  /** Runs whose writes a failed commit group lost, with why: their further writes are refused. */
  readonly #lost = new Map<string, ArbiterError>();
  #group: CommitGroup | undefined;
  /** Barriers fsync the WAL off the event loop (grouped commits with synchronous = normal). */
  readonly #walBarrier: boolean;
  #walFd: number | undefined;
  #walFlush: Promise<void> | undefined;
  #nextWalFlush: Promise<void> | undefined;
  /**
   * Grouped mode: the next seq and the keys of runs this connection appends to, so an append needs no
   * query. Valid while no other connection writes (checked with `PRAGMA data_version` as a group opens).
   */
  readonly #hot = new Map<string, HotRun>();
  /** Grouped mode: steps this connection logged as started and not yet ended, by run (same validity). */
  readonly #logged = new Map<string, Set<string>>();
  #dataVersion: number | undefined;
  /**
   * Runs this connection created or claimed and has not released: no other connection appends to them
   * (the lease), so their tails in memory stay valid when another connection commits — unless the lease
   * lapsed and another process took the run over (see `#dropTakenOver`).
   */
  readonly #held = new Set<string>();
  /**
   * The owner this connection last claimed each run for (kept after a release: a run that lost its lease
   * may still write here before it notices). Bounded like `#held`.
   */
  readonly #claims = new Map<string, string>();
  /** Another connection committed since the open group last checked who holds its runs. */
  #foreignCommits = false;
  /** Grouped mode: the chain's head and last checkpoint as the last group committed them (same validity). */
  #chain: CommitGroup["chain"];
  /** Whether the steps table (schema 4 and before) holds rows; read once. */
  #legacySteps: boolean | undefined;
  /** Units (savepoints or transactions) open now: a group never commits inside one. */
  #unitDepth = 0;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.#clock = options.clock ?? Date.now;
    this.#grouped = options.commit === "grouped";
    this.#walBarrier = this.#grouped && options.synchronous === "normal" && options.path !== ":memory:";
    this.#signer = options.signer;
    this.#checkpointEvery = options.checkpointEvery ?? 256;
    this.#checkpointIntervalMs = options.checkpointIntervalMs ?? 60_000;
    this.#checkpointGapMs = options.checkpointGapMs ?? 0;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.#lockPatienceMs = options.lockPatienceMs ?? 60_000;
    this.#onNote = options.onNote ?? (() => {});
    if (this.#grouped && options.database !== undefined) {
      // An open commit group would swallow (or collide with) the other stores' transactions.
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        'commit: "grouped" needs a connection of its own; drop the shared `database` option or use commit: "each"',
      );
    }
    this.#ownsDatabase = options.database === undefined;
    this.#onError = options.onError ?? (() => {});
    this.#db = openDatabase(options);
  }

  createRun(run: NewRun): RunRecord {
    if (this.#grouped) {
      return this.#guard("creating a run", "run", () => {
        // Looked up now; another process recording the same id before the group is written loses this
        // run then (see #loseTakenRun). An id the caller just made up is not looked up.
        const group = this.#group!;
        if (group.runs.has(run.id)) throw runExists(run.id);
        const found =
          run.fresh === true
            ? { run: 0, next: null }
            : (this.#stmt("runAndNextSeq").get(run.id) as { run: number; next: number | null });
        if (found.run === 1) throw runExists(run.id);
        // A new run with no journal yet (the usual case): its first append needs no query.
        if (found.next === null && !this.#hot.has(run.id) && !group.batches.has(run.id))
          this.#remember(run.id, { nextSeq: 1, keys: new Map() });
        this.#hold(run.id);
        const request = JSON.stringify(run.request ?? null);
        const record = newRunRecord(run, JSON.parse(request));
        group.runs.set(run.id, { record, request });
        group.created.add(run.id);
        group.touched.add(run.id);
        return record;
      });
    }
    return this.#guard("creating a run", "run", () => {
      const inserted = this.#stmt("insertRun").get(
        run.id,
        run.tenant,
        run.profile.name,
        run.profile.version,
        run.status ?? "created",
        run.createdAt,
        run.createdAt,
        JSON.stringify(run.request ?? null),
        v,
      );
      if (inserted === undefined) throw runExists(run.id);
      return toRun(inserted as Row);
    });
  }

  getRun(id: string): RunRecord | undefined {
    return this.#guard("reading a run", "read", () => {
      const pending = this.#group?.runs.get(id);
      if (pending !== undefined) return pending.record;
      const row = this.#stmt("getRun").get(id) as Row | undefined;
      if (row === undefined) return undefined;
      const update = this.#group?.updates.get(id);
      return update === undefined ? toRun(row) : updated(toRun(row), update);
    });
  }

  listRuns(filter: { status?: StoredRunStatus; limit?: number } = {}): RunRecord[] {
    return this.#guard("listing runs", "read", () => {
      this.#flushRuns();
      const where = filter.status === undefined ? "" : "WHERE status = ?";
      const params = filter.status === undefined ? [] : [filter.status];
      const rows = this.#db
        .prepare(`SELECT * FROM runs ${where} ORDER BY created_at DESC, id DESC LIMIT ?`)
        .all(...params, filter.limit ?? -1) as Row[];
      return rows.map(toRun);
    });
  }

  setRunStatus(id: string, status: StoredRunStatus, at: number): void {
    this.#guard("updating a run", "run", () => {
      this.#refuseLost(id);
      this.#group?.touched.add(id);
      const pending = this.#group?.runs.get(id);
      if (pending !== undefined) {
        pending.record = { ...pending.record, status, updatedAt: at };
        return;
      }
      const group = this.#group;
      if (group !== undefined) {
        // Written with the group. A run this connection holds is known to exist; another is looked up.
        if (!this.#held.has(id) && !group.updates.has(id) && this.#stmt("getRun").get(id) === undefined)
          throw unknownRun(id);
        updateOf(group, id).status = { status, at };
        return;
      }
      // No RETURNING: SQLite's UPDATE … RETURNING costs ~30 µs more (an ephemeral table) on the run's end.
      if (this.#stmt("setRunStatus").run(status, at, id).changes === 0) throw unknownRun(id);
    });
  }

  listUnfinished(options: { owner?: string; now?: number } = {}): RunRecord[] {
    return this.#guard("listing unfinished runs", "read", () => {
      this.#flushRuns();
      const rows =
        options.owner === undefined
          ? this.#stmt("listUnfinished").all()
          : this.#stmt("listUnfinishedFor").all(options.owner, options.now ?? this.#clock());
      return (rows as Row[]).map(toRun);
    });
  }

  claimRun(id: string, owner: string, until: number, now: number): boolean {
    return this.#guard("claiming a run", "run", () => {
      const pending = this.#group?.runs.get(id);
      if (pending !== undefined) {
        // The claimRun statement's condition, on the row as it will be inserted.
        const held = pending.record;
        if (!UNFINISHED_RUN_STATUSES.includes(held.status)) return false;
        if (
          held.owner !== null &&
          held.owner !== owner &&
          !(held.leaseUntil !== null && held.leaseUntil < now)
        )
          return false;
        pending.record = { ...held, owner, leaseUntil: until };
        this.#claimed(id, owner);
        return true;
      }
      this.#flushRuns(); // its buffered status or release decides the claim
      this.#lock();
      if (this.#stmt("claimRun").run(owner, until, id, owner, now).changes === 1) {
        this.#lost.delete(id); // taken up again from its record
        // Another process may have appended to it since it was last here: its tail is read again.
        this.#hot.delete(id);
        this.#logged.delete(id);
        this.#hold(id);
        this.#claimed(id, owner);
        return true;
      }
      if (this.#stmt("getRun").get(id) === undefined) throw unknownRun(id);
      return false;
    });
  }

  renewLease(id: string, owner: string, until: number): boolean {
    return this.#guard("renewing a run lease", "run", () => {
      const pending = this.#group?.runs.get(id);
      if (pending !== undefined) {
        if (pending.record.owner !== owner) return false;
        pending.record = { ...pending.record, leaseUntil: until };
        return true;
      }
      this.#flushRuns();
      this.#lock();
      return this.#stmt("renewLease").run(until, id, owner).changes === 1;
    });
  }

  releaseRun(id: string, owner: string): void {
    this.#guard("releasing a run", "run", () => {
      this.#held.delete(id);
      const pending = this.#group?.runs.get(id);
      if (pending !== undefined) {
        if (pending.record.owner === owner)
          pending.record = { ...pending.record, owner: null, leaseUntil: null };
        return;
      }
      const group = this.#group;
      if (group !== undefined) updateOf(group, id).releasedBy = owner;
      else this.#stmt("releaseRun").run(id, owner);
    });
  }

  loadSteps(runId: string): StepRecord[] {
    return this.#guard("reading steps", "read", () => {
      this.#flushSteps(runId);
      return this.#foldSteps(runId);
    });
  }

  startStep(step: NewStep): void {
    this.#guard("recording a step start", "grouped", () => {
      this.#refuseLost(step.runId);
      this.#pendStep(step.runId, step.name, step.attempt, { step });
    });
  }

  finishStep(runId: string, name: string, attempt: number, end: StepEnd): void {
    this.#guard("recording a step end", "grouped", () => {
      this.#refuseLost(runId);
      const pending = this.#group?.steps.get(runId)?.get(stepKey(name, attempt));
      if (pending !== undefined) {
        pending.end = end;
        return;
      }
      // Started in an earlier commit (a step not safe to repeat commits its start before it runs).
      const key = stepKey(name, attempt);
      this.#refreshUnheld(runId);
      if (this.#logged.get(runId)?.has(key) !== true) {
        this.#flushSteps(runId, true);
        if (!this.#foldSteps(runId).some((s) => s.name === name && s.attempt === attempt))
          throw new Error(`step "${name}" attempt ${attempt} of run "${runId}" never started`);
      }
      this.#pendStep(runId, name, attempt, { end });
    });
  }

  recordStep(step: NewStep, end: StepEnd): void {
    this.#guard("recording a step", "grouped", () => {
      this.#refuseLost(step.runId);
      this.#pendStep(step.runId, step.name, step.attempt, { step, end });
    });
  }

  /** Holds a step write for the group's one log row of the run; without a group, logs it at once. */
  #pendStep(runId: string, name: string, attempt: number, write: PendingStep): void {
    const group = this.#group;
    if (group !== undefined) {
      stepsOf(group, runId).set(stepKey(name, attempt), write);
      group.touched.add(runId);
      return;
    }
    this.#stmt("appendStepLog").run(runId, JSON.stringify([logRecord(name, attempt, write)]), v);
  }

  /** The run's steps: the steps table's rows, then the log's records in order (the last of an attempt wins). */
  #foldSteps(runId: string): StepRecord[] {
    const byKey = new Map<string, StepRecord>();
    // Nothing writes the steps table since schema 5: once found empty, it is not read again.
    this.#legacySteps ??= this.#stmt("anyLegacyStep").get() !== undefined;
    if (this.#legacySteps) {
      for (const row of this.#stmt("legacySteps").all(runId) as Row[]) {
        const step = toStep(row);
        byKey.set(stepKey(step.name, step.attempt), step);
      }
    }
    for (const row of this.#stmt("stepLogOf").all(runId) as Array<{ records: string; v: number }>) {
      for (const r of JSON.parse(row.records) as StepLogRecord[]) {
        const key = stepKey(r.n, r.a);
        if (r.f === 1) {
          const started = byKey.get(key);
          if (started !== undefined)
            byKey.set(key, { ...started, state: r.s, result: r.r, error: r.e, endedAt: r.d });
          continue;
        }
        byKey.set(key, {
          runId,
          name: r.n,
          attempt: r.a,
          state: r.s,
          result: r.r,
          error: r.e,
          idempotent: r.i === 1,
          startedAt: r.t ?? 0,
          endedAt: r.d,
          v: row.v,
        });
      }
    }
    return [...byKey.values()].sort((x, y) =>
      x.name < y.name ? -1 : x.name > y.name ? 1 : x.attempt - y.attempt,
    );
  }

  sendSignal(topic: string, payload: unknown, at: number): SignalRecord {
    return this.#guard("sending a signal", "now", () => this.#insertSignal(topic, payload, at));
  }

  takeSignal(topic: string, consumer: string, at: number): SignalRecord | undefined {
    return this.#guard("taking a signal", "now", () => {
      const row = (this.#stmt("takenSignal").get(topic, consumer) ??
        this.#stmt("takeSignal").get(consumer, at, topic)) as Row | undefined;
      return row === undefined ? undefined : toSignal(row);
    });
  }

  createApproval(approval: NewApproval): ApprovalRecord {
    return this.#guard("creating an approval", "now", () => {
      this.#refuseLost(approval.runId);
      const inserted = this.#stmt("insertApproval").run(
        approval.id,
        approval.runId,
        approval.taskId,
        approval.worker,
        approval.reason,
        approval.createdAt,
        approval.expiresAt ?? null,
        v,
      );
      if (inserted.changes === 0) throw approvalExists(approval.id);
      return toApproval(this.#stmt("getApproval").get(approval.id) as Row);
    });
  }

  getApproval(id: string): ApprovalRecord | undefined {
    return this.#guard("reading an approval", "read", () => {
      const row = this.#stmt("getApproval").get(id) as Row | undefined;
      return row === undefined ? undefined : toApproval(row);
    });
  }

  listApprovals(filter: { status?: ApprovalStatus; runId?: string } = {}): ApprovalRecord[] {
    return this.#guard("listing approvals", "read", () => {
      const where = whereOf({ "status = ?": filter.status, "run_id = ?": filter.runId });
      const rows = this.#db
        .prepare(`SELECT * FROM approvals ${where.sql} ORDER BY created_at, id`)
        .all(...where.args);
      return (rows as Row[]).map(toApproval);
    });
  }

  decideApproval(id: string, decision: ApprovalDecision): ApprovalRecord {
    type Outcome = { refused: ApprovalRecord } | { decided: ApprovalRecord };
    const outcome = this.#guard("deciding an approval", "now", () =>
      this.#transaction((): Outcome => {
        const row = this.#stmt("getApproval").get(id) as Row | undefined;
        if (row === undefined) throw unknownApproval(id);
        const current = toApproval(row);
        if (current.status === "pending" && effectiveStatus(current, decision.at) === "expired") {
          // Record the expiry (committed), then refuse the late decision.
          return { refused: this.#expire(id, decision.at) ?? current };
        }
        if (current.status !== "pending") return { refused: current };
        const decided = toApproval(
          this.#stmt("decideApproval").get(
            decision.status,
            decision.by,
            decision.at,
            decision.reason ?? null,
            JSON.stringify(decision.edit ?? null),
            id,
          ) as Row,
        );
        this.#insertSignal(approvalTopic(id), approvalSignalOf(decided), decision.at);
        return { decided };
      }),
    );
    if ("refused" in outcome) throw notPending(outcome.refused);
    return outcome.decided;
  }

  expireApproval(id: string, at: number): ApprovalRecord {
    return this.#guard("expiring an approval", "now", () =>
      this.#transaction(() => {
        const expired = this.#expire(id, at);
        if (expired !== undefined) return expired;
        const row = this.#stmt("getApproval").get(id) as Row | undefined;
        if (row === undefined) throw unknownApproval(id);
        return toApproval(row);
      }),
    );
  }

  appendEvent(event: RunEvent, key?: string): { entry: JournalEntry; appended: boolean } {
    if (this.#grouped)
      return this.#guard("appending to the journal", "grouped", () => this.#buffer(event, key));
    return this.#guard("appending to the journal", "grouped", () => {
      const insert = () => {
        const seq = this.#nextSeq(event.runId);
        this.#writeRow(event.runId, {
          seq,
          at: event.at,
          type: event.type,
          texts: [JSON.stringify(event)], // what the audit hash covers, byte for byte
          keys: [key ?? null],
          runEnded: event.type === "run-end",
        });
        return { entry: { seq, v: EVENT_SCHEMA_VERSION, event }, appended: true };
      };
      // The entry is its own link in the audit chain (one row); appends are serialised by the write lock.
      return this.#transaction(() => {
        if (key === undefined) return insert();
        const existing = this.#stmt("eventByKey").get(event.runId, key) as Row | undefined;
        return existing === undefined ? insert() : { entry: toEntry(existing), appended: false };
      });
    });
  }

  /**
   * A grouped append: numbered now, written with the run's other entries of this group as one row (one
   * link of the audit chain) when the group commits or something reads the run. Seq and keys come from memory.
   */
  #buffer(event: RunEvent, key: string | undefined): { entry: JournalEntry; appended: boolean } {
    const group = this.#group!;
    const { runId } = event;
    this.#refuseLost(runId);
    group.touched.add(runId);
    const run = this.#hotRun(runId);
    if (key !== undefined) {
      const seq = run.keys.get(key);
      if (seq !== undefined) {
        // Appended in this group: it is in memory (no write, no lock). Else it is in a row written before.
        const pending = group.batches.get(runId);
        if (pending !== undefined && seq >= pending.seq) {
          const event = JSON.parse(pending.texts[seq - pending.seq]!) as RunEvent;
          return { entry: { seq, v: EVENT_SCHEMA_VERSION, event }, appended: false };
        }
        const row = this.#stmt("rowAt").get(runId, seq) as Row;
        return { entry: entriesOf(row).find((e) => e.seq === seq)!, appended: false };
      }
    }
    // What the audit hash covers, byte for byte (verify hashes the stored text; no need to sort keys).
    const text = JSON.stringify(event);
    const seq = run.nextSeq;
    const batch = group.batches.get(runId);
    if (batch === undefined) {
      group.batches.set(runId, {
        seq,
        at: event.at,
        type: event.type,
        texts: [text],
        keys: [key ?? null],
        runEnded: event.type === "run-end",
      });
    } else {
      batch.texts.push(text);
      batch.keys.push(key ?? null);
      if (event.type === "run-end") batch.runEnded = true;
    }
    run.nextSeq = seq + 1;
    if (key !== undefined) run.keys.set(key, seq);
    if (event.type === "run-end") this.#hot.delete(runId); // read again should anything follow it
    return { entry: { seq, v: EVENT_SCHEMA_VERSION, event }, appended: true };
  }

  /** The run's next seq and keys: from memory, or read once from the database. */
  #hotRun(runId: string): HotRun {
    this.#refreshUnheld(runId);
    const known = this.#hot.get(runId);
    if (known !== undefined) return known;
    this.#flushRun(runId, true); // it may have entries waiting (it left the cache after its run-end)
    const seq = this.#nextSeq(runId);
    const keys = new Map<string, number>();
    for (const row of this.#stmt("keysOf").iterate(runId) as Iterable<{ key: string; seq: number }>)
      keys.set(row.key, row.seq);
    return this.#remember(runId, { nextSeq: seq, keys });
  }

  #remember(runId: string, run: HotRun): HotRun {
    if (this.#hot.size >= HOT_RUNS) this.#hot.delete(this.#hot.keys().next().value!);
    this.#hot.set(runId, run);
    return run;
  }

  /** Writes everything the open group buffered into its transaction. */
  #flush(): void {
    const group = this.#group;
    if (group === undefined || !hasWrites(group)) return;
    const flushers = group.flushers;
    this.#writing(group, () => {
      this.#writeRuns(group);
      for (const runId of [...group.batches.keys()]) this.#writeBatch(group, runId);
      for (const runId of [...group.steps.keys()]) this.#writeSteps(group, runId);
      if (flushers !== undefined) {
        group.flushers = undefined;
        for (const flush of flushers) flush();
      }
    });
  }

  /**
   * Writes the run's buffered entries (before a read of them), leaving other runs' to the commit.
   * `appending`: for an append of the run's, which cannot simply fail (see `#writing`).
   */
  #flushRun(runId: string, appending = false): void {
    const group = this.#group;
    if (group?.batches.has(runId)) this.#writing(group, () => this.#writeBatch(group, runId), appending);
  }

  /** Inserts the runs created in the open group (before a read of the runs table). */
  #flushRuns(): void {
    const group = this.#group;
    if (group !== undefined && (group.runs.size > 0 || group.updates.size > 0))
      this.#writing(group, () => this.#writeRuns(group));
  }

  #writeRuns(group: CommitGroup): void {
    for (const [id, { record, request }] of group.runs) {
      group.runs.delete(id);
      const inserted = this.#stmt("insertRunRow").run(
        id,
        record.tenant,
        record.profile.name,
        record.profile.version,
        record.status,
        record.owner,
        record.leaseUntil,
        record.createdAt,
        record.updatedAt,
        request,
        v,
      );
      if (inserted.changes === 0) this.#loseTakenRun(group, id);
    }
    for (const [id, update] of group.updates) {
      group.updates.delete(id);
      if (update.status !== undefined)
        this.#stmt("setRunStatus").run(update.status.status, update.status.at, id);
      if (update.releasedBy !== undefined) this.#stmt("releaseRun").run(id, update.releasedBy);
    }
  }

  /**
   * Another process recorded a run with the same id since `createRun` checked (the group takes the write
   * lock only as it writes): this run's writes are dropped and it is refused from now on; the group's
   * other runs commit.
   */
  #loseTakenRun(group: CommitGroup, id: string): void {
    const error = runExists(id);
    this.#dropRun(group, id, lostWrites(id, true, error));
    this.#onError(error, [id]);
  }

  /**
   * One run's writes leave the open group (the others commit), what this connection remembers of the run
   * is forgotten, and its further writes here are refused with `why`.
   */
  #dropRun(group: CommitGroup, id: string, why: ArbiterError): void {
    group.batches.delete(id);
    group.steps.delete(id);
    group.updates.delete(id);
    group.created.delete(id);
    group.touched.delete(id);
    this.#hot.delete(id);
    this.#logged.delete(id);
    this.#held.delete(id);
    this.#refuse(id, why);
  }

  /** Refuses the run's further writes with `why` (bounded: the oldest entries belong to runs long stopped). */
  #refuse(id: string, why: ArbiterError): void {
    if (this.#lost.size >= LOST_RUNS) this.#lost.delete(this.#lost.keys().next().value!);
    this.#lost.set(id, why);
  }

  #flushSteps(runId: string, appending = false): void {
    const group = this.#group;
    if (group?.steps.has(runId)) this.#writing(group, () => this.#writeSteps(group, runId), appending);
  }

  /**
   * Writes part of the open group into its transaction, taking the write lock first. Should another
   * process hold it past the busy timeout, nothing of the group is written yet: a read is told (the
   * group keeps waiting to commit); a run's own append or step end, which its run cannot go on without,
   * loses the group as a failed commit does (its runs stop, resumable) rather than fail the run itself.
   */
  #writing(group: CommitGroup, write: () => void, appending = false): void {
    if (!group.locked) {
      try {
        this.#lock();
      } catch (cause) {
        if (appending) this.#failGroup(group, cause);
        throw cause;
      }
    }
    try {
      write();
    } catch (cause) {
      // Half a group must not commit: the whole group is lost, and said so.
      this.#failGroup(group, cause);
      throw cause;
    }
  }

  /** One row for the run's entries of this group. */
  #writeBatch(group: CommitGroup, runId: string): void {
    const batch = group.batches.get(runId)!;
    group.batches.delete(runId);
    this.#writeRow(runId, batch);
  }

  /**
   * Writes a run's consecutive entries as one row: the next link of the audit chain (a row of one entry
   * is hashed as that entry, exactly as schema 3 wrote it).
   */
  #writeRow(runId: string, batch: PendingBatch): void {
    const head = this.#group?.chain ?? this.#chainHead();
    const gseq = (head?.gseq ?? 0) + 1;
    const prev = head?.hash ?? GENESIS;
    const n = batch.texts.length;
    const format = EVENT_SCHEMA_VERSION;
    const one = n === 1;
    const text = one ? batch.texts[0]! : `[${batch.texts.join(",")}]`;
    const hash = one
      ? entryHash(prev, { gseq, runId, seq: batch.seq, v: format, eventText: text })
      : batchHash(prev, { gseq, runId, seq: batch.seq, n, v: format, eventsText: text });
    const keys = !one && batch.keys.some((k) => k !== null) ? JSON.stringify(batch.keys) : null;
    this.#stmt("appendEvent").run(
      gseq,
      runId,
      batch.seq,
      n,
      format,
      one ? batch.type : null,
      batch.at,
      one ? batch.keys[0]! : null,
      keys,
      text,
      prev,
      hash,
    );
    this.#checkpointIfDue(gseq + n - 1, hash, batch.runEnded);
  }

  /** One log row for the run's step writes of this group. */
  #writeSteps(group: CommitGroup, runId: string): void {
    const steps = group.steps.get(runId)!;
    group.steps.delete(runId);
    const records: StepLogRecord[] = [];
    let logged = this.#logged.get(runId);
    for (const [key, write] of steps) {
      const cut = key.lastIndexOf("\u0000");
      records.push(logRecord(key.slice(0, cut), Number(key.slice(cut + 1)), write));
      if (write.step !== undefined && write.end === undefined) {
        // Started, not ended: its end comes in a later group (known here, so it needs no read then).
        if (logged === undefined) {
          if (this.#logged.size >= HOT_RUNS) this.#logged.delete(this.#logged.keys().next().value!);
          logged = new Set();
          this.#logged.set(runId, logged);
        }
        logged.add(key);
      } else logged?.delete(key);
    }
    this.#stmt("appendStepLog").run(runId, JSON.stringify(records), v);
  }

  /** The run's next seq, from the database. */
  #nextSeq(runId: string): number {
    return (this.#stmt("nextSeq").get(runId) as { next: number } | undefined)?.next ?? 1;
  }

  /** The last chain position written and its hash, from the database. */
  #chainHead(): { gseq: number; hash: string } | undefined {
    const row = this.#stmt("chainHead").get() as { head: number; hash: string } | undefined;
    return row === undefined ? undefined : { gseq: row.head, hash: row.hash };
  }

  /** Records the appended link as the head, and signs a checkpoint every N entries, T ms, or run end. */
  #checkpointIfDue(gseq: number, hash: string, runEnded: boolean): void {
    const group = this.#group;
    const cached = group?.chain;
    const last = cached
      ? cached.checkpoint
      : (this.#stmt("lastCheckpoint").get() as { size: number; at: number } | undefined);
    if (group !== undefined) group.chain = { gseq, hash, checkpoint: last };
    const signer = this.#signer;
    if (signer === undefined) return;
    const now = this.#clock();
    const due =
      gseq - (last?.size ?? 0) >= this.#checkpointEvery ||
      (last !== undefined && gseq > last.size && now - last.at >= this.#checkpointIntervalMs);
    if (!due && !runEnded) return;
    // Also at the end of every run, so a truncated tail of a finished run never goes unnoticed: at once,
    // or (one signed less than the gap ago) as the gap ends.
    if (!due && last !== undefined && now - last.at < this.#checkpointGapMs) {
      this.#scheduleCheckpoint(last.at + this.#checkpointGapMs - now);
      return;
    }
    if (group !== undefined) {
      // In a commit group, one signature at commit covers every checkpoint due in it (runs ending together).
      group.signDue = true;
      group.chain = { gseq, hash, checkpoint: { size: gseq, at: now } };
      return;
    }
    this.#sign(gseq, hash, now);
  }

  #scheduleCheckpoint(delayMs: number): void {
    if (this.#checkpointTimer !== undefined) return;
    this.#checkpointTimer = setTimeout(
      () => {
        this.#checkpointTimer = undefined;
        if (!this.#db.isOpen) return;
        try {
          this.checkpoint();
        } catch (error) {
          this.#onError(storeError(error, this.path, "writing an audit checkpoint failed"), []);
        }
      },
      Math.max(0, delayMs),
    );
    this.#checkpointTimer.unref();
  }

  #sign(size: number, head: string, at: number): void {
    const signer = this.#signer!;
    this.#stmt("addCheckpoint").run(
      size,
      head,
      at,
      signer.publicKey,
      signer.sign(checkpointMessage(size, head, at)),
    );
  }

  /** Signs a checkpoint of the chain as it is now (e.g. before exporting it). */
  checkpoint(): { size: number; head: string } | undefined {
    const signer = this.#signer;
    if (signer === undefined) return undefined;
    this.#chain = undefined; // a checkpoint signed here: the next group reads the last one again
    return this.#guard("writing an audit checkpoint", "now", () =>
      this.#transaction(() => {
        this.#flush();
        const head = this.#chainHead();
        if (head === undefined) return undefined;
        const last = this.#stmt("lastCheckpoint").get() as { size: number } | undefined;
        if (last?.size !== head.gseq) {
          const now = this.#clock();
          this.#stmt("addCheckpoint").run(
            head.gseq,
            head.hash,
            now,
            signer.publicKey,
            signer.sign(checkpointMessage(head.gseq, head.hash, now)),
          );
          if (this.#group !== undefined) this.#group.chain = undefined; // its last checkpoint changed
        }
        return { size: head.gseq, head: head.hash };
      }),
    );
  }

  /**
   * Runs `fn` all-or-nothing as one unit of this store's writes: in grouped mode it joins the open
   * commit group (other stores sharing the connection use this, e.g. the cost ledger).
   */
  unit<T>(action: string, fn: () => T): T {
    return this.#guard(action, "grouped", () => this.#transaction(fn));
  }

  /**
   * For a writer sharing the connection that buffers its own writes (the cost ledger): joins (or opens)
   * the commit group and has `flush` write them into it before it commits. False without commit groups
   * (the caller then writes at once).
   */
  deferUntilCommit(action: string, flush: () => void): boolean {
    if (!this.#grouped) return false;
    this.#guard(action, "grouped", () => {
      const group = this.#group!;
      group.flushers ??= new Set();
      group.flushers.add(flush);
    });
    return true;
  }

  /**
   * The raw database, for the audit verifier and stores sharing the file. Journal entries and steps
   * this store buffered so far are written into it (uncommitted while a commit group is open).
   */
  get database(): DatabaseSync {
    this.#flush();
    return this.#db;
  }

  readEvents(runId: string, afterSeq = 0, limit?: number): JournalEntry[] {
    return this.#guard("reading the journal", "read", () => {
      this.#flushRun(runId);
      const rows = this.#stmt("readEvents").all(runId, runId, afterSeq + 1) as Row[];
      const entries = rows.flatMap(entriesOf).filter((e) => e.seq > afterSeq);
      return limit === undefined ? entries : entries.slice(0, limit);
    });
  }

  /**
   * Resolves once every write made so far is committed (at once unless a commit group is open) and,
   * with WAL barriers (grouped, synchronous = normal), on disk.
   */
  sync(): Promise<void> {
    const committed = this.commit();
    return this.#walBarrier ? committed.then(() => this.#flushWal()) : committed;
  }

  /**
   * Resolves once every write made so far is committed (at once unless a commit group is open), without
   * the fsync of a WAL barrier: what a crash of the process cannot take back (a power loss may).
   */
  /** The run's record is committed: at once (`undefined`) unless it was created in the open group. */
  runRecorded(runId: string): Promise<void> | undefined {
    const lost = this.#lost.get(runId);
    if (lost !== undefined) return Promise.reject(lost);
    return this.#group?.created.has(runId) === true ? this.commit() : undefined;
  }

  /** Why the run's writes are refused (a failed commit lost some of them), if they are. */
  lostReason(runId: string): ArbiterError | undefined {
    return this.#lost.get(runId);
  }

  /** A run whose writes a failed commit lost writes nothing more (its record would skip what was lost). */
  #refuseLost(runId: string): void {
    const lost = this.#lost.get(runId);
    if (lost !== undefined) throw lost;
  }

  commit(): Promise<void> {
    const group = this.#group;
    if (group === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
  }

  close(): void {
    if (!this.#db.isOpen) return;
    this.#commitGroup();
    if (this.#checkpointTimer !== undefined) {
      // A run's end waits for its checkpoint: sign the head now.
      clearTimeout(this.#checkpointTimer);
      this.#checkpointTimer = undefined;
      this.checkpoint();
    }
    if (this.#ownsDatabase) this.#db.close();
    if (this.#walFd !== undefined) {
      closeSync(this.#walFd);
      this.#walFd = undefined;
    }
  }

  /** One fsync of the WAL that starts after this call: joins the next one when one is already running. */
  #flushWal(): Promise<void> {
    if (this.#nextWalFlush !== undefined) return this.#nextWalFlush;
    const running = this.#walFlush;
    if (running === undefined) return this.#startWalFlush();
    // The running fsync may have started before this commit: wait for the one after it.
    const next = running
      .catch(() => {})
      .then(() => {
        this.#nextWalFlush = undefined;
        return this.#startWalFlush();
      });
    this.#nextWalFlush = next;
    return next;
  }

  #startWalFlush(): Promise<void> {
    const flush: Promise<void> = new Promise<void>((resolve, reject) => {
      try {
        // fsync flushes the file, whichever descriptor wrote it; the WAL lives while a connection is open.
        this.#walFd ??= openSync(`${this.path}-wal`, "r");
      } catch (cause) {
        reject(storeError(cause, this.path, "opening the write-ahead log to flush it failed"));
        return;
      }
      fsync(this.#walFd, (cause) =>
        cause === null
          ? resolve()
          : reject(storeError(cause, this.path, "flushing the write-ahead log failed")),
      );
    }).finally(() => {
      if (this.#walFlush === flush) this.#walFlush = undefined;
    });
    this.#walFlush = flush;
    return flush;
  }

  #expire(id: string, at: number): ApprovalRecord | undefined {
    const row = this.#stmt("expireApproval").get(at, id) as Row | undefined;
    if (row === undefined) return undefined;
    const expired = toApproval(row);
    this.#insertSignal(approvalTopic(id), approvalSignalOf(expired), at);
    return expired;
  }

  #insertSignal(topic: string, payload: unknown, at: number): SignalRecord {
    return toSignal(this.#stmt("insertSignal").get(topic, JSON.stringify(payload ?? null), at, v) as Row);
  }

  #transaction<T>(fn: () => T): T {
    // Inside an open commit group, a savepoint keeps this unit all-or-nothing without ending the group.
    const [begin, commit, rollback] = this.#group
      ? ["SAVEPOINT unit", "RELEASE unit", "ROLLBACK TO unit; RELEASE unit"]
      : ["BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"];
    this.#lock();
    this.#db.exec(begin);
    this.#unitDepth++;
    try {
      const result = fn();
      this.#db.exec(commit);
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec(rollback);
      if (this.#group !== undefined) this.#group.chain = undefined; // rolled back: read it again
      throw error;
    } finally {
      this.#unitDepth--;
    }
  }

  #stmt(name: keyof typeof sql): StatementSync {
    let statement = this.#statements.get(name);
    if (statement === undefined) {
      statement = this.#db.prepare(sql[name]);
      this.#statements.set(name, statement);
    }
    return statement;
  }

  /**
   * Runs one store operation, translating SQLite failures. `grouped` writes (steps, journal) and `run`
   * writes (run rows and leases: atomic all the same, since a group holds the write lock) join the
   * open commit group in grouped mode; `now` writes commit at once, together with the group.
   */
  #guard<T>(action: string, write: "read" | "now" | "grouped" | "run", fn: () => T): T {
    try {
      if ((write === "grouped" || write === "run") && this.#grouped) {
        // A caller that never yields to the event loop (back-to-back runs on instant models) would keep
        // one group open: past a bound, it commits here and a new one opens.
        // (Never inside a unit: its savepoint must be released before the group commits.)
        if (this.#group !== undefined && ++this.#group.writes > GROUP_WRITES && this.#unitDepth === 0)
          this.#commitGroup();
        if (this.#group === undefined) this.#openGroup();
      }
      if (write === "now") this.#lock(); // a write that commits at once commits the open group with it
      const result = fn();
      if (write === "now" && this.#group !== undefined && this.#unitDepth === 0) this.#commitGroup();
      return result;
    } catch (error) {
      throw storeError(error, this.path, `${action} failed`);
    }
  }

  #openGroup(): void {
    this.#group = {
      locked: false,
      refreshed: false,
      waiters: [],
      batches: new Map(),
      steps: new Map(),
      runs: new Map(),
      updates: new Map(),
      created: new Set(),
      touched: new Set(),
      writes: 0,
    };
    if (this.#chain !== undefined) this.#group.chain = this.#chain;
    setImmediate(() => this.#commitGroup(true));
  }

  /**
   * The open group takes the write lock (once): before any write to the database. Another connection
   * may have committed since the group opened: what this one keeps in memory is checked again under it.
   */
  #lock(): void {
    const group = this.#group;
    if (group === undefined || group.locked) return;
    this.#db.exec("BEGIN IMMEDIATE");
    group.locked = true;
    group.refreshed = true;
    // A group waiting for the lock (its end of turn passed) commits in the next turn, not at its next try.
    if (group.busySince !== undefined) setImmediate(() => this.#group === group && this.#commitGroup(true));
    this.#refresh();
  }

  /**
   * Before the open group relies on the tail in memory of a run this connection does not hold: checked
   * once per group (a read of `PRAGMA data_version`, ~6 µs outside a transaction). A run it holds needs
   * no check, and the chain's head is checked under the write lock.
   */
  #refreshUnheld(runId: string): void {
    const group = this.#group;
    if (group === undefined || group.refreshed || this.#held.has(runId)) return;
    group.refreshed = true;
    this.#refresh();
  }

  /**
   * When another connection committed since this one last looked (`PRAGMA data_version`), the chain's
   * head in memory is stale, and so are the tails of runs this connection does not hold (another process
   * may have appended to them: a run waiting for a person is taken up wherever the decision is seen).
   */
  #refresh(): void {
    const { data_version: version } = this.#stmt("dataVersion").get() as { data_version: number };
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    this.#foreignCommits = true;
    this.#chain = undefined;
    if (this.#group !== undefined) this.#group.chain = undefined;
    for (const runId of this.#hot.keys()) if (!this.#held.has(runId)) this.#hot.delete(runId);
    for (const runId of this.#logged.keys()) if (!this.#held.has(runId)) this.#logged.delete(runId);
  }

  /** A run this connection created or claimed: see `#held` (bounded: the oldest are forgotten first). */
  #hold(runId: string): void {
    if (this.#held.size >= HOT_RUNS) this.#held.delete(this.#held.keys().next().value!);
    this.#held.add(runId);
  }

  #claimed(runId: string, owner: string): void {
    this.#claims.delete(runId); // the newest last
    if (this.#claims.size >= HOT_RUNS) this.#claims.delete(this.#claims.keys().next().value!);
    this.#claims.set(runId, owner);
  }

  /**
   * Under the write lock, once another connection has committed since the last look: a run this one
   * holds may have been taken over meanwhile (its lease lapsed while this process was stopped, stalled
   * or cut off, and another process claimed it). Its writes buffered here would collide with the new
   * holder's; they are dropped and the run is refused here from now on (it goes on there), while the
   * group's other runs commit.
   */
  #dropTakenOver(group: CommitGroup): void {
    this.#foreignCommits = false;
    const ours = new Map<string, string>();
    for (const runs of [group.batches, group.steps, group.updates]) {
      for (const id of runs.keys()) {
        const owner = this.#claims.get(id);
        if (owner !== undefined && !group.runs.has(id)) ours.set(id, owner);
      }
    }
    if (ours.size === 0) return;
    const rows = this.#stmt("holdersOf").all(JSON.stringify([...ours.keys()])) as Array<{
      id: string;
      owner: string | null;
      next: number | null;
    }>;
    for (const { id, owner, next } of rows) {
      // Held by another process now, or appended to by one (which may have finished and released it).
      const batch = group.batches.get(id);
      const appended = batch !== undefined && (next ?? 1) !== batch.seq;
      if (!appended && (owner === null || owner === ours.get(id))) continue;
      const error = new ArbiterError(
        ErrorCode.LeaseLost,
        `run "${id}" was taken over by another process${owner === null ? "" : ` (${owner})`} while this one did not renew its lease ` +
          "(stopped, stalled or cut off for longer than the lease): its last writes here were dropped, and the run goes on there.",
        { details: { runId: id, owner } },
      );
      this.#dropRun(group, id, error);
      this.#onError(error, [id]);
    }
  }

  /**
   * Commits the open group. `patient` (the group's own end of turn, and its retries): when another
   * process holds the write lock, the group keeps its writes and tries again later without blocking
   * (see `#lockOrWait`, `lockPatienceMs`) instead of waiting inside SQLite or being given up.
   */
  #commitGroup(patient = false): void {
    const group = this.#group;
    if (group === undefined) return;
    if (!group.locked && hasWrites(group) && !this.#lockOrWait(group, patient)) return;
    clearRetry(group);
    if (group.locked && this.#foreignCommits) {
      try {
        this.#dropTakenOver(group);
      } catch (cause) {
        this.#failGroup(group, cause);
        return;
      }
    }
    try {
      this.#flush();
    } catch {
      return; // the group failed and was reported
    }
    this.#group = undefined;
    if (!group.locked) {
      // Nothing was written (a group opened for a write that found nothing to do): nothing to commit.
      for (const waiter of group.waiters) waiter.resolve();
      return;
    }
    try {
      if (group.signDue && this.#signer !== undefined) {
        const head = group.chain ?? this.#chainHead();
        if (head !== undefined) this.#sign(head.gseq, head.hash, this.#clock());
      }
      this.#db.exec("COMMIT");
    } catch (cause) {
      this.#failGroup(group, cause);
      return;
    }
    this.#chain = group.chain;
    if (group.noted) {
      const waited = ((this.#clock() - group.busySince!) / 1000).toFixed(1);
      this.#onNote(`${this.path} can be written again: the writes that waited ${waited} s are committed`);
    }
    for (const waiter of group.waiters) waiter.resolve();
  }

  /**
   * Takes the write lock for the group's commit. A patient commit (the group's end of turn, its retries)
   * never waits inside SQLite: held by another process, the group tries again in a moment while the
   * event loop goes on, until `lockPatienceMs` has passed since the first refusal; then, or for any
   * other failure, the group is given up. A last try (closing, a full group) waits the busy timeout.
   */
  #lockOrWait(group: CommitGroup, patient: boolean): boolean {
    try {
      if (patient) this.#db.exec("PRAGMA busy_timeout = 0");
      try {
        this.#lock();
      } finally {
        if (patient) this.#db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
      }
      return true;
    } catch (cause) {
      const now = this.#clock();
      group.busySince ??= now;
      const waited = now - group.busySince;
      if (!patient || !isBusy(cause) || waited >= this.#lockPatienceMs) {
        this.#failGroup(group, cause);
        return false;
      }
      if (!group.noted && waited >= this.#busyTimeoutMs) {
        // Longer than any write would wait: a long transaction of another process, not a commit.
        group.noted = true;
        const runs = group.touched.size;
        this.#onNote(
          `${this.path} is locked by another process: the writes of ${runs} run${runs === 1 ? "" : "s"} wait in ` +
            `memory and are tried again every ${LOCK_RETRY_MS} ms, for up to ${Math.round(this.#lockPatienceMs / 1000)} s ` +
            "(a step that is not safe to repeat waits for them)",
        );
      }
      if (group.retry === undefined) {
        const tries = group.tries ?? 0;
        group.tries = tries + 1;
        const retry = () => {
          group.retry = undefined;
          if (this.#group === group) this.#commitGroup(true);
        };
        const delay = LOCK_BACKOFF_MS[tries] ?? LOCK_RETRY_MS;
        if (delay === 0) {
          const next = setImmediate(retry);
          group.retry = () => clearImmediate(next);
        } else {
          const next = setTimeout(retry, delay);
          group.retry = () => clearTimeout(next);
        }
      }
      return false;
    }
  }

  /** Rolls a commit group back: its writes are lost, its waiters and `onError` are told. */
  #failGroup(group: CommitGroup, cause: unknown): void {
    clearRetry(group);
    if (this.#group === group) this.#group = undefined;
    this.#hot.clear(); // the buffered seqs and keys never made it
    this.#logged.clear();
    this.#chain = undefined;
    if (this.#db.isOpen && this.#db.isTransaction) this.#db.exec("ROLLBACK");
    const error = storeError(cause, this.path, "committing grouped writes failed (they were lost)");
    const runs = [...group.touched];
    for (const runId of runs) this.#refuse(runId, lostWrites(runId, group.created.has(runId), error));
    for (const waiter of group.waiters) waiter.reject(error);
    this.#onError(error, runs);
  }
}

function clearRetry(group: CommitGroup): void {
  group.retry?.();
  group.retry = undefined;
}

/** Whether the group has anything to write (a group may open for a write that found nothing to do). */
function hasWrites(group: CommitGroup): boolean {
  return (
    group.runs.size > 0 ||
    group.updates.size > 0 ||
    group.batches.size > 0 ||
    group.steps.size > 0 ||
    group.flushers !== undefined
  );
}

/** Why a run's further writes are refused after a commit group with some of them failed. */
function lostWrites(runId: string, created: boolean, cause: ArbiterError): ArbiterError {
  return new ArbiterError(
    ErrorCode.StoreError,
    created
      ? `run "${runId}" was never recorded: ${cause.message} It stopped before any side effect; send its request again once the database can be written.`
      : `run "${runId}" lost its last writes: ${cause.message} It stopped here; once the database can be written again, \`arbiter resume\` continues it from its last commit.`,
    { cause, details: { ...cause.details, runId } },
  );
}

function toRun(row: Row): RunRecord {
  return {
    id: row.id as string,
    tenant: row.tenant as string,
    profile: { name: row.profile_name as string, version: row.profile_version as string },
    status: row.status as StoredRunStatus,
    owner: (row.owner as string | null) ?? null,
    leaseUntil: (row.lease_until as number | null) ?? null,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    request: JSON.parse(row.request as string),
    v: row.v as number,
  };
}

function toStep(row: Row): StepRecord {
  return {
    runId: row.run_id as string,
    name: row.name as string,
    attempt: row.attempt as number,
    state: row.state as StepRecord["state"],
    result: (row.result as string | null) ?? null,
    error: row.error === null ? null : JSON.parse(row.error as string),
    idempotent: row.idempotent === 1,
    startedAt: row.started_at as number,
    endedAt: (row.ended_at as number | null) ?? null,
    v: row.v as number,
  };
}

function toSignal(row: Row): SignalRecord {
  return {
    id: row.id as number,
    topic: row.topic as string,
    payload: JSON.parse(row.payload as string),
    createdAt: row.created_at as number,
    consumedBy: (row.consumed_by as string | null) ?? null,
    consumedAt: (row.consumed_at as number | null) ?? null,
    v: row.v as number,
  };
}

function toApproval(row: Row): ApprovalRecord {
  return {
    id: row.id as string,
    runId: row.run_id as string,
    taskId: row.task_id as string,
    worker: row.worker as string,
    reason: row.reason as string,
    status: row.status as ApprovalStatus,
    createdAt: row.created_at as number,
    expiresAt: (row.expires_at as number | null) ?? null,
    decidedBy: (row.decided_by as string | null) ?? null,
    decidedAt: (row.decided_at as number | null) ?? null,
    decisionReason: (row.decision_reason as string | null) ?? null,
    edit: row.edit === null ? null : JSON.parse(row.edit as string),
    v: row.v as number,
  };
}

function toEntry(row: Row): JournalEntry {
  return { seq: row.seq as number, v: row.v as number, event: JSON.parse(row.event as string) };
}

function stepKey(name: string, attempt: number): string {
  return `${name}\u0000${attempt}`;
}

/** A step write as the log records it. */
function logRecord(name: string, attempt: number, write: PendingStep): StepLogRecord {
  const { step, end } = write;
  const ended = {
    r: end?.state === "completed" ? end.result : null,
    e: end?.state === "failed" ? end.error : null,
    d: end?.endedAt ?? null,
  };
  if (step === undefined) return { n: name, a: attempt, f: 1, s: end!.state, ...ended };
  return {
    n: name,
    a: attempt,
    s: end?.state ?? "started",
    i: step.idempotent ? 1 : 0,
    t: step.startedAt,
    ...ended,
  };
}

function updateOf(group: CommitGroup, runId: string): RunUpdate {
  let update = group.updates.get(runId);
  if (update === undefined) {
    update = {};
    group.updates.set(runId, update);
  }
  return update;
}

/** A run's record as the open group's buffered changes leave it. */
function updated(run: RunRecord, update: RunUpdate): RunRecord {
  const { status, releasedBy } = update;
  const released = releasedBy !== undefined && run.owner === releasedBy;
  return {
    ...run,
    ...(status !== undefined ? { status: status.status, updatedAt: status.at } : {}),
    ...(released ? { owner: null, leaseUntil: null } : {}),
  };
}

function stepsOf(group: CommitGroup, runId: string): Map<string, PendingStep> {
  let steps = group.steps.get(runId);
  if (steps === undefined) {
    steps = new Map();
    group.steps.set(runId, steps);
  }
  return steps;
}

/** The entries a journal row holds: one event, or (n > 1) a JSON array of n consecutive ones. */
function entriesOf(row: Row): JournalEntry[] {
  const seq = row.seq as number;
  const v = row.v as number;
  if (row.n === 1) return [{ seq, v, event: JSON.parse(row.event as string) }];
  return (JSON.parse(row.event as string) as RunEvent[]).map((event, i) => ({ seq: seq + i, v, event }));
}
