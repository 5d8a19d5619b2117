/** A calendar period of a tenant budget, in UTC. */
export type BudgetPeriod = "day" | "month";

/** One model call as the cost ledger keeps it. */
export interface LedgerEntry {
  readonly tenant: string;
  readonly runId: string;
  /** The worker that made the call; absent for run-level calls (planner, synthesizer). */
  readonly worker?: string | undefined;
  /** The catalog name of the model that answered. */
  readonly model: string;
  readonly provider?: string | undefined;
  /** Version hash of the mission profile the run used. */
  readonly profileVersion?: string | undefined;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** US dollars, rounded to the nano-dollar (sums over the ledger are exact). */
  readonly costUsd: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** What a budget is counted over. */
export type SpendScope =
  | { readonly kind: "request"; readonly runId: string }
  | { readonly kind: "worker"; readonly runId: string; readonly worker: string }
  /** The UTC day or month containing `at`. */
  | { readonly kind: "tenant"; readonly tenant: string; readonly period: BudgetPeriod; readonly at: number };

export interface Spend {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** `inputTokens + outputTokens`. */
  readonly tokens: number;
  readonly costUsd: number;
  readonly calls: number;
}

export interface TotalsQuery {
  readonly tenant?: string;
  readonly by: "worker" | "model" | "day";
  /** Inclusive lower bound on `at`. */
  readonly from?: number;
  /** Exclusive upper bound on `at`. */
  readonly to?: number;
}

export interface TotalsRow extends Spend {
  /** The worker name (`""` for run-level calls), model name, or UTC day `YYYY-MM-DD`. */
  readonly key: string;
}

/** Limits on one scope; an absent limit is not checked. */
export interface LimitCheck {
  readonly scope: SpendScope;
  readonly tokens?: number | undefined;
  readonly costUsd?: number | undefined;
}

/**
 * A reservation for a call about to be made: its estimate counts against every scope it falls in
 * until it is settled or expires (so a crashed process cannot hold budget forever).
 */
export interface HoldRequest {
  readonly id: string;
  readonly tenant: string;
  readonly runId: string;
  readonly worker?: string | undefined;
  readonly tokens: number;
  readonly costUsd: number;
  readonly at: number;
  readonly expiresAt: number;
  /** Checked atomically with taking the hold: committed spend + live holds + this one ≤ limit. */
  readonly checks: readonly LimitCheck[];
}

export interface LimitExceeded {
  readonly scope: SpendScope;
  readonly unit: "tokens" | "usd";
  readonly limit: number;
  /** Committed spend plus other calls' live holds. */
  readonly spent: number;
  /** What this call asked for. */
  readonly requested: number;
}

export type HoldResult = { readonly ok: true } | { readonly ok: false; readonly exceeded: LimitExceeded };

/**
 * The cost ledger: every model call's tokens and cost, and the holds that let budgets be enforced
 * before a call across concurrent branches and processes.
 */
export interface Ledger {
  /** Takes a hold if every check passes; otherwise takes nothing and names the first scope that failed. */
  hold(request: HoldRequest): Promise<HoldResult>;
  /** Releases a hold and, when the call was made, records it, in one transaction. */
  settle(holdId: string, entry: LedgerEntry | undefined): Promise<void>;
  /** Records a call that was not held (imports, calls made outside a budget). */
  record(entry: LedgerEntry): Promise<void>;
  /** Committed spend in a scope (holds excluded). */
  spent(scope: SpendScope): Promise<Spend>;
  totals(query: TotalsQuery): Promise<TotalsRow[]>;
  /** Recorded calls, oldest first. */
  entries(filter?: { tenant?: string; runId?: string }): Promise<LedgerEntry[]>;
  close(): Promise<void>;
}
