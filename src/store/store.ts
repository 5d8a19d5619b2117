import type { JournalEntry, RunEvent, RunStatus } from "../journal/events.ts";

/** Version of the stored row formats; every run, step, signal and approval row carries the one it was written with. */
export const STORE_SCHEMA_VERSION = 5;

/**
 * Lifecycle of a stored run: `created` (admitted, nothing executed), `running`, `waiting` (only
 * waiting branches remain, e.g. for a human), then one of the terminal statuses of `run-end`.
 */
export type StoredRunStatus = "created" | "running" | "waiting" | RunStatus;

/** Every stored run status, in lifecycle order. */
export const RUN_STATUSES: readonly StoredRunStatus[] = [
  "created",
  "running",
  "waiting",
  "completed",
  "partial",
  "failed",
  "escalated",
];

/** Statuses a run can still move on from; `listUnfinished` returns these. */
export const UNFINISHED_RUN_STATUSES: readonly StoredRunStatus[] = ["created", "running", "waiting"];

export interface RunRecord {
  readonly id: string;
  readonly tenant: string;
  readonly profile: { readonly name: string; readonly version: string };
  readonly status: StoredRunStatus;
  /** The process that holds the run's lease, or null. */
  readonly owner: string | null;
  /** Milliseconds since the epoch when the owner's lease lapses unless renewed. */
  readonly leaseUntil: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The admitted request (JSON), so a resumed run can be re-run from the beginning. */
  readonly request: unknown;
  /** Schema version the row was written with. */
  readonly v: number;
}

export interface NewRun {
  id: string;
  tenant: string;
  profile: { name: string; version: string };
  request: unknown;
  createdAt: number;
  status?: StoredRunStatus;
  /**
   * The caller has just made this id up (a new random id): a store may skip looking it up. Should it be
   * taken after all, the run is refused as its writes are committed (`runExists`) — never merged.
   */
  fresh?: boolean;
}

/** A run's record as created: nobody holds it yet; `request` as the store keeps it (a copy). */
export function newRunRecord(run: NewRun, request: unknown): RunRecord {
  return {
    id: run.id,
    tenant: run.tenant,
    profile: { name: run.profile.name, version: run.profile.version },
    status: run.status ?? "created",
    owner: null,
    leaseUntil: null,
    createdAt: run.createdAt,
    updatedAt: run.createdAt,
    request,
    v: STORE_SCHEMA_VERSION,
  };
}

export type StepState = "started" | "completed" | "failed";

/** Why a step failed, as recorded (the thrown value itself is not persisted). */
export interface StepError {
  readonly name: string;
  readonly message: string;
  /** The `ArbiterError` code, when the step threw one. */
  readonly code?: string;
}

/** One execution of a step. A step name executes again (attempt + 1) only after a failed attempt. */
export interface StepRecord {
  readonly runId: string;
  readonly name: string;
  readonly attempt: number;
  readonly state: StepState;
  /** The encoded result (see `durable/local/step-codec.ts`); null until completed, or for `undefined`. */
  readonly result: string | null;
  readonly error: StepError | null;
  readonly idempotent: boolean;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly v: number;
}

export interface NewStep {
  runId: string;
  name: string;
  attempt: number;
  idempotent: boolean;
  startedAt: number;
}

export type StepEnd =
  | { state: "completed"; result: string | null; endedAt: number }
  | { state: "failed"; error: StepError; endedAt: number };

export interface SignalRecord {
  readonly id: number;
  readonly topic: string;
  readonly payload: unknown;
  readonly createdAt: number;
  /** Who took the signal (`<run id>/<step name>`), or null while it waits to be taken. */
  readonly consumedBy: string | null;
  readonly consumedAt: number | null;
  readonly v: number;
}

export type ApprovalStatus = "pending" | "approved" | "denied" | "expired";

export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ["pending", "approved", "denied", "expired"];

export interface ApprovalRecord {
  readonly id: string;
  readonly runId: string;
  readonly taskId: string;
  readonly worker: string;
  readonly reason: string;
  readonly status: ApprovalStatus;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
  /** The decider's reason. */
  readonly decisionReason: string | null;
  /** Replacement input the approver supplied (JSON), or null. */
  readonly edit: unknown;
  readonly v: number;
}

export interface NewApproval {
  id: string;
  runId: string;
  taskId: string;
  worker: string;
  reason: string;
  createdAt: number;
  expiresAt?: number | null;
}

export interface ApprovalDecision {
  status: "approved" | "denied";
  by: string;
  reason?: string;
  edit?: unknown;
  at: number;
}

/** What `decideApproval`/`expireApproval` deliver on `approvalTopic(id)`. */
export interface ApprovalSignal {
  approvalId: string;
  status: Exclude<ApprovalStatus, "pending">;
  by: string | null;
  reason: string | null;
  edit: unknown;
  at: number;
}

/** The signal topic an approval's decision (or expiry) is delivered on. */
export function approvalTopic(approvalId: string): string {
  return `approval:${approvalId}`;
}

