import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";

/** The demo's own data set: customers, bills, plans, line tests, and every side effect the tools caused. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS plans (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, monthly_cents INTEGER NOT NULL, down_mbps INTEGER NOT NULL, tier INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, plan_id TEXT NOT NULL REFERENCES plans(id), area TEXT NOT NULL,
  contract_ends TEXT NOT NULL, etf_cents INTEGER NOT NULL, credit_cents INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS charges (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, bill_id TEXT NOT NULL, period TEXT NOT NULL,
  description TEXT NOT NULL, amount_cents INTEGER NOT NULL, flag TEXT
);
CREATE TABLE IF NOT EXISTS line_tests (
  customer_id TEXT PRIMARY KEY, status TEXT NOT NULL, down_mbps REAL NOT NULL, packet_loss_pct REAL NOT NULL,
  diagnosis TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outages (area TEXT PRIMARY KEY, description TEXT NOT NULL, eta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credits (
  id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, reason TEXT NOT NULL,
  charge_ids TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credited_charges (charge_id TEXT NOT NULL, credit_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS credited_charges_charge ON credited_charges(charge_id);
CREATE INDEX IF NOT EXISTS charges_customer ON charges(customer_id, period);
CREATE TABLE IF NOT EXISTS tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL, reason TEXT NOT NULL, window TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS telecom_effects (
  idempotency_key TEXT NOT NULL, tool TEXT NOT NULL, args_json TEXT NOT NULL, created_at TEXT NOT NULL
);
-- What each side effect returned, by idempotency key: a repeated call gets its first result back.
CREATE TABLE IF NOT EXISTS telecom_results (idempotency_key TEXT PRIMARY KEY, result_json TEXT NOT NULL);
`;

const SEED = `
INSERT INTO plans VALUES
  ('basic-25', 'Basic 25', 3500, 25, 1),
  ('fiber-100', 'Fiber 100', 6000, 100, 2),
  ('fiber-300', 'Fiber 300', 7500, 300, 3),
  ('fiber-1000', 'Fiber Gigabit', 9500, 1000, 4);
INSERT INTO customers VALUES
  ('C-1001', 'Dana Whitfield', 'fiber-100', 'north-7', '2027-06-30', 12000, 0),
  ('C-1002', 'Ravi Menon', 'fiber-300', 'south-2', '2026-01-31', 0, 0),
  ('C-1003', 'Ana Costa', 'basic-25', 'north-7', '2027-03-31', 8000, 0);
INSERT INTO charges VALUES
  ('CH-1', 'C-1001', 'B-2026-10', '2026-10', 'Fiber 100 monthly fee', 6000, NULL),
  ('CH-2', 'C-1001', 'B-2026-10', '2026-10', 'Router rental', 800, NULL),
  ('CH-3', 'C-1001', 'B-2026-10', '2026-10', 'StreamMax add-on', 1299, NULL),
  ('CH-4', 'C-1001', 'B-2026-10', '2026-10', 'StreamMax add-on', 1299, 'duplicate of CH-3'),
  ('CH-5', 'C-1002', 'B-2026-10', '2026-10', 'Fiber 300 monthly fee', 7500, NULL),
  ('CH-6', 'C-1002', 'B-2026-10', '2026-10', 'International calls', 4210, NULL),
  ('CH-7', 'C-1003', 'B-2026-10', '2026-10', 'Basic 25 monthly fee', 3500, NULL),
  ('CH-8', 'C-1003', 'B-2026-10', '2026-10', 'Late payment fee', 1500, 'payment was received on time');
INSERT INTO line_tests VALUES
  ('C-1001', 'fail', 31.5, 4.2, 'high packet loss and low sync rate on the copper drop; likely a damaged connector'),
  ('C-1002', 'pass', 291.0, 0.0, 'line healthy'),
  ('C-1003', 'pass', 24.1, 0.1, 'line healthy');
INSERT INTO outages VALUES ('south-2', 'fiber cut near the south-2 cabinet', 'today 18:00');
`;

export type DemoDb = DatabaseSync;

/** Opens (creating and seeding on first use) the demo database. */
export function openDemoDb(path: string): DatabaseSync {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  // The busy timeout from the start: runs started at once on a new demo database wait for each other's
  // journal-mode change, schema and seed instead of failing with "database is locked".
  const db = new DatabaseSync(file, { timeout: 5000 });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(SCHEMA);
  const seeded = db.prepare("SELECT COUNT(*) AS n FROM plans").get() as { n: number };
  if (seeded.n === 0) {
    db.exec("BEGIN IMMEDIATE");
    try {
      const again = db.prepare("SELECT COUNT(*) AS n FROM plans").get() as { n: number };
      if (again.n === 0) db.exec(SEED);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
  return db;
}
