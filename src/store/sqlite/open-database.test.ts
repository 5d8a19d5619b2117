import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { InDoubtError } from "../../durable/durable.ts";
import { LocalDurableEngine } from "../../durable/local/local-durable.ts";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { loadCheckpointSigner } from "../../journal/audit/checkpoint-key.ts";
import { verifyAudit } from "../../journal/audit/verify-audit.ts";
import { approvalTopic, STORE_SCHEMA_VERSION } from "../store.ts";
import { LATEST_SCHEMA_VERSION, migrations } from "./migrations.ts";
import { openDatabase } from "./open-database.ts";
import { resolveDbPath } from "./resolve-db-path.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { FIXTURE_RUN_ID } from "./write-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-open-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name = "db") => join(dir, `${name}-${n++}.db`);

/** A store at `path` holding run "r1" of tenant "t", closed. */
function writeOneRun(path: string): void {
  const writer = new SqliteStore({ path });
  writer.createRun({
    id: "r1",
    tenant: "t",
    profile: { name: "p", version: "1" },
    createdAt: 1,
    request: {},
  });
  writer.close();
}

describe("openDatabase", () => {
  it("creates the directory and schema, in WAL mode with the chosen synchronous level", () => {
    const path = join(dir, "nested", "deeper", "arbiter.db");
    const db = openDatabase({ path });
    assert.equal((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
    assert.equal((db.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous, 2, "FULL");
    assert.deepEqual(
      db
        .prepare("SELECT version FROM schema_version")
        .all()
        .map((r) => r.version),
      migrations.map((m) => m.version),
    );
    db.close();
    const normal = openDatabase({ path, synchronous: "normal" });
    assert.equal((normal.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous, 1);
    normal.close();
    assert.equal(
      LATEST_SCHEMA_VERSION,
      STORE_SCHEMA_VERSION,
      "rows are written with the latest schema version",
    );
  });

  it("refuses a database written by a newer schema version, without changing it", () => {
    const path = fresh();
    new SqliteStore({ path }).close();
    const raw = new DatabaseSync(path);
    raw
      .prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, 'future', 0)")
      .run(LATEST_SCHEMA_VERSION + 1);
    raw.close();
    const before = readFileSync(path);
    assert.throws(
      () => new SqliteStore({ path }),
      (e) =>
        ArbiterError.is(e, "schema-too-new") &&
        e.isInputError &&
        e.message.includes(path) &&
        e.message.includes(`schema version ${LATEST_SCHEMA_VERSION + 1}`) &&
        /Upgrade Arbiter/.test(e.message),
    );
    assert.deepEqual(readFileSync(path), before);
  });

  it("opens read-only without changing the file: reads work, writes are refused, an older schema is not upgraded", () => {
    const path = fresh("readonly");
    writeOneRun(path);
    const before = readFileSync(path);
    const reader = new SqliteStore({ path, readOnly: true });
    try {
      assert.equal(reader.getRun("r1")?.tenant, "t");
      assert.throws(
        () =>
          reader.createRun({
            id: "r2",
            tenant: "t",
            profile: { name: "p", version: "1" },
            createdAt: 2,
            request: {},
          }),
        (e) => ArbiterError.is(e, "store-error") && e.message.includes(path),
      );
    } finally {
      reader.close();
    }
    assert.deepEqual(readFileSync(path), before);
    const again = new SqliteStore({ path, readOnly: true });
    assert.equal(again.getRun("r2"), undefined);
    again.close();

    const old = fresh("readonly-v4");
    copyFileSync(new URL("../../../test/fixtures/store/v4.db", import.meta.url), old);
    const oldBytes = readFileSync(old);
    assert.throws(
      () => new SqliteStore({ path: old, readOnly: true }),
      (e) =>
        ArbiterError.is(e, "schema-too-old") &&
        e.isInputError &&
        e.message.includes(old) &&
        e.message.includes("schema version 4") &&
        /with write access to upgrade it/.test(e.message),
    );
    assert.deepEqual(readFileSync(old), oldBytes, "not migrated");
    assert.throws(
      () => new SqliteStore({ path: join(dir, "missing", "x.db"), readOnly: true }),
      (e) => ArbiterError.is(e, "store-error") && /cannot read .*missing/.test(e.message),
    );
  });

  it("reads a database on a read-only file system (a snapshot or a backup mounted read-only)", (t) => {
    // Only where this process may mount a small file system of its own (root, as CI runs): there is no
    // other way to make a file unwritable to root.
    const mount = join(dir, "ro-mount");
    mkdirSync(mount);
    const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { stdio: "ignore" }).status === 0;
    if (!sh(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount])) {
      t.skip("cannot mount a file system here");
      return;
    }
    try {
      const path = join(mount, "arbiter.db");
      writeOneRun(path); // closed: the last connection checkpoints and removes the -wal and -shm files
      assert.ok(sh(["mount", "-o", "remount,ro", mount]), "remounted read-only");
      const reader = new SqliteStore({ path, readOnly: true });
      try {
        assert.equal(reader.getRun("r1")?.tenant, "t");
      } finally {
        reader.close();
      }
    } finally {
      sh(["umount", mount]);
    }
  });

  it("says a folder given as the database is a folder, and names the file to give", () => {
    const folder = join(dir, "a-folder");
    mkdirSync(folder);
    assert.throws(
      () => openDatabase({ path: folder }),
      (e) =>
        ArbiterError.is(e, "store-error") &&
        e.message.includes(`${folder} is a folder`) &&
        e.message.includes(join(folder, "arbiter.db")),
    );
  });

  it("names the path of a file that is not a SQLite database", () => {
    const path = fresh("garbage");
    writeFileSync(
      path,
      "this is not a database, just some text that is long enough to have a header ".repeat(20),
    );
    assert.throws(
      () => new SqliteStore({ path }),
      (e) =>
        ArbiterError.is(e, "store-error") &&
        e.isInputError &&
        e.message.includes(path) &&
        /not a readable/.test(e.message),
    );
  });

  it("names the path of a corrupt database", () => {
    const path = fresh("corrupt");
    const store = new SqliteStore({ path });
    for (let i = 0; i < 200; i++)
      store.appendEvent({ type: "warning", runId: "r", at: i, message: "x".repeat(200) });
    store.close();
    const bytes = readFileSync(path);
    bytes.fill(0xa5, 4096, bytes.length); // keep the header, destroy every page after the first
    writeFileSync(path, bytes);
    assert.throws(
      () => {
        const reopened = new SqliteStore({ path });
        try {
          reopened.readEvents("r");
        } finally {
          reopened.close();
        }
      },
      (e) => ArbiterError.is(e, "store-error") && e.message.includes(path),
    );
  });

  it("refuses a SQLite database whose tables clash with the store's, and shares a file with other stores", () => {
    const path = fresh("foreign");
    const raw = new DatabaseSync(path);
    raw.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY); CREATE TABLE customers (id INTEGER PRIMARY KEY)");
    raw.close();
    assert.throws(
      () => new SqliteStore({ path }),
      (e) =>
        ArbiterError.is(e, "store-error") &&
        /did not create \(it has tables runs but no schema_version\)/.test(e.message),
    );

    const sharedPath = fresh("shared");
    const connection = new DatabaseSync(sharedPath);
    connection.exec("CREATE TABLE budget_ledger_calls (id INTEGER PRIMARY KEY)");
    const store = new SqliteStore({ path: sharedPath, database: connection });
    store.createRun({
      id: "r1",
      tenant: "t",
      profile: { name: "p", version: "1" },
      request: {},
      createdAt: 1,
    });
    store.close();
    assert.equal(connection.isOpen, true, "a shared connection is the caller's to close");
    assert.equal((connection.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n, 1);
    connection.close();
    assert.throws(
      () => new SqliteStore({ path: sharedPath, database: new DatabaseSync(":memory:"), commit: "grouped" }),
      (e) => ArbiterError.is(e, "invalid-argument"),
    );
  });

  it("says what to do when another process holds the write lock", () => {
    const path = fresh("locked");
    const store = new SqliteStore({ path, busyTimeoutMs: 50 });
    const holder = new DatabaseSync(path);
    holder.exec("BEGIN EXCLUSIVE");
    try {
      assert.throws(
        () => store.appendEvent({ type: "warning", runId: "r", at: 1, message: "x" }),
        (e) =>
          ArbiterError.is(e, "store-error") &&
          /locked by another process/.test(e.message) &&
          e.message.includes(path),
      );
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
      store.close();
    }
  });
});

describe("fixture written by schema version 1", () => {
  it("stays readable: runs, steps, journal, approvals and signals", async () => {
    const path = fresh("fixture");
    copyFileSync(new URL("../../../test/fixtures/store/v1.db", import.meta.url), path);
    const store = new SqliteStore({ path });
    try {
      const run = store.getRun(FIXTURE_RUN_ID);
      assert.equal(run?.status, "waiting");
      assert.equal(run?.v, 1);
      assert.deepEqual(run?.request, {
        message: "I want a credit for the outage",
        context: { customerId: "C-1001" },
      });
      assert.deepEqual(
        store.loadSteps(FIXTURE_RUN_ID).map((s) => [s.name, s.attempt, s.state, s.v]),
        [
          ["$now#0", 0, "completed", 1],
          ["tool:t1/issue_credit/fedcba9876543210#0", 0, "started", 1],
          ["tool:t1/lookup_account/0123456789abcdef#0", 0, "failed", 1],
          ["tool:t1/lookup_account/0123456789abcdef#0", 1, "completed", 1],
        ],
      );
      assert.deepEqual(
        store.readEvents(FIXTURE_RUN_ID).map((e) => [e.seq, e.v, e.event.type]),
        [
          [1, 1, "run-start"],
          [2, 1, "escalation-pending"],
        ],
      );
      assert.equal(store.getApproval("ap_fixture_v1")?.status, "pending");
      assert.deepEqual(
        store.listUnfinished().map((r) => r.id),
        [FIXTURE_RUN_ID],
      );

      // The engine resumes the recorded run: replays, in-doubt detection, then new work and a decision.
      const engine = new LocalDurableEngine({ store });
      const resumed = engine.open(FIXTURE_RUN_ID);
      assert.equal(resumed.now(), 1_700_000_000_001);
      await assert.rejects(
        resumed.step("tool:t1/lookup_account/0123456789abcdef#0", async () => "new"),
        (e) => ArbiterError.is(e, "timeout"),
      );
      assert.deepEqual(await resumed.step("tool:t1/lookup_account/0123456789abcdef#0", async () => "new"), {
        value: { plan: "fiber-100", balance: 42.5 },
        replayed: true,
      });
      await assert.rejects(
        resumed.step("tool:t1/issue_credit/fedcba9876543210#0", async () => "again"),
        (e) => e instanceof InDoubtError,
      );
      store.decideApproval("ap_fixture_v1", { status: "approved", by: "dana", at: 1_700_000_000_100 });
      const decision = await resumed.waitForSignal(approvalTopic("ap_fixture_v1"), { timeoutMs: 1_000 });
      assert.equal(decision.status, "received");
      assert.equal(
        store.appendEvent({ type: "warning", runId: FIXTURE_RUN_ID, at: 1, message: "later" }).entry.seq,
        3,
      );
      engine.close();
      // Entries journaled before the audit chain existed stay outside it, and say so; new ones are chained.
      const report = verifyAudit(store.database);
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.seq]),
        [
          ["unchained", 1],
          ["unchained", 2],
        ],
      );
      assert.equal(report.entries, 1);
    } finally {
      store.close();
    }
  });
});