/** The payload an approval's decision or expiry delivers to the waiting run. */
export function approvalSignalOf(approval: ApprovalRecord): ApprovalSignal {
  return {
    approvalId: approval.id,
    status: approval.status === "pending" ? "expired" : approval.status,
    by: approval.decidedBy,
    reason: approval.decisionReason,
    edit: approval.edit,
    at: approval.decidedAt ?? approval.createdAt,
  };
}

/**
 * The data port for runs, steps, signals, approvals and the journal. Synchronous, like the
 * `Journal` port: the embedded store is `node:sqlite`, whose calls complete before they return.
 * Every method either does all of its writes or none. Times are passed in (no clock inside).
 */
export interface Store {
  createRun(run: NewRun): RunRecord;
  getRun(id: string): RunRecord | undefined;
  /** Newest first. */
  listRuns(filter?: { status?: StoredRunStatus; limit?: number }): RunRecord[];
  /** Throws `unknown-run`. (`getRun` reads the run back.) */
  setRunStatus(id: string, status: StoredRunStatus, at: number): void;
  /** Runs not yet finished, oldest first; with `owner`, only those it holds or nobody holds. */
  listUnfinished(options?: { owner?: string; now?: number }): RunRecord[];
  /**
   * Takes the run's lease for `owner` until `until` when nobody holds it, its lease lapsed before
   * `now`, or `owner` already holds it; never once the run has finished (false). Atomic: two processes
   * never both get `true`.
   */
  claimRun(id: string, owner: string, until: number, now: number): boolean;
  /** Extends the lease; false when `owner` no longer holds it. */
  renewLease(id: string, owner: string, until: number): boolean;
  releaseRun(id: string, owner: string): void;

  /** All executions of all steps of a run, by name then attempt. */
  loadSteps(runId: string): StepRecord[];
  /** Records that an attempt started; re-recording the same attempt (an in-doubt re-execution) resets it. */
  startStep(step: NewStep): void;
  finishStep(runId: string, name: string, attempt: number, end: StepEnd): void;
  /** Records an attempt that started and ended at once (recorded `now()`, `uuid()`, deadlines): one write. */
  recordStep(step: NewStep, end: StepEnd): void;

  sendSignal(topic: string, payload: unknown, at: number): SignalRecord;
  /**
   * Takes the oldest signal on `topic` for `consumer`. Idempotent per consumer: a signal `consumer`
   * already took is returned again, so a crash between taking and recording loses nothing.
   */
  takeSignal(topic: string, consumer: string, at: number): SignalRecord | undefined;

  createApproval(approval: NewApproval): ApprovalRecord;
  getApproval(id: string): ApprovalRecord | undefined;
  /** Oldest first. */
  listApprovals(filter?: { status?: ApprovalStatus; runId?: string }): ApprovalRecord[];
  /**
   * Approves or denies a pending approval and, in the same transaction, sends an `ApprovalSignal` on
   * `approvalTopic(id)`. Throws `unknown-approval`, `approval-decided` or `approval-expired`.
   */
  decideApproval(id: string, decision: ApprovalDecision): ApprovalRecord;
  /** Expires a pending approval (signalling it); a decided one is returned unchanged. */
  expireApproval(id: string, at: number): ApprovalRecord;

  /**
   * Appends an event; its `seq` is one more than the run's last. With `key`, an event already
   * appended under the same key for the run is returned instead (`appended: false`), so replayed
   * run code can re-emit without duplicating.
   */
  appendEvent(event: RunEvent, key?: string): { entry: JournalEntry; appended: boolean };
  /** Entries with `seq > afterSeq`, in order. */
  readEvents(runId: string, afterSeq?: number, limit?: number): JournalEntry[];

  /**
   * Resolves once every write made so far is durable. Stores that commit each write at once
   * resolve immediately; a store that groups commits resolves at the group's commit.
   */
  sync?(): Promise<void>;
  /**
   * Resolves once the run's own record is committed (a crash of the process can no longer lose it):
   * at once unless the run was created in a commit group still open. Engines await it before a side
   * effect, so a run whose writes are lost (a full disk) never leaves effects nobody can trace or resume.
   */
  runRecorded?(runId: string): Promise<void> | undefined;
  /**
   * Why the run's writes are refused here, if they are: a commit lost some of them, or another process
   * took the run over (its writes here were dropped). Engines look before a side effect, after waiting
   * for the commit: a commit that dropped the run's writes still resolves for the others in it.
   */
  lostReason?(runId: string): Error | undefined;

  close(): void;
}

/**
 * An approval's status as of `now`: a pending request past its expiry is expired (the run records it
 * so when it next looks; deciding it is refused either way). What `approvals` and `runs show` display.
 */
export function effectiveStatus(a: ApprovalRecord, now: number): ApprovalStatus {
  return a.status === "pending" && a.expiresAt !== null && a.expiresAt <= now ? "expired" : a.status;
}

/** The `--model` specs a run was started with (recorded with its request; none: the profile's models). */
export function recordedModels(record: RunRecord): string[] {
  const models = (record.request as { models?: unknown }).models;
  return Array.isArray(models) ? models.filter((spec): spec is string => typeof spec === "string") : [];
}
