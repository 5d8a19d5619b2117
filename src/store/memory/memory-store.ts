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
  type StepRecord,
  type Store,
  type StoredRunStatus,
  UNFINISHED_RUN_STATUSES,
} from "../store.ts";
import { approvalExists, notPending, runExists, unknownApproval, unknownRun } from "../store-errors.ts";

const v = STORE_SCHEMA_VERSION;

/** Stored values go through JSON, as they would in a database: callers never share references with the store. */
function json<T>(value: T): T {
  return value === undefined ? (null as T) : JSON.parse(JSON.stringify(value));
}

/** In-process store: tests and runs that need no durability. Same behaviour as the SQLite store, nothing persists. */
export class MemoryStore implements Store {
  readonly #runs = new Map<string, RunRecord>();
  readonly #steps = new Map<string, StepRecord[]>();
  readonly #signals: SignalRecord[] = [];
  readonly #approvals = new Map<string, ApprovalRecord>();
  readonly #journal = new Map<string, { entries: JournalEntry[]; keys: Map<string, JournalEntry> }>();

  createRun(run: NewRun): RunRecord {
    if (this.#runs.has(run.id)) throw runExists(run.id);
    const record = newRunRecord(run, json(run.request));
    this.#runs.set(run.id, record);
    return json(record);
  }

  getRun(id: string): RunRecord | undefined {
    const run = this.#runs.get(id);
    return run === undefined ? undefined : json(run);
  }

  listRuns(filter: { status?: StoredRunStatus; limit?: number } = {}): RunRecord[] {
    const runs = [...this.#runs.values()]
      .filter((run) => filter.status === undefined || run.status === filter.status)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    return json(filter.limit === undefined ? runs : runs.slice(0, filter.limit));
  }

  setRunStatus(id: string, status: StoredRunStatus, at: number): void {
    const run = this.#runs.get(id);
    if (run === undefined) throw unknownRun(id);
    this.#runs.set(id, { ...run, status, updatedAt: at });
  }

  listUnfinished(options: { owner?: string; now?: number } = {}): RunRecord[] {
    const now = options.now ?? Date.now();
    return json(
      [...this.#runs.values()]
        .filter((run) => UNFINISHED_RUN_STATUSES.includes(run.status))
        .filter(
          (run) =>
            options.owner === undefined ||
            run.owner === null ||
            run.owner === options.owner ||
            (run.leaseUntil ?? 0) < now,
        )
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)),
    );
  }

  claimRun(id: string, owner: string, until: number, now: number): boolean {
    const run = this.#runs.get(id);
    if (run === undefined) throw unknownRun(id);
    if (!UNFINISHED_RUN_STATUSES.includes(run.status)) return false;
    if (run.owner !== null && run.owner !== owner && (run.leaseUntil ?? 0) >= now) return false;
    this.#runs.set(id, { ...run, owner, leaseUntil: until });
    return true;
  }

  renewLease(id: string, owner: string, until: number): boolean {
    const run = this.#runs.get(id);
    if (run === undefined || run.owner !== owner) return false;
    this.#runs.set(id, { ...run, leaseUntil: until });
    return true;
  }

  releaseRun(id: string, owner: string): void {
    const run = this.#runs.get(id);
    if (run !== undefined && run.owner === owner)
      this.#runs.set(id, { ...run, owner: null, leaseUntil: null });
  }

  loadSteps(runId: string): StepRecord[] {
    return json(
      (this.#steps.get(runId) ?? []).toSorted((a, b) =>
        a.name === b.name ? a.attempt - b.attempt : a.name < b.name ? -1 : 1,
      ),
    );
  }

  startStep(step: NewStep): void {
    let steps = this.#steps.get(step.runId);
    if (steps === undefined) {
      steps = [];
      this.#steps.set(step.runId, steps);
    }
    const record: StepRecord = {
      runId: step.runId,
      name: step.name,
      attempt: step.attempt,
      state: "started",
      result: null,
      error: null,
      idempotent: step.idempotent,
      startedAt: step.startedAt,
      endedAt: null,
      v,
    };
    const index = steps.findIndex((s) => s.name === step.name && s.attempt === step.attempt);
    if (index === -1) steps.push(record);
    else steps[index] = record;
  }

  finishStep(runId: string, name: string, attempt: number, end: StepEnd): void {
    const steps = this.#steps.get(runId) ?? [];
    const index = steps.findIndex((s) => s.name === name && s.attempt === attempt);
    const step = steps[index];
    if (step === undefined)
      throw new Error(`step "${name}" attempt ${attempt} of run "${runId}" never started`);
    steps[index] = {
      ...step,
      state: end.state,
      result: end.state === "completed" ? end.result : null,
      error: end.state === "failed" ? { ...end.error } : null,
      endedAt: end.endedAt,
    };
  }

  recordStep(step: NewStep, end: StepEnd): void {
    this.startStep(step);
    this.finishStep(step.runId, step.name, step.attempt, end);
  }

  sendSignal(topic: string, payload: unknown, at: number): SignalRecord {
    const signal: SignalRecord = {
      id: this.#signals.length + 1,
      topic,
      payload: json(payload),
      createdAt: at,
      consumedBy: null,
      consumedAt: null,
      v,
    };
    this.#signals.push(signal);
    return json(signal);
  }

  takeSignal(topic: string, consumer: string, at: number): SignalRecord | undefined {
    const taken = this.#signals.findIndex((s) => s.topic === topic && s.consumedBy === consumer);
    if (taken !== -1) return json(this.#signals[taken]);
    const index = this.#signals.findIndex((s) => s.topic === topic && s.consumedBy === null);
    const signal = this.#signals[index];
    if (signal === undefined) return undefined;
    const consumed = { ...signal, consumedBy: consumer, consumedAt: at };
    this.#signals[index] = consumed;
    return json(consumed);
  }

  createApproval(approval: NewApproval): ApprovalRecord {
    if (this.#approvals.has(approval.id)) throw approvalExists(approval.id);
    const record: ApprovalRecord = {
      id: approval.id,
      runId: approval.runId,
      taskId: approval.taskId,
      worker: approval.worker,
      reason: approval.reason,
      status: "pending",
      createdAt: approval.createdAt,
      expiresAt: approval.expiresAt ?? null,
      decidedBy: null,
      decidedAt: null,
      decisionReason: null,
      edit: null,
      v,
    };
    this.#approvals.set(approval.id, record);
    return json(record);
  }

  getApproval(id: string): ApprovalRecord | undefined {
    const approval = this.#approvals.get(id);
    return approval === undefined ? undefined : json(approval);
  }

  listApprovals(filter: { status?: ApprovalStatus; runId?: string } = {}): ApprovalRecord[] {
    return json(
      [...this.#approvals.values()]
        .filter((a) => filter.status === undefined || a.status === filter.status)
        .filter((a) => filter.runId === undefined || a.runId === filter.runId)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)),
    );
  }

  decideApproval(id: string, decision: ApprovalDecision): ApprovalRecord {
    let approval = this.#approvals.get(id);
    if (approval === undefined) throw unknownApproval(id);
    if (approval.status === "pending" && effectiveStatus(approval, decision.at) === "expired") {
      approval = this.#expire(approval, decision.at);
    }
    if (approval.status !== "pending") throw notPending(approval);
    const decided: ApprovalRecord = {
      ...approval,
      status: decision.status,
      decidedBy: decision.by,
      decidedAt: decision.at,
      decisionReason: decision.reason ?? null,
      edit: json(decision.edit ?? null),
    };
    this.#approvals.set(id, decided);
    this.sendSignal(approvalTopic(id), approvalSignalOf(decided), decision.at);
    return json(decided);
  }

  expireApproval(id: string, at: number): ApprovalRecord {
    const approval = this.#approvals.get(id);
    if (approval === undefined) throw unknownApproval(id);
    return json(approval.status === "pending" ? this.#expire(approval, at) : approval);
  }

  #expire(approval: ApprovalRecord, at: number): ApprovalRecord {
    const expired: ApprovalRecord = { ...approval, status: "expired", decidedAt: at };
    this.#approvals.set(approval.id, expired);
    this.sendSignal(approvalTopic(approval.id), approvalSignalOf(expired), at);
    return expired;
  }

  appendEvent(event: RunEvent, key?: string): { entry: JournalEntry; appended: boolean } {
    let run = this.#journal.get(event.runId);
    if (run === undefined) {
      run = { entries: [], keys: new Map() };
      this.#journal.set(event.runId, run);
    }
    if (key !== undefined) {
      const existing = run.keys.get(key);
      if (existing !== undefined) return { entry: json(existing), appended: false };
    }
    const entry: JournalEntry = { seq: run.entries.length + 1, v: EVENT_SCHEMA_VERSION, event: json(event) };
    run.entries.push(entry);
    if (key !== undefined) run.keys.set(key, entry);
    return { entry: json(entry), appended: true };
  }

  readEvents(runId: string, afterSeq = 0, limit?: number): JournalEntry[] {
    const entries = this.#journal.get(runId)?.entries ?? [];
    const after = entries.slice(Math.max(0, afterSeq));
    return json(limit === undefined ? after : after.slice(0, limit));
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}