/** What the fixtures of versions 2 and 3 hold as written: two entries, four steps, one signed checkpoint. */
function assertAsWritten(store: SqliteStore, version: number): void {
  assert.equal(store.getRun(FIXTURE_RUN_ID)?.v, version);
  assert.deepEqual(
    store.readEvents(FIXTURE_RUN_ID).map((e) => [e.seq, e.v, e.event.type]),
    [
      [1, 1, "run-start"],
      [2, 1, "escalation-pending"],
    ],
  );
  assert.equal(store.loadSteps(FIXTURE_RUN_ID).length, 4);
  const report = verifyAudit(store.database);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.deepEqual([report.entries, report.checkpoints], [2, 1]);
}

describe("fixture written by schema version 2", () => {
  it("stays readable, and its audit chain and signed checkpoint still verify and go on", () => {
    const path = fresh("fixture2");
    copyFileSync(new URL("../../../test/fixtures/store/v2.db", import.meta.url), path);
    const signer = loadCheckpointSigner({ file: join(dir, "fixture2-key.pem") });
    const store = new SqliteStore({ path, signer });
    try {
      assert.equal(store.getRun(FIXTURE_RUN_ID)?.status, "waiting");
      assertAsWritten(store, 2);
      // The key is still honoured, and the chain goes on from the migrated head.
      assert.equal(
        store.appendEvent(
          { type: "warning", runId: FIXTURE_RUN_ID, at: 1, message: "later" },
          "escalation:t1",
        ).appended,
        false,
      );
      store.appendEvent({ type: "warning", runId: FIXTURE_RUN_ID, at: 2, message: "later" });
      store.checkpoint();
      const after = verifyAudit(store.database);
      assert.equal(after.ok, true, JSON.stringify(after.problems));
      assert.deepEqual([after.entries, after.checkpoints], [3, 2]);
    } finally {
      store.close();
    }
  });
});

