import { existsSync, renameSync } from "node:fs";
import type { DatabaseSync } from "node:sqlite";

/** Where runtimes before schema 3 kept the cost ledger: a file of its own beside the run database. */
export function legacyLedgerPath(dbPath: string): string {
  return dbPath.endsWith(".db") ? `${dbPath.slice(0, -3)}-ledger.db` : `${dbPath}-ledger`;
}

/**
 * Moves a cost ledger from its old file (`<db>-ledger.db`) into the run database, whose ledger tables
 * must exist: every recorded call and running sum is added, once (a marker row makes a second process
 * or a second start skip it), then the old file is renamed `*.imported` — kept, never deleted.
 * Holds are not carried over: they are minutes-long reservations of calls that have ended since.
 * @returns the number of calls imported (0 when there was nothing to import).
 */
export function importLegacyLedger(db: DatabaseSync, dbPath: string): number {
  const legacy = legacyLedgerPath(dbPath);
  if (dbPath === ":memory:" || !existsSync(legacy)) return 0;
  const marker = `imported:${legacy}`;
  db.prepare("ATTACH DATABASE ? AS legacy_ledger").run(legacy);
  let imported = 0;
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      const done = db.prepare("SELECT 1 FROM budget_ledger_meta WHERE name = ?").get(marker) !== undefined;
      const hasCalls =
        db
          .prepare(
            "SELECT 1 FROM legacy_ledger.sqlite_schema WHERE type = 'table' AND name = 'budget_ledger_calls'",
          )
          .get() !== undefined;
      if (!done && hasCalls) {
        imported = Number(
          db
            .prepare(
              `INSERT INTO budget_ledger_calls
                 (tenant, run_id, worker, model, provider, profile_version, input_tokens, output_tokens, cost_nanos, at)
               SELECT tenant, run_id, worker, model, provider, profile_version, input_tokens, output_tokens, cost_nanos, at
               FROM legacy_ledger.budget_ledger_calls ORDER BY id`,
            )
            .run().changes,
        );
        db.exec(
          `INSERT INTO budget_ledger_sums (scope, input_tokens, output_tokens, cost_nanos, calls)
           SELECT scope, input_tokens, output_tokens, cost_nanos, calls FROM legacy_ledger.budget_ledger_sums
           WHERE scope LIKE 't' || char(31) || '%' -- tenant periods: a run's spend is summed from its calls
           ON CONFLICT (scope) DO UPDATE SET
             input_tokens = input_tokens + excluded.input_tokens,
             output_tokens = output_tokens + excluded.output_tokens,
             cost_nanos = cost_nanos + excluded.cost_nanos,
             calls = calls + excluded.calls`,
        );
      }
      db.prepare("INSERT OR IGNORE INTO budget_ledger_meta (name, value) VALUES (?, ?)").run(
        marker,
        String(imported),
      );
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  } finally {
    db.exec("DETACH DATABASE legacy_ledger");
  }
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(legacy + suffix)) renameSync(legacy + suffix, `${legacy}${suffix}.imported`);
  }
  return imported;
}
