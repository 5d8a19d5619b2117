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

/**
 * A ledger in process memory, for tests and runs that need no history. Spend per scope is kept
 * as running sums, so checking a budget does not scan the entries.
 */
export class MemoryLedger implements Ledger {
  readonly #entries: LedgerEntry[] = [];
  readonly #sums = new Map<string, Aggregate>();
  readonly #holds = new Map<string, Hold>();

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
    for (const key of keysOf(stored)) {
      const sum = this.#sums.get(key) ?? empty();
      this.#sums.set(key, sum);
      addTo(sum, stored);
    }
  }
}

function addTo(aggregate: Aggregate, entry: LedgerEntry): void {
  aggregate.inputTokens += entry.inputTokens;
  aggregate.outputTokens += entry.outputTokens;
  aggregate.costNanos += toNanos(entry.costUsd);
  aggregate.calls += 1;
}
