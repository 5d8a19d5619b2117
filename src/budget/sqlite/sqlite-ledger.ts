import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { whereOf } from "../../store/sqlite/sql-where.ts";
import { withStoreError } from "../../store/sqlite/sqlite-error.ts";
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
import { periodBounds } from "../period.ts";
import { scopeKey } from "../scope-key.ts";

const PERIODS = ["day", "month"] as const;

export interface SqliteLedgerOptions {
  /** Database file (created if missing), or `:memory:`. Ignored when `database` is given. */
  path?: string;
  /** An open database to share with other stores; the caller then owns closing it. */
  database?: DatabaseSync;
  /**
   * Runs each write (a hold, a settlement, a record) all-or-nothing. Default: a `BEGIN IMMEDIATE`
   * transaction of its own (a savepoint inside an open one). A store sharing `database` passes its
   * own, so ledger writes join its commit groups instead of committing on their own.
   */
  transaction?: <T>(fn: () => T) => T;
  /**
   * Buffers recorded calls and writes them (sums added up per tenant period) just before the sharing
   * store commits: `defer(flush)` registers `flush` with the store's open commit group and returns
   * true, or false when the store has none (the call is then written at once). Reads include what is
   * buffered. `SqliteStore.deferUntilCommit` is one.
   */
  defer?: (flush: () => void) => boolean;
}

/**
 * Version of the ledger tables; a database written by a newer version is refused.
 * 2: running sums are kept for tenant periods only (a run's and its workers' spend is summed from its
 * calls), so an older version must not read it.
 */
