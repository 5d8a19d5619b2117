import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import { Budget } from "../budget.ts";
import { BudgetExceededError } from "../budget-exceeded-error.ts";
import { runLedgerContract } from "../ledger-contract.ts";
import { createSqliteLedger } from "./sqlite-ledger.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-ledger-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runLedgerContract("sqlite file", () => createSqliteLedger({ path: join(dir, `contract-${n++}.db`) }));

/** The ledger as the local runtime opens it: on the run store's connection, written as its groups commit. */
function deferredLedger(path: string) {
  const store = new SqliteStore({ path, commit: "grouped" });
  const ledger = createSqliteLedger({
    database: store.database,
    transaction: (fn) => store.unit("writing the cost ledger", fn),
    defer: (flush) => store.deferUntilCommit("writing the cost ledger", flush),
  });
  return { store, ledger };
}

runLedgerContract("sqlite, deferred to a store's commit groups", () => {
  const { store, ledger } = deferredLedger(join(dir, `contract-${n++}.db`));
  return {
    ...ledger,
    close: async () => {
      await ledger.close();
      store.close();
    },
  };
});

const estimate = (tokens: number) => ({ inputTokens: tokens, outputTokens: 0, costUsd: 0, chars: 0 });
const monthly = (limit: number) => ({ perTenant: { month: { tokens: limit } } });

/** One model call of run r1: 10 input and 5 output tokens. */
const aCall = (rest: { costUsd: number; at: number }) => ({
  tenant: "acme",
  runId: "r1",
  model: "m",
  inputTokens: 10,
  outputTokens: 5,
  ...rest,
});