/** A copy of the fixture a schema version left, opened with grouped commits as the runtime opens it. */
function openFixture(version: number, options: { signed?: boolean } = {}): SqliteStore {
  const path = fresh(`fixture${version}`);
  copyFileSync(new URL(`../../../test/fixtures/store/v${version}.db`, import.meta.url), path);
  const signer = options.signed
    ? loadCheckpointSigner({ file: join(dir, `fixture${version}-key.pem`) })
    : undefined;
  return new SqliteStore({ path, commit: "grouped", ...(signer ? { signer } : {}) });
}

describe("fixture written by schema version 3", () => {
  it("migrates to one-row batches: entries, keys and the signed chain carry over, and batches follow", async () => {
    const store = openFixture(3, { signed: true });
    try {
      assertAsWritten(store, 3);
      const replayed = store.appendEvent(
        { type: "warning", runId: FIXTURE_RUN_ID, at: 1, message: "later" },
        "escalation:t1",
      );
      assert.deepEqual([replayed.appended, replayed.entry.seq], [false, 2], "the key is still honoured");
      store.appendEvent({ type: "warning", runId: FIXTURE_RUN_ID, at: 2, message: "later" });
      store.appendEvent({ type: "warning", runId: FIXTURE_RUN_ID, at: 3, message: "later still" });
      await store.sync();
      store.checkpoint();
      const rows = store.database.prepare("SELECT gseq, seq, n FROM journal ORDER BY gseq").all();
      assert.deepEqual(
        rows.map((r) => [r.gseq, r.seq, r.n]),
        [
          [1, 1, 1],
          [2, 2, 1],
          [3, 3, 2],
        ],
      );
      const after = verifyAudit(store.database);
      assert.equal(after.ok, true, JSON.stringify(after.problems));
      assert.deepEqual([after.entries, after.checkpoints], [4, 2]);
      assert.deepEqual(
        store.readEvents(FIXTURE_RUN_ID, 2).map((e) => e.seq),
        [3, 4],
      );
      // The step in doubt (a row of the old steps table) ends through the step log.
      const inDoubt = "tool:t1/issue_credit/fedcba9876543210#0";
      store.finishStep(FIXTURE_RUN_ID, inDoubt, 0, {
        state: "completed",
        result: '{"creditId":"CR-9"}',
        endedAt: 7,
      });
      assert.throws(
        () =>
          store.finishStep(FIXTURE_RUN_ID, "tool:t1/never#0", 0, {
            state: "completed",
            result: null,
            endedAt: 7,
          }),
        /never started/,
      );
      await store.sync();
      const ended = store.loadSteps(FIXTURE_RUN_ID).find((s) => s.name === inDoubt);
      assert.deepEqual(
        [ended?.state, ended?.result, ended?.idempotent, ended?.startedAt, ended?.endedAt],
        ["completed", '{"creditId":"CR-9"}', false, 1_700_000_000_006, 7],
      );
      assert.equal(store.loadSteps(FIXTURE_RUN_ID).length, 4);
    } finally {
      store.close();
    }
  });
});