export const LEDGER_SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_ledger_meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS budget_ledger_calls (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant          TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  worker          TEXT,
  model           TEXT    NOT NULL,
  provider        TEXT,
  profile_version TEXT,
  input_tokens    INTEGER NOT NULL,
  output_tokens   INTEGER NOT NULL,
  cost_nanos      INTEGER NOT NULL,
  at              INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_ledger_calls_tenant_at ON budget_ledger_calls (tenant, at);
CREATE INDEX IF NOT EXISTS budget_ledger_calls_run ON budget_ledger_calls (run_id, worker);
-- Running sums per tenant period (day, month), kept in the same transaction as each call, so checking
-- a tenant budget reads one row instead of summing the period. A run's (and a worker's) spend is summed
-- from its few calls (budget_ledger_calls_run): no rows per run that outlive it.
CREATE TABLE IF NOT EXISTS budget_ledger_sums (
  scope         TEXT    PRIMARY KEY,
  input_tokens  INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cost_nanos    INTEGER NOT NULL,
  calls         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS budget_ledger_holds (
  id         TEXT    PRIMARY KEY,
  tenant     TEXT    NOT NULL,
  run_id     TEXT    NOT NULL,
  worker     TEXT,
  tokens     INTEGER NOT NULL,
  cost_nanos INTEGER NOT NULL,
  at         INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

interface SumRow {
  input: number;
  output: number;
  cost: number;
  calls: number;
}

interface CallRow {
  tenant: string;
  run_id: string;
  worker: string | null;
  model: string;
  provider: string | null;
  profile_version: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_nanos: number;
  at: number;
}

const SUMS =
  "COALESCE(SUM(input_tokens), 0) AS input, COALESCE(SUM(output_tokens), 0) AS output, COALESCE(SUM(cost_nanos), 0) AS cost, COUNT(*) AS calls";
const HOLD_SUMS = "COALESCE(SUM(tokens), 0) AS tokens, COALESCE(SUM(cost_nanos), 0) AS cost";
const WHERE = {
  request: "run_id = ?",
  worker: "run_id = ? AND worker = ?",
  tenant: "tenant = ? AND at >= ? AND at < ?",
} as const;

/**
 * The cost ledger on `node:sqlite`. Taking a hold checks every budget and inserts the hold inside
 * one `BEGIN IMMEDIATE` transaction, so processes sharing the file cannot both pass a check that
 * only one of them fits under.
 */
export function createSqliteLedger(options: SqliteLedgerOptions = {}): Ledger {
  const owned = options.database === undefined;
  let db: DatabaseSync;
  if (options.database) {
    db = options.database;
  } else {
    const path = options.path ?? ":memory:";
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    // The busy timeout from the start, so processes opening a new ledger at once wait for each other.
    db = new DatabaseSync(path, { timeout: 5000 });
    // WAL + synchronous NORMAL: a commit survives a crash of the process, and costs no fsync.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  }
  /**
   * A SQLite failure (a damaged page, a lock held past the busy timeout, a full disk) as a `store-error`
   * naming the file and what to do.
   */
  const guard = <T>(action: string, fn: () => T): T =>
    withStoreError(db.location() ?? "the cost ledger's in-memory database", action, fn);
  guard("opening the cost ledger failed", () => migrate(db));

  const sumOfScope = db.prepare(
    `SELECT input_tokens AS input, output_tokens AS output, cost_nanos AS cost, calls
     FROM budget_ledger_sums WHERE scope = ?`,
  );
  const addToSum = db.prepare(
    `INSERT INTO budget_ledger_sums (scope, input_tokens, output_tokens, cost_nanos, calls) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (scope) DO UPDATE SET
       input_tokens = input_tokens + excluded.input_tokens,
       output_tokens = output_tokens + excluded.output_tokens,
       cost_nanos = cost_nanos + excluded.cost_nanos,
       calls = calls + excluded.calls`,
  );
  const runSums = {
    request: db.prepare(`SELECT ${SUMS} FROM budget_ledger_calls WHERE ${WHERE.request}`),
    worker: db.prepare(`SELECT ${SUMS} FROM budget_ledger_calls WHERE ${WHERE.worker}`),
  };
  const stored = (scope: SpendScope): SumRow =>
    scope.kind === "tenant"
      ? ((sumOfScope.get(scopeKey(scope)) as SumRow | undefined) ?? {
          input: 0,
          output: 0,
          cost: 0,
          calls: 0,
        })
      : (runSums[scope.kind].get(...argsOf(scope)) as unknown as SumRow);
  const committed = (scope: SpendScope): SumRow => withPending(scope, stored(scope));
  const holdSums = {
    request: db.prepare(
      `SELECT ${HOLD_SUMS} FROM budget_ledger_holds WHERE ${WHERE.request} AND expires_at > ?`,
    ),
    worker: db.prepare(
      `SELECT ${HOLD_SUMS} FROM budget_ledger_holds WHERE ${WHERE.worker} AND expires_at > ?`,
    ),
    tenant: db.prepare(
      `SELECT ${HOLD_SUMS} FROM budget_ledger_holds WHERE ${WHERE.tenant} AND expires_at > ?`,
    ),
  };
  const insertCall = db.prepare(
    `INSERT INTO budget_ledger_calls
       (tenant, run_id, worker, model, provider, profile_version, input_tokens, output_tokens, cost_nanos, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertHold = db.prepare(
    `INSERT INTO budget_ledger_holds (id, tenant, run_id, worker, tokens, cost_nanos, at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteHold = db.prepare("DELETE FROM budget_ledger_holds WHERE id = ?");
  const expireHolds = db.prepare("DELETE FROM budget_ledger_holds WHERE expires_at <= ?");

  const write = <T>(fn: () => T): T => (options.transaction ? options.transaction(fn) : ownTransaction(fn));
  const ownTransaction = <T>(fn: () => T): T => {
    // A caller sharing the handle may already be in a transaction: nest with a savepoint then.
    const nested = db.isTransaction;
    db.exec(nested ? "SAVEPOINT budget_ledger" : "BEGIN IMMEDIATE");
    try {
      const result = fn();
      db.exec(nested ? "RELEASE budget_ledger" : "COMMIT");
      return result;
    } catch (error) {
      db.exec(nested ? "ROLLBACK TO budget_ledger; RELEASE budget_ledger" : "ROLLBACK");
      throw error;
    }
  };

  // Calls not yet written, and their sums per tenant period: written by `flush`, at once or (with
  // options.defer) just before the sharing store commits its group.
  let pendingCalls: LedgerEntry[] = [];
  let pendingSums = new Map<string, SumRow>();
  const pend = (entry: LedgerEntry) => {
    pendingCalls.push(entry);
    const costNanos = toNanos(entry.costUsd);
    for (const period of PERIODS) {
      const key = scopeKey({ kind: "tenant", tenant: entry.tenant, period, at: entry.at });
      const sum = pendingSums.get(key) ?? { input: 0, output: 0, cost: 0, calls: 0 };
      sum.input += entry.inputTokens;
      sum.output += entry.outputTokens;
      sum.cost += costNanos;
      sum.calls += 1;
      pendingSums.set(key, sum);
    }
  };
  const flush = () => {
    const calls = pendingCalls;
    const sums = pendingSums;
    pendingCalls = [];
    pendingSums = new Map();
    for (const entry of calls) insertCall.run(...callParams(entry, toNanos(entry.costUsd)));
    for (const [key, sum] of sums) addToSum.run(key, sum.input, sum.output, sum.cost, sum.calls);
  };
  /**
   * Registers `flush` with the sharing store's open group (once per group: the store keeps a set; a
   * group that failed before flushing leaves the calls to the next one rather than losing them).
   */
  const deferred = () => options.defer?.(flush) === true;
  /** Records a call: buffered until the group commits, or written now (inside a write). */
  const add = (entry: LedgerEntry) => {
    pend(entry);
    if (!deferred()) flush();
  };
  /** What is buffered for a scope, added to what the database holds. */
  const withPending = (scope: SpendScope, stored: SumRow): SumRow => {
    if (pendingCalls.length === 0) return stored;
    const total = { ...stored };
    if (scope.kind === "tenant") {
      const sum = pendingSums.get(scopeKey(scope));
      if (sum === undefined) return stored;
      total.input += sum.input;
      total.output += sum.output;
      total.cost += sum.cost;
      total.calls += sum.calls;
      return total;
    }
    for (const e of pendingCalls) {
      if (e.runId !== scope.runId || (scope.kind === "worker" && e.worker !== scope.worker)) continue;
      total.input += e.inputTokens;
      total.output += e.outputTokens;
      total.cost += toNanos(e.costUsd);
      total.calls += 1;
    }
    return total;
  };

  const held = (scope: SpendScope, now: number) =>
    holdSums[scope.kind].get(...argsOf(scope), now) as unknown as { tokens: number; cost: number };

  return {
    async hold(request: HoldRequest): Promise<HoldResult> {
      return guard("checking a budget failed", () =>
        write(() => {
          expireHolds.run(request.at);
          const costNanos = toNanos(request.costUsd);
          for (const check of request.checks) {
            const spent = committed(check.scope);
            const holds = held(check.scope, request.at);
            const exceeded = exceededLimit(
              check,
              { tokens: spent.input + spent.output + holds.tokens, costNanos: spent.cost + holds.cost },
              { tokens: request.tokens, costNanos },
            );
            if (exceeded !== undefined) return { ok: false as const, exceeded };
          }
          insertHold.run(
            request.id,
            request.tenant,
            request.runId,
            request.worker ?? null,
            request.tokens,
            costNanos,
            request.at,
            request.expiresAt,
          );
          return { ok: true as const };
        }),
      );
    },

    async settle(holdId, entry) {
      guard("recording a model call's cost failed", () =>
        write(() => {
          deleteHold.run(holdId);
          if (entry !== undefined) add(entry);
        }),
      );
    },

    async record(entry) {
      if (deferred()) pend(entry);
      else guard("recording a model call's cost failed", () => write(() => add(entry)));
    },

    async spent(scope) {
      return guard("reading the cost ledger failed", () => toSpend(committed(scope)));
    },

    async totals(query: TotalsQuery): Promise<TotalsRow[]> {
      return guard("reading the cost ledger failed", () => totals(query));
    },

    async entries(filter = {}) {
      return guard("reading the cost ledger failed", () => entries(filter));
    },

    async close() {
      if (owned && db.isOpen) db.close();
    },
  };

  function totals(query: TotalsQuery): TotalsRow[] {
    if (pendingCalls.length > 0) write(flush);
    const key =
      query.by === "worker"
        ? "COALESCE(worker, '')"
        : query.by === "model"
          ? "model"
          : "strftime('%Y-%m-%d', at / 1000, 'unixepoch')";
    const where = whereOf({ "tenant = ?": query.tenant, "at >= ?": query.from, "at < ?": query.to });
    const rows = db
      .prepare(`SELECT ${key} AS key, ${SUMS} FROM budget_ledger_calls ${where.sql} GROUP BY 1 ORDER BY 1`)
      .all(...where.args) as unknown as (SumRow & { key: string })[];
    return rows.map((row) => ({ key: row.key, ...toSpend(row) }));
  }

  function entries(filter: { tenant?: string; runId?: string }): LedgerEntry[] {
    if (pendingCalls.length > 0) write(flush);
    const where = whereOf({ "tenant = ?": filter.tenant, "run_id = ?": filter.runId });
    const rows = db
      .prepare(`SELECT * FROM budget_ledger_calls ${where.sql} ORDER BY id`)
      .all(...where.args) as unknown as CallRow[];
    return rows.map(toEntry);
  }
}

function migrate(db: DatabaseSync): void {
  db.exec(SCHEMA);
  const row = db.prepare("SELECT value FROM budget_ledger_meta WHERE name = 'schema_version'").get() as
    | { value: string }
    | undefined;
  const version = row === undefined ? undefined : Number(row.value);
  if (version !== undefined && version > LEDGER_SCHEMA_VERSION) {
    throw new ArbiterError(
      ErrorCode.SchemaTooNew,
      `The cost ledger in this database has schema version ${version}, newer than this Arbiter ` +
        `understands (${LEDGER_SCHEMA_VERSION}). Upgrade Arbiter or point it at another database.`,
      { details: { found: version, supported: LEDGER_SCHEMA_VERSION } },
    );
  }
  if (version === LEDGER_SCHEMA_VERSION) return;
  const upgrade = () => {
    // From 1: the run and worker sums are no longer kept (nor read).
    db.exec("DELETE FROM budget_ledger_sums WHERE scope NOT LIKE 't' || char(31) || '%'");
    db.prepare(
      `INSERT INTO budget_ledger_meta (name, value) VALUES ('schema_version', ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    ).run(String(LEDGER_SCHEMA_VERSION));
  };
  if (db.isTransaction) upgrade();
  else {
    db.exec("BEGIN IMMEDIATE");
    try {
      upgrade();
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

function argsOf(scope: SpendScope): SQLInputValue[] {
  switch (scope.kind) {
    case "request":
      return [scope.runId];
    case "worker":
      return [scope.runId, scope.worker];
    case "tenant": {
      const { start, end } = periodBounds(scope.period, scope.at);
      return [scope.tenant, start, end];
    }
  }
}

const toSpend = (row: SumRow): Spend => ({
  inputTokens: row.input,
  outputTokens: row.output,
  tokens: row.input + row.output,
  costUsd: fromNanos(row.cost),
  calls: row.calls,
});

const toEntry = (row: CallRow): LedgerEntry => ({
  tenant: row.tenant,
  runId: row.run_id,
  ...(row.worker === null ? {} : { worker: row.worker }),
  model: row.model,
  ...(row.provider === null ? {} : { provider: row.provider }),
  ...(row.profile_version === null ? {} : { profileVersion: row.profile_version }),
  inputTokens: row.input_tokens,
  outputTokens: row.output_tokens,
  costUsd: fromNanos(row.cost_nanos),
  at: row.at,
});

function callParams(entry: LedgerEntry, costNanos: number): SQLInputValue[] {
  return [
    entry.tenant,
    entry.runId,
    entry.worker ?? null,
    entry.model,
    entry.provider ?? null,
    entry.profileVersion ?? null,
    entry.inputTokens,
    entry.outputTokens,
    costNanos,
    entry.at,
  ];
}