describe("sqlite ledger", () => {
  it("holds a tenant's monthly budget across two connections to one file", async () => {
    const path = join(dir, "two-handles.db");
    const first = new DatabaseSync(path);
    const second = new DatabaseSync(path);
    const a = new Budget({ ledger: createSqliteLedger({ database: first }), limits: monthly(1000) });
    const b = new Budget({ ledger: createSqliteLedger({ database: second }), limits: monthly(1000) });
    const subject = (runId: string) => ({ tenant: "acme", runId });

    const held = await a.reserve(subject("r1"), { name: "gpt" }, estimate(700));
    await assert.rejects(b.reserve(subject("r2"), { name: "gpt" }, estimate(400)), (error: unknown) => {
      assert.ok(error instanceof BudgetExceededError);
      assert.equal(error.scope, "tenant-month");
      assert.equal(error.spent, 700, "the other connection's hold counts");
      return true;
    });
    await a.settle(held, { inputTokens: 500, outputTokens: 0 });
    const fits = await b.reserve(subject("r2"), { name: "gpt" }, estimate(400));
    await b.settle(fits, { inputTokens: 400, outputTokens: 0 });
    assert.equal(
      (await a.ledger.spent({ kind: "tenant", tenant: "acme", period: "month", at: Date.now() })).tokens,
      900,
    );
    first.close();
    second.close();
  });

  it("holds a tenant's monthly budget across two processes", async () => {
    const path = join(dir, "two-processes.db");
    const child = async (tokens: number) => {
      const script = join(import.meta.dirname, "fixtures", "spend-in-child.ts");
      const { stdout } = await promisify(execFile)(process.execPath, [
        script,
        path,
        "acme",
        String(tokens),
        "1000",
      ]);
      return JSON.parse(stdout) as { ok: boolean; scope?: string; spent?: number };
    };
    const ledger = createSqliteLedger({ path });
    const budget = new Budget({ ledger, limits: monthly(1000) });
    const hold = await budget.reserve({ tenant: "acme", runId: "parent" }, { name: "gpt" }, estimate(700));
    await budget.settle(hold, { inputTokens: 700, outputTokens: 0 });

    assert.deepEqual(await child(400), { ok: false, scope: "tenant-month", spent: 700, limit: 1000 });
    assert.deepEqual(await child(250), { ok: true });
    await assert.rejects(
      budget.reserve({ tenant: "acme", runId: "parent" }, { name: "gpt" }, estimate(100)),
      (error: unknown) => error instanceof BudgetExceededError && error.spent === 950,
      "the child's spend counts here",
    );
    assert.equal((await child(50)).ok, true, "exactly at the limit is allowed");
    assert.equal(
      (await budget.reserve({ tenant: "globex", runId: "x" }, { name: "gpt" }, estimate(1000))).held,
      true,
      "another tenant has its own month",
    );
    await ledger.close();
  });

  it("takes in a version 1 ledger: drops the per-run sums it kept, and sums a run's spend from its calls", async () => {
    const path = join(dir, "v1.db");
    const first = createSqliteLedger({ path });
    const call = aCall({ costUsd: 0.5, at: 1_000 });
    await first.record({ ...call, worker: "billing" });
    await first.record({ ...call, worker: "tech" });
    await first.close();
    // What version 1 left: running sums per run and per worker too.
    const db = new DatabaseSync(path);
    db.exec(`INSERT INTO budget_ledger_sums VALUES ('r' || char(31) || 'r1', 20, 10, 1000000000, 2);
             INSERT INTO budget_ledger_sums VALUES ('w' || char(31) || 'r1' || char(31) || 'billing', 10, 5, 500000000, 1);
             UPDATE budget_ledger_meta SET value = '1' WHERE name = 'schema_version'`);
    db.close();
    const ledger = createSqliteLedger({ path });
    const reopened = new DatabaseSync(path);
    try {
      assert.equal(
        reopened.prepare("SELECT value FROM budget_ledger_meta WHERE name = 'schema_version'").get()?.value,
        "2",
      );
      assert.deepEqual(
        reopened
          .prepare("SELECT substr(scope, 1, 1) AS kind FROM budget_ledger_sums ORDER BY scope")
          .all()
          .map((r) => r.kind),
        ["t", "t"],
        "the tenant's day and month sums stay",
      );
      assert.equal((await ledger.spent({ kind: "request", runId: "r1" })).tokens, 30);
      assert.equal((await ledger.spent({ kind: "worker", runId: "r1", worker: "billing" })).costUsd, 0.5);
      assert.equal(
        (await ledger.spent({ kind: "tenant", tenant: "acme", period: "day", at: 1_000 })).calls,
        2,
      );
    } finally {
      reopened.close();
      await ledger.close();
    }
  });

  it("deferred: reads include buffered calls; they are written, sums added up, as the group commits", async () => {
    const path = join(dir, "deferred.db");
    const { store, ledger } = deferredLedger(path);
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      const call = aCall({ costUsd: 0.25, at: Date.now() });
      await ledger.record({ ...call, worker: "billing" });
      await ledger.record({ ...call, worker: "billing" });
      await ledger.record({ ...call, runId: "r2", worker: "tech" });
      assert.equal(reader.prepare("SELECT COUNT(*) AS n FROM budget_ledger_calls").get()?.n, 0, "buffered");
      assert.equal((await ledger.spent({ kind: "request", runId: "r1" })).tokens, 30);
      assert.equal((await ledger.spent({ kind: "worker", runId: "r1", worker: "billing" })).calls, 2);
      assert.equal(
        (await ledger.spent({ kind: "tenant", tenant: "acme", period: "month", at: call.at })).costUsd,
        0.75,
      );
      const budget = new Budget({ ledger, limits: { perTenant: { month: { tokens: 50 } } } });
      await assert.rejects(
        budget.reserve({ tenant: "acme", runId: "r3" }, { name: "m" }, estimate(10)),
        (error: unknown) => error instanceof BudgetExceededError && error.spent === 45,
        "a budget check counts the buffered calls",
      );
      await store.commit();
      assert.equal(reader.prepare("SELECT COUNT(*) AS n FROM budget_ledger_calls").get()?.n, 3);
      assert.deepEqual(
        reader
          .prepare("SELECT calls FROM budget_ledger_sums ORDER BY scope")
          .all()
          .map((r) => r.calls),
        [3, 3],
        "one upsert per tenant period for the group",
      );
      assert.equal(
        (await ledger.spent({ kind: "request", runId: "r1" })).tokens,
        30,
        "nothing counted twice",
      );
      await ledger.record({ ...call, runId: "r4" });
      assert.deepEqual(
        (await ledger.totals({ by: "model" })).map((t) => [t.key, t.calls]),
        [["m", 4]],
        "totals write what is buffered first",
      );
    } finally {
      reader.close();
      await ledger.close();
      store.close();
    }
  });

  it("refuses a ledger written by a newer schema version", () => {
    const path = join(dir, "newer.db");
    createSqliteLedger({ path });
    const db = new DatabaseSync(path);
    db.prepare("UPDATE budget_ledger_meta SET value = '99' WHERE name = 'schema_version'").run();
    db.close();
    assert.throws(
      () => createSqliteLedger({ path }),
      (error: unknown) => ArbiterError.is(error, ErrorCode.SchemaTooNew) && /version 99/.test(error.message),
    );
  });

  it("a damaged page of the ledger is a store-error naming the file, on open and on a read", async () => {
    const damage = (path: string, table: string) => {
      const db = new DatabaseSync(path);
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      const { pageno } = db
        .prepare("SELECT pageno FROM dbstat WHERE name = ? ORDER BY path LIMIT 1")
        .get(table) as { pageno: number };
      db.close();
      const file = readFileSync(path);
      file.fill(0x41, (pageno - 1) * 4096, pageno * 4096);
      writeFileSync(path, file);
    };
    const damaged = (error: unknown) =>
      ArbiterError.is(error, ErrorCode.StoreError) &&
      /is damaged \(database disk image is malformed\)/.test(error.message);
    const opening = join(dir, "damaged-meta.db");
    await createSqliteLedger({ path: opening }).close();
    damage(opening, "budget_ledger_meta");
    assert.throws(
      () => createSqliteLedger({ path: opening }),
      (error: unknown) => {
        assert.ok(damaged(error), String(error));
        assert.match(
          (error as Error).message,
          /^opening the cost ledger failed: .*damaged-meta\.db is damaged/,
        );
        return true;
      },
    );
    const reading = join(dir, "damaged-calls.db");
    const ledger = createSqliteLedger({ path: reading });
    for (let i = 0; i < 200; i++)
      await ledger.record({ ...aCall({ costUsd: 0.001, at: 1_000 + i }), runId: `r${i}` });
    await ledger.close();
    damage(reading, "budget_ledger_calls");
    const again = createSqliteLedger({ path: reading });
    try {
      await assert.rejects(again.totals({ by: "model" }), (error: unknown) => {
        assert.ok(damaged(error), String(error));
        assert.match((error as Error).message, /^reading the cost ledger failed: /);
        return true;
      });
    } finally {
      await again.close();
    }
  });
});