describe("fixture written by schema version 4", () => {
  it("keeps its steps (the steps table) beside the step log that follows, and its chain verifies", async () => {
    const store = openFixture(4, { signed: true });
    try {
      assert.equal(store.getRun(FIXTURE_RUN_ID)?.v, 4);
      const before = store.loadSteps(FIXTURE_RUN_ID);
      assert.deepEqual(
        before.map((s) => [s.name, s.attempt, s.state, s.v]),
        [
          ["$now#0", 0, "completed", 4],
          ["tool:t1/issue_credit/fedcba9876543210#0", 0, "started", 4],
          ["tool:t1/lookup_account/0123456789abcdef#0", 0, "failed", 4],
          ["tool:t1/lookup_account/0123456789abcdef#0", 1, "completed", 4],
        ],
      );
      store.startStep({
        runId: FIXTURE_RUN_ID,
        name: "tool:t1/issue_credit/fedcba9876543210#0",
        attempt: 0,
        idempotent: false,
        startedAt: 9,
      });
      store.appendEvent({ type: "warning", runId: FIXTURE_RUN_ID, at: 9, message: "re-run after approval" });
      await store.sync();
      const restarted = store
        .loadSteps(FIXTURE_RUN_ID)
        .find((s) => s.name.startsWith("tool:t1/issue_credit"));
      assert.deepEqual(
        [restarted?.state, restarted?.startedAt, restarted?.v],
        ["started", 9, STORE_SCHEMA_VERSION],
      );
      store.checkpoint();
      const report = verifyAudit(store.database);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entries, 3);
    } finally {
      store.close();
    }
  });
});

