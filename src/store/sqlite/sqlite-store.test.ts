import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { loadCheckpointSigner } from "../../journal/audit/checkpoint-key.ts";
import { verifyAudit } from "../../journal/audit/verify-audit.ts";
import { runStoreContract } from "../store-contract.ts";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract("sqlite", () => new SqliteStore({ path: join(dir, `contract-${n++}.db`) }));

runStoreContract(
  "sqlite, grouped commits",
  () => new SqliteStore({ path: join(dir, `contract-${n++}.db`), commit: "grouped" }),
);

runStoreContract(
  "sqlite, grouped commits with WAL barriers",
  () => new SqliteStore({ path: join(dir, `contract-${n++}.db`), commit: "grouped", synchronous: "normal" }),
);

describe("grouped commits with WAL barriers (synchronous = normal)", () => {
  const open = () => {
    const path = join(dir, `barrier-${n++}.db`);
    return { path, store: new SqliteStore({ path, commit: "grouped", synchronous: "normal" }) };
  };
  const seenByAnotherProcess = (path: string, runId: string) => {
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      return reader
        .prepare("SELECT COALESCE(SUM(json_array_length(records)), 0) AS n FROM step_log WHERE run_id = ?")
        .get(runId)?.n;
    } finally {
      reader.close();
    }
  };
  const run = { tenant: "t", profile: { name: "p", version: "1" }, request: {}, createdAt: 1 };

  it("holds a turn's writes (steps and run rows alike) in one commit that sync() waits for", async () => {
    const { path, store } = open();
    try {
      store.createRun({ id: "r1", ...run });
      assert.equal(store.claimRun("r1", "me", 10_000, 1), true, "a claim joins the open group");
      store.startStep({ runId: "r1", name: "tool:t1/x/h#0", attempt: 0, idempotent: false, startedAt: 2 });
      assert.equal(seenByAnotherProcess(path, "r1"), 0, "not committed before the end of the turn");
      await store.sync();
      assert.equal(seenByAnotherProcess(path, "r1"), 1);
      assert.equal(store.getRun("r1")?.owner, "me");
    } finally {
      store.close();
    }
  });

  it("serves many concurrent barriers (each after its own writes) and keeps every write", async () => {
    const { path, store } = open();
    try {
      store.createRun({ id: "r2", ...run });
      const barriers: Array<Promise<void>> = [];
      for (let turn = 0; turn < 20; turn++) {
        for (let i = 0; i < 5; i++) {
          store.startStep({
            runId: "r2",
            name: `tool:t${turn}/x/${i}#0`,
            attempt: 0,
            idempotent: false,
            startedAt: 3,
          });
          barriers.push(store.sync());
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(barriers);
      assert.equal(seenByAnotherProcess(path, "r2"), 100);
      await store.sync(); // nothing pending: still resolves
    } finally {
      store.close();
    }
  });
});

describe("grouped appends (numbered and keyed in memory, written as the group commits)", () => {
  const warning = (runId: string, message: string) => ({ type: "warning" as const, runId, at: 1, message });
  const open = () => {
    const path = join(dir, `grouped-${n++}.db`);
    return { path, store: new SqliteStore({ path, commit: "grouped" }) };
  };

  it("reads its own appends before they commit, and commits them together", async () => {
    const { path, store } = open();
    try {
      store.appendEvent(warning("r", "a"), "k1");
      store.appendEvent(warning("r", "b"));
      assert.deepEqual(
        store.readEvents("r").map((e) => e.seq),
        [1, 2],
      );
      const other = new DatabaseSync(path, { readOnly: true });
      try {
        const count = (table: string) => other.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n;
        assert.equal(count("journal_entries"), 0, "nothing committed inside the turn");
        await store.sync();
        assert.equal(count("journal_entries"), 2);
        assert.equal(count("journal"), 1, "one row: the run's entries of the group, one link of the chain");
      } finally {
        other.close();
      }
      const again = store.appendEvent(warning("r", "a, replayed"), "k1");
      assert.equal(again.appended, false);
      assert.equal(again.entry.seq, 1);
      assert.deepEqual(again.entry.event, warning("r", "a"));
    } finally {
      store.close();
    }
  });

  it("numbers and keys appends correctly after another connection appended to the same run", async () => {
    const { path, store } = open();
    const other = new SqliteStore({ path });
    try {
      store.appendEvent(warning("r", "mine"), "k1");
      await store.sync();
      assert.equal(other.appendEvent(warning("r", "theirs"), "k2").entry.seq, 2);
      assert.equal(store.appendEvent(warning("r", "theirs, again"), "k2").appended, false);
      assert.equal(store.appendEvent(warning("r", "mine again")).entry.seq, 3);
      await store.sync();
      assert.deepEqual(
        other.readEvents("r").map((e) => (e.event as { message: string }).message),
        ["mine", "theirs", "mine again"],
      );
    } finally {
      other.close();
      store.close();
    }
  });

  it("loses a group whose rows cannot be written as a whole, and says so to sync() and onError", async () => {
    const path = join(dir, `grouped-${n++}.db`);
    const errors: unknown[] = [];
    const store = new SqliteStore({ path, commit: "grouped", onError: (e) => errors.push(e) });
    const other = new SqliteStore({ path });
    try {
      store.appendEvent(warning("r", "first"));
      await store.sync();
      // The cached next seq goes stale in a way no commit from elsewhere announces: the row is taken.
      store.appendEvent(warning("x", "opens a group"));
      store.database.exec(
        `INSERT INTO journal (gseq, run_id, seq, n, v, type, at, key, keys, event, prev, hash)
         SELECT gseq + n, 'r', 2, 1, v, 'warning', at, NULL, NULL, '{}', hash, hash FROM journal ORDER BY gseq DESC LIMIT 1`,
      );
      store.appendEvent(warning("r", "second"));
      await assert.rejects(store.sync(), /committing grouped writes failed \(they were lost\)/);
      assert.equal(errors.length, 1);
      assert.deepEqual(
        other.readEvents("r").map((e) => e.seq),
        [1],
        "the group's rows are all gone, the committed ones all kept",
      );
      assert.deepEqual(other.readEvents("x"), []);
    } finally {
      other.close();
      store.close();
    }
  });

  it("after a failed group, refuses the writes of the runs it held (until one is claimed again) and names them to onError", async () => {
    const path = join(dir, `grouped-${n++}.db`);
    const reports: Array<readonly string[]> = [];
    const store = new SqliteStore({ path, commit: "grouped", onError: (_e, runs) => reports.push(runs) });
    try {
      const run = (id: string) => ({
        id,
        tenant: "t",
        profile: { name: "p", version: "1" },
        createdAt: 1,
        request: {},
      });
      store.createRun(run("kept"));
      await store.commit();
      assert.equal(store.runRecorded("kept"), undefined, "committed: nothing to wait for");
      store.database.exec(
        "CREATE TRIGGER full BEFORE INSERT ON runs WHEN NEW.id = 'doomed' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      );
      await store.commit();
      store.createRun(run("doomed"));
      store.appendEvent(warning("kept", "in the doomed group"));
      store.startStep({ runId: "kept", name: "tool:t1/x#0", attempt: 0, idempotent: true, startedAt: 2 });
      const recorded = store.runRecorded("doomed");
      assert.ok(recorded !== undefined, "created in the open group: wait for its commit");
      await assert.rejects(recorded, /committing grouped writes failed/);
      assert.deepEqual(reports, [["doomed", "kept"]]);
      assert.throws(
        () => store.appendEvent(warning("doomed", "after")),
        (e) => ArbiterError.is(e, "store-error") && /run "doomed" was never recorded/.test(e.message),
      );
      assert.throws(
        () =>
          store.startStep({ runId: "kept", name: "tool:t1/y#0", attempt: 0, idempotent: true, startedAt: 3 }),
        /run "kept" lost its last writes: .*`arbiter resume` continues it/,
      );
      assert.throws(() => store.setRunStatus("kept", "completed", 4), /lost its last writes/);
      await assert.rejects(store.runRecorded("kept")!, /lost its last writes/);
      assert.deepEqual(store.loadSteps("kept"), [], "the step start went with the group");
      // Resumed from its record (a claim), the run writes again; an untouched run never stopped.
      assert.equal(store.claimRun("kept", "me", 10_000, 5), true);
      store.appendEvent(warning("kept", "resumed"));
      store.appendEvent(warning("other", "untouched"));
      await store.commit();
      assert.deepEqual(
        store.readEvents("kept").map((e) => (e.event as { message: string }).message),
        ["resumed"],
      );
    } finally {
      store.close();
    }
  });

  it("logs a run's step writes of one group as one row; a step started in one group ends in a later one", async () => {
    const { path, store } = open();
    const other = new DatabaseSync(path, { readOnly: true });
    try {
      const rows = () => other.prepare("SELECT COUNT(*) AS n FROM step_log").get()?.n;
      store.startStep({ runId: "r", name: "tool:t1/pay/0#0", attempt: 0, idempotent: false, startedAt: 1 });
      store.startStep({ runId: "r", name: "model:t1/w#1:0", attempt: 0, idempotent: true, startedAt: 2 });
      store.finishStep("r", "model:t1/w#1:0", 0, { state: "completed", result: '"hi"', endedAt: 3 });
      await store.sync();
      assert.equal(rows(), 1);
      store.finishStep("r", "tool:t1/pay/0#0", 0, {
        state: "failed",
        error: { name: "Error", message: "declined" },
        endedAt: 4,
      });
      store.startStep({ runId: "r", name: "tool:t1/pay/0#0", attempt: 1, idempotent: false, startedAt: 5 });
      await store.sync();
      assert.equal(rows(), 2);
      assert.deepEqual(
        store
          .loadSteps("r")
          .map((s) => [s.name, s.attempt, s.state, s.result, s.error?.message, s.startedAt, s.endedAt]),
        [
          ["model:t1/w#1:0", 0, "completed", '"hi"', undefined, 2, 3],
          ["tool:t1/pay/0#0", 0, "failed", null, "declined", 1, 4],
          ["tool:t1/pay/0#0", 1, "started", null, undefined, 5, null],
        ],
      );
    } finally {
      other.close();
      store.close();
    }
  });

  it("commits along the way when a caller writes without ever yielding to the event loop", async () => {
    const { path, store } = open();
    const other = new DatabaseSync(path, { readOnly: true });
    try {
      for (let i = 0; i < 25_000; i++) store.appendEvent(warning(`r${i % 50}`, `entry ${i}`));
      const committed = other.prepare("SELECT COUNT(*) AS n FROM journal_entries").get()?.n as number;
      assert.ok(committed >= 20_000 && committed < 25_000, `${committed} committed inside the turn`);
      await store.commit();
      assert.equal(other.prepare("SELECT COUNT(*) AS n FROM journal_entries").get()?.n, 25_000);
      assert.equal(store.readEvents("r7").length, 500);
    } finally {
      other.close();
      store.close();
    }
  });

  it("inserts a run created in a group once, as it is when the group is written", async () => {
    const { path, store } = open();
    const other = new DatabaseSync(path, { readOnly: true });
    const run = { tenant: "t", profile: { name: "p", version: "1" }, request: { message: "hi" } };
    try {
      other.exec("SELECT 1"); // (the reader is open before the writes)
      store.createRun({ id: "r1", ...run, createdAt: 1, status: "running" });
      assert.throws(() => store.createRun({ id: "r1", ...run, createdAt: 2 }), /already exists/);
      assert.equal(store.claimRun("r1", "me", 100, 1), true);
      assert.equal(store.claimRun("r1", "someone else", 100, 50), false, "held until its lease lapses");
      assert.equal(store.renewLease("r1", "me", 200), true);
      assert.equal(store.renewLease("r1", "someone else", 300), false);
      assert.equal(store.getRun("r1")?.owner, "me", "read from the group");
      store.setRunStatus("r1", "completed", 5);
      assert.equal(store.getRun("r1")?.status, "completed");
      store.releaseRun("r1", "me");
      assert.equal(other.prepare("SELECT COUNT(*) AS n FROM runs").get()?.n, 0, "nothing before the commit");
      await store.commit();
      const row = other
        .prepare("SELECT status, owner, lease_until, created_at, updated_at, request FROM runs")
        .all();
      assert.deepEqual(
        row.map((r) => ({ ...r })),
        [
          {
            status: "completed",
            owner: null,
            lease_until: null,
            created_at: 1,
            updated_at: 5,
            request: '{"message":"hi"}',
          },
        ],
      );
      assert.throws(() => store.createRun({ id: "r1", ...run, createdAt: 3 }), /already exists/);
      // Listing reads the table: a run created in the open group is written first.
      store.createRun({ id: "r2", ...run, createdAt: 6 });
      assert.equal(store.claimRun("r2", "me", 100, 6), true);
      assert.deepEqual(
        store.listUnfinished().map((r) => [r.id, r.status, r.owner]),
        [["r2", "created", "me"]],
      );
      store.setRunStatus("r2", "failed", 7);
      assert.equal(store.getRun("r2")?.status, "failed", "after it was written, an UPDATE");
      // A new run's journal starts at 1; a run id that already has entries goes on after them.
      assert.equal(store.appendEvent(warning("r2", "first")).entry.seq, 1);
      store.appendEvent(warning("r3", "before its run row"));
      await store.commit();
      store.createRun({ id: "r3", ...run, createdAt: 8 });
      assert.equal(store.appendEvent(warning("r3", "second")).entry.seq, 2);
      await store.commit();
      const elsewhere = new SqliteStore({ path });
      elsewhere.appendEvent(warning("r4", "from another connection"));
      elsewhere.close();
      store.createRun({ id: "r4", ...run, createdAt: 9 });
      assert.equal(store.appendEvent(warning("r4", "second")).entry.seq, 2);
      assert.equal(store.claimRun("r4", "me", 100, 9), true);
      assert.equal(store.claimRun("r4", "another", 200, 101), true, "a lapsed lease is taken");
      assert.equal(store.claimRun("r2", "another", 100, 101), false, "a finished run is not");
      assert.deepEqual(
        store.listRuns().map((r) => [r.id, r.status, r.owner]),
        [
          ["r4", "created", "another"],
          ["r3", "created", null],
          ["r2", "failed", "me"],
          ["r1", "completed", null],
        ],
      );
    } finally {
      other.close();
      store.close();
    }
  });

  it("takes the write lock only as it writes: another process writes while a group is open, and the chain stays whole", async () => {
    const path = join(dir, `grouped-${n++}.db`);
    const signer = loadCheckpointSigner({ file: join(dir, `key-${n++}.pem`) });
    const store = new SqliteStore({ path, commit: "grouped", signer });
    // A busy timeout of 0: a write that found the lock taken would fail at once instead of waiting.
    const other = new SqliteStore({ path, signer, busyTimeoutMs: 0 });
    const run = { tenant: "t", profile: { name: "p", version: "1" }, request: { message: "hi" } };
    try {
      store.createRun({ id: "mine", ...run, createdAt: 1, status: "running" });
      store.appendEvent(warning("mine", "m1"));
      store.startStep({ runId: "mine", name: "s", attempt: 1, idempotent: true, startedAt: 1 });
      // The group is open with writes buffered: another connection appends, creates and decides meanwhile.
      other.appendEvent(warning("theirs", "t1"));
      other.createRun({ id: "theirs", ...run, createdAt: 2 });
      other.checkpoint();
      store.appendEvent(warning("mine", "m2"));
      await store.commit();
      // A run's status and release made in a later turn are buffered too, and read back from the group.
      store.setRunStatus("mine", "completed", 9);
      store.releaseRun("mine", "nobody");
      assert.equal(store.getRun("mine")?.status, "completed");
      other.appendEvent(warning("theirs", "t2"));
      assert.equal(other.getRun("mine")?.status, "running", "not written before the group commits");
      assert.throws(() => store.setRunStatus("nowhere", "failed", 9), /unknown run|no run/i);
      await store.commit();
      assert.equal(other.getRun("mine")?.status, "completed");
      assert.deepEqual(
        store.readEvents("mine").map((e) => (e.event as { message: string }).message),
        ["m1", "m2"],
      );
      const report = verifyAudit(store.database);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entries, 4);
    } finally {
      other.close();
      store.close();
    }
  });

  /**
   * A grouped store that keeps what it tells `onError`, and another connection to its file (a stand-in for
   * another process) opened with `otherOptions`.
   */
  const withAnother = (otherOptions: Partial<SqliteStoreOptions>) => {
    const path = join(dir, `grouped-${n++}.db`);
    const errors: Array<{ error: unknown; runs: readonly string[] }> = [];
    const store = new SqliteStore({
      path,
      commit: "grouped",
      onError: (error, runs) => errors.push({ error, runs }),
    });
    return { store, other: new SqliteStore({ path, ...otherOptions }), errors };
  };

  it("loses only the run another process recorded under the same id while the group was open", async () => {
    const { store, other, errors } = withAnother({ busyTimeoutMs: 0 });
    const run = { tenant: "t", profile: { name: "p", version: "1" }, request: { message: "hi" } };
    try {
      store.createRun({ id: "both", ...run, createdAt: 1 });
      store.appendEvent(warning("both", "mine"));
      store.createRun({ id: "only-mine", ...run, createdAt: 1 });
      store.appendEvent(warning("only-mine", "kept"));
      other.createRun({ id: "both", ...run, createdAt: 2 });
      other.appendEvent(warning("both", "theirs"));
      await store.commit();
      assert.equal(errors.length, 1);
      assert.deepEqual(errors[0]!.runs, ["both"]);
      assert.match(String(errors[0]!.error), /already exists/);
      assert.throws(() => store.appendEvent(warning("both", "refused")), /never recorded/);
      assert.deepEqual(
        other.readEvents("both").map((e) => (e.event as { message: string }).message),
        ["theirs"],
      );
      assert.equal(store.readEvents("only-mine").length, 1);
      // An id said to be fresh is not looked up: one already recorded is refused as the group commits.
      store.createRun({ id: "only-mine", ...run, createdAt: 3, fresh: true });
      store.appendEvent(warning("only-mine", "not merged"));
      await store.commit();
      assert.equal(errors.length, 2);
      assert.deepEqual(errors[1]!.runs, ["only-mine"]);
      assert.equal(other.readEvents("only-mine").length, 1, "the recorded run is left as it was");
      assert.equal(verifyAudit(store.database).ok, true);
    } finally {
      other.close();
      store.close();
    }
  });

  /**
   * A grouped store with a run ("r0") on disk, and another connection that then holds the write lock (as a
   * long transaction of another process would).
   */
  const lockedByAnother = async (options: { busyTimeoutMs: number; lockPatienceMs?: number }) => {
    const path = join(dir, `grouped-${n++}.db`);
    const errors: Array<{ error: unknown; runs: readonly string[] }> = [];
    const notes: string[] = [];
    const store = new SqliteStore({
      path,
      commit: "grouped",
      ...options,
      onError: (error, runs) => errors.push({ error, runs }),
      onNote: (note) => notes.push(note),
    });
    store.createRun({ id: "r0", ...lockRun, createdAt: 1 });
    await store.commit();
    const other = new DatabaseSync(path, { timeout: 0 });
    other.exec("BEGIN IMMEDIATE");
    const close = () => {
      if (other.isTransaction) other.exec("ROLLBACK");
      other.close();
      store.close();
    };
    return { store, other, errors, notes, close };
  };
  const lockRun = { tenant: "t", profile: { name: "p", version: "1" }, request: { message: "hi" } };

  it("keeps a group's writes while another process holds the write lock, without blocking the event loop, and commits them once it is free", async () => {
    const { store, other, errors, notes, close } = await lockedByAnother({ busyTimeoutMs: 20 });
    try {
      store.createRun({ id: "r1", ...lockRun, createdAt: 2, status: "running" });
      store.appendEvent(warning("r1", "m1"));
      store.startStep({ runId: "r1", name: "s", attempt: 1, idempotent: false, startedAt: 2 });
      let committed = false;
      const waiting = store.commit().then(() => {
        committed = true;
      });
      // Meanwhile the event loop runs (timers fire on time) and the run goes on writing into the group.
      const ticks: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        await new Promise((r) => setTimeout(r, 20));
        ticks.push(performance.now() - started);
      }
      assert.ok(
        Math.max(...ticks) < 150,
        `timers were held up: ${ticks.map((t) => t.toFixed(0)).join(", ")} ms`,
      );
      store.appendEvent(warning("r1", "m2"), "k2");
      store.finishStep("r1", "s", 1, { state: "completed", result: "1", endedAt: 3 });
      // A replayed append (its key taken in this group) is answered from memory: no lock needed.
      const again = store.appendEvent(warning("r1", "m2, replayed"), "k2");
      assert.equal(again.appended, false);
      assert.deepEqual(again.entry.event, warning("r1", "m2"));
      assert.equal(committed, false, "nothing commits while the lock is held");
      assert.equal(store.getRun("r1")?.status, "running", "the buffered run is read from the group");
      assert.throws(
        () => store.readEvents("r1"),
        /locked by another process/,
        "a read of unwritten rows says why",
      );
      assert.deepEqual(errors, [], "nothing was given up");
      assert.equal(notes.length, 1, "said once");
      assert.match(notes[0]!, /is locked by another process: the writes of 1 run wait .* up to 60 s/);
      other.exec("COMMIT");
      await waiting;
      assert.equal(notes.length, 2);
      assert.match(notes[1]!, /can be written again: the writes that waited \d+\.\d s are committed/);
      assert.deepEqual(
        store.readEvents("r1").map((e) => (e.event as { message: string }).message),
        ["m1", "m2"],
      );
      assert.deepEqual(
        store.loadSteps("r1").map((step) => step.state),
        ["completed"],
      );
      const seen = other.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number };
      assert.equal(seen.n, 2, "another connection sees both runs");
      assert.equal(verifyAudit(store.database).ok, true);
      assert.deepEqual(errors, []);
    } finally {
      close();
    }
  });

  it("gives a group up (stopping its runs and saying why) once the lock has been held past its patience", async () => {
    const { store, other, errors, close } = await lockedByAnother({ busyTimeoutMs: 10, lockPatienceMs: 150 });
    try {
      store.appendEvent(warning("r0", "lost"));
      const started = performance.now();
      await assert.rejects(store.commit(), /locked by another process/);
      assert.ok(performance.now() - started >= 140, "it waited its patience first");
      assert.equal(errors.length, 1);
      assert.deepEqual(errors[0]!.runs, ["r0"]);
      other.exec("ROLLBACK");
      assert.throws(() => store.appendEvent(warning("r0", "refused")), /lost its last writes/);
      assert.equal(store.readEvents("r0").length, 0, "what the database held is as it was");
    } finally {
      close();
    }
  });

  it("drops the writes of a run another process took over while this one was stalled, and commits the rest of the group", async () => {
    const { store, other, errors } = withAnother({ commit: "grouped" });
    const run = { tenant: "t", profile: { name: "p", version: "1" }, request: { message: "hi" } };
    try {
      store.createRun({ id: "r", ...run, createdAt: 1, status: "running" });
      assert.equal(store.claimRun("r", "host:1:a", 1_000, 1), true);
      store.appendEvent(warning("r", "mine"));
      await store.commit();
      // This process stalls past its lease; another one takes the run over, finishes and releases it.
      assert.equal(other.claimRun("r", "host:2:b", 20_000, 2_000), true);
      other.appendEvent(warning("r", "theirs"));
      other.setRunStatus("r", "completed", 2_001);
      other.releaseRun("r", "host:2:b");
      await other.commit();
      // The stalled one wakes up and goes on writing, for that run and another.
      store.appendEvent(warning("r", "stale"));
      store.createRun({ id: "r2", ...run, createdAt: 3, status: "running" });
      store.appendEvent(warning("r2", "kept"));
      await store.commit();
      assert.equal(errors.length, 1);
      assert.deepEqual(errors[0]!.runs, ["r"]);
      assert.match(
        String(errors[0]!.error),
        /run "r" was taken over by another process .*its last writes here were dropped/,
      );
      assert.throws(() => store.appendEvent(warning("r", "refused")), /taken over/);
      assert.deepEqual(
        other.readEvents("r").map((e) => (e.event as { message: string }).message),
        ["mine", "theirs"],
      );
      assert.equal(other.readEvents("r2").length, 1, "the group's other run committed");
      assert.equal(verifyAudit(store.database).ok, true);
    } finally {
      other.close();
      store.close();
    }
  });

  it("keeps the audit chain whole when another connection appends and checkpoints between its groups", async () => {
    const path = join(dir, `grouped-${n++}.db`);
    const signer = loadCheckpointSigner({ file: join(dir, `key-${n++}.pem`) });
    const store = new SqliteStore({ path, commit: "grouped", signer });
    const other = new SqliteStore({ path, signer });
    try {
      for (let round = 0; round < 3; round++) {
        store.appendEvent(warning("mine", `m${round}`));
        store.appendEvent({ ...warning("mine", "end"), type: "warning" });
        await store.commit();
        other.appendEvent(warning("theirs", `t${round}`));
        other.checkpoint();
      }
      store.appendEvent(warning("mine", "last"));
      await store.commit();
      store.checkpoint();
      store.appendEvent(warning("mine", "after my checkpoint"));
      await store.commit();
      const report = verifyAudit(store.database);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entries, 11);
    } finally {
      other.close();
      store.close();
    }
  });
});
