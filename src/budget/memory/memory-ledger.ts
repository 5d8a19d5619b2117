import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { exceededLimit } from "../check-limit.ts";
import { fromNanos, toNanos } from "../cost.ts";
import type {
  HoldRequest,
  HoldResult,
  Ledger,
  LedgerEntry,
  Spend,
  SpendScope,
  TotalsQuery,
  TotalsRow,
} from "../ledger.ts";
import { periodKey } from "../period.ts";
import { inScope, keysOf, scopeKey } from "../scope-key.ts";

interface Aggregate {
  inputTokens: number;
  outputTokens: number;
  costNanos: number;
  calls: number;
}

interface Hold {
  readonly tenant: string;
  readonly runId: string;
  readonly worker?: string | undefined;
  readonly at: number;
  readonly tokens: number;
  readonly costNanos: number;
  readonly expiresAt: number;
}

const empty = (): Aggregate => ({ inputTokens: 0, outputTokens: 0, costNanos: 0, calls: 0 });

const toSpend = (a: Aggregate): Spend => ({
  inputTokens: a.inputTokens,
  outputTokens: a.outputTokens,
  tokens: a.inputTokens + a.outputTokens,
  costUsd: fromNanos(a.costNanos),
  calls: a.calls,
});

export interface MemoryLedgerOptions {
  /**
   * Calls kept for `entries` and `totals`, the oldest dropped first (then those cover the calls kept).
   * Default: every call, for as long as the ledger lives.
   */
  readonly maxEntries?: number;
  /**
   * Runs whose request and worker spend is kept, the least recently charged dropped first (a dropped
   * run's budgets start again from zero, should it spend again). Tenant spend is always kept.
   * Default: every run.
   */
  readonly maxRuns?: number;
}

/**
 * A ledger in process memory, for tests and runs that need no history. Spend per scope is kept
 * as running sums, so checking a budget does not scan the entries. A long-lived process bounds it with
 * `maxEntries` and `maxRuns` (the supervisor's default ledger does).
 */
export class MemoryLedger implements Ledger {
  readonly #entries: LedgerEntry[] = [];
  readonly #sums = new Map<string, Aggregate>();
  readonly #holds = new Map<string, Hold>();
  readonly #maxEntries: number;
  readonly #maxRuns: number;
  /** The request and worker sum keys of each run, least recently charged first. */
  readonly #runKeys = new Map<string, Set<string>>();

  constructor(options: MemoryLedgerOptions = {}) {
    this.#maxEntries = bound(options.maxEntries, "maxEntries");
    this.#maxRuns = bound(options.maxRuns, "maxRuns");
  }

  async hold(request: HoldRequest): Promise<HoldResult> {
    for (const [id, hold] of this.#holds) if (hold.expiresAt <= request.at) this.#holds.delete(id);
    const costNanos = toNanos(request.costUsd);
    for (const check of request.checks) {
      const committed = this.#sums.get(scopeKey(check.scope)) ?? empty();
      let heldTokens = 0;
      let heldNanos = 0;
      for (const hold of this.#holds.values()) {
        if (!inScope(check.scope, hold)) continue;
        heldTokens += hold.tokens;
        heldNanos += hold.costNanos;
      }
      const exceeded = exceededLimit(
        check,
        {
          tokens: committed.inputTokens + committed.outputTokens + heldTokens,
          costNanos: committed.costNanos + heldNanos,
        },
        { tokens: request.tokens, costNanos },
      );
      if (exceeded !== undefined) return { ok: false, exceeded };
    }
    this.#holds.set(request.id, {
      tenant: request.tenant,
      runId: request.runId,
      worker: request.worker,
      at: request.at,
      tokens: request.tokens,
      costNanos,
      expiresAt: request.expiresAt,
    });
    return { ok: true };
  }

  async settle(holdId: string, entry: LedgerEntry | undefined): Promise<void> {
    this.#holds.delete(holdId);
    if (entry !== undefined) this.#add(entry);
  }

  async record(entry: LedgerEntry): Promise<void> {
    this.#add(entry);
  }

  async spent(scope: SpendScope): Promise<Spend> {
    return toSpend(this.#sums.get(scopeKey(scope)) ?? empty());
  }

  async totals(query: TotalsQuery): Promise<TotalsRow[]> {
    const groups = new Map<string, Aggregate>();
    for (const entry of this.#entries) {
      if (query.tenant !== undefined && entry.tenant !== query.tenant) continue;
      if (query.from !== undefined && entry.at < query.from) continue;
      if (query.to !== undefined && entry.at >= query.to) continue;
      const key =
        query.by === "worker"
          ? (entry.worker ?? "")
          : query.by === "model"
            ? entry.model
            : periodKey("day", entry.at);
      const group = groups.get(key) ?? empty();
      groups.set(key, group);
      addTo(group, entry);
    }
    return [...groups]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, group]) => ({ key, ...toSpend(group) }));
  }

  async entries(filter: { tenant?: string; runId?: string } = {}): Promise<LedgerEntry[]> {
    return this.#entries.filter(
      (e) =>
        (filter.tenant === undefined || e.tenant === filter.tenant) &&
        (filter.runId === undefined || e.runId === filter.runId),
    );
  }

  async close(): Promise<void> {}

  #add(entry: LedgerEntry): void {
    const stored = { ...entry, costUsd: fromNanos(toNanos(entry.costUsd)) };
    this.#entries.push(stored);
    // Dropped in batches (a quarter over the bound), not one by one: a splice moves the whole array.
    if (this.#entries.length > this.#maxEntries + Math.max(1, Math.floor(this.#maxEntries / 4))) {
      this.#entries.splice(0, this.#entries.length - this.#maxEntries);
    }
    for (const key of keysOf(stored)) {
      const sum = this.#sums.get(key) ?? empty();
      this.#sums.set(key, sum);
      addTo(sum, stored);
    }
    if (this.#bounded) {
      const runKeys = this.#touch(stored.runId);
      runKeys.add(scopeKey({ kind: "request", runId: stored.runId }));
      if (stored.worker !== undefined)
        runKeys.add(scopeKey({ kind: "worker", runId: stored.runId, worker: stored.worker }));
    }
  }

  get #bounded(): boolean {
    return this.#maxRuns !== Number.POSITIVE_INFINITY;
  }

  /** Marks a run as just charged; past `maxRuns`, the least recently charged run's sums are dropped. */
  #touch(runId: string): Set<string> {
    let keys = this.#runKeys.get(runId);
    if (keys === undefined) keys = new Set();
    else this.#runKeys.delete(runId);
    this.#runKeys.set(runId, keys);
    if (this.#runKeys.size > this.#maxRuns) {
      const [oldest, dropped] = this.#runKeys.entries().next().value!;
      this.#runKeys.delete(oldest);
      for (const key of dropped) this.#sums.delete(key);
    }
    return keys;
  }
}

function bound(value: number | undefined, field: string): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `MemoryLedger ${field} must be a whole number of at least 1, got ${value}.`,
      { details: { field } },
    );
  }
  return value;
}

function addTo(aggregate: Aggregate, entry: LedgerEntry): void {
  aggregate.inputTokens += entry.inputTokens;
  aggregate.outputTokens += entry.outputTokens;
  aggregate.costNanos += toNanos(entry.costUsd);
  aggregate.calls += 1;
}