describe("fixture written by schema version 5", () => {
  it("reads its batch row, its step log and its signed chain", () => {
    const store = openFixture(5);
    try {
      assert.deepEqual(
        store.readEvents(FIXTURE_RUN_ID).map((e) => [e.seq, e.event.type]),
        [
          [1, "run-start"],
          [2, "escalation-pending"],
        ],
      );
      assert.equal(
        store.appendEvent({ type: "warning", runId: FIXTURE_RUN_ID, at: 1, message: "x" }, "escalation:t1")
          .appended,
        false,
      );
      assert.deepEqual(
        store.loadSteps(FIXTURE_RUN_ID).map((s) => [s.name, s.attempt, s.state]),
        [
          ["$now#0", 0, "completed"],
          ["tool:t1/issue_credit/fedcba9876543210#0", 0, "started"],
          ["tool:t1/lookup_account/0123456789abcdef#0", 0, "failed"],
          ["tool:t1/lookup_account/0123456789abcdef#0", 1, "completed"],
        ],
      );
      const report = verifyAudit(store.database);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual([report.entries, report.checkpoints], [2, 1]);
    } finally {
      store.close();
    }
  });
});

describe("resolveDbPath", () => {
  it("takes the option, then ARBITER_DB, then ./.arbiter/arbiter.db, made absolute", () => {
    assert.equal(resolveDbPath("x.db", { ARBITER_DB: "/env.db" }, "/work"), "/work/x.db");
    assert.equal(resolveDbPath(undefined, { ARBITER_DB: "/env.db" }, "/work"), "/env.db");
    assert.equal(resolveDbPath(undefined, { ARBITER_DB: "  " }, "/work"), "/work/.arbiter/arbiter.db");
    assert.equal(resolveDbPath(undefined, {}, "/work"), "/work/.arbiter/arbiter.db");
    assert.equal(resolveDbPath(":memory:", {}, "/work"), ":memory:");
  });
});
