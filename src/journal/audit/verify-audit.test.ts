import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import type { RunEvent } from "../events.ts";
import { loadCheckpointSigner } from "./checkpoint-key.ts";
import { verifyAudit } from "./verify-audit.ts";

function journalWith(entries: number, checkpointEvery = 8) {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-"));
  const path = join(dir, "a.db");
  const signer = loadCheckpointSigner({ file: join(dir, "key.pem") });
  const store = new SqliteStore({ path, signer, checkpointEvery });
  for (let i = 0; i < entries; i++) {
    const runId = `run_${i % 3}`;
    const event = {
      type: "warning",
      runId,
      at: 1_700_000_000_000 + i,
      message: `entry ${i} for ${runId}`,
    } as RunEvent;
    store.appendEvent(event);
  }
  store.close();
  // An attacker with the file: triggers out of the way.
  const db = new DatabaseSync(path);
  for (const t of ["journal_refuses_update", "journal_refuses_delete"]) {
    db.exec(`DROP TRIGGER ${t}`);
  }
  return db;
}

const runEnd = (runId: string): RunEvent => ({
  type: "run-end",
  runId,
  at: 1_700_000_000_000,
  status: "completed",
  answer: "done",
  durationMs: 1,
  usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
});

test("a clean journal verifies, with its signed checkpoints", () => {
  const db = journalWith(20);
  const report = verifyAudit(db);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.entries, 20);
  assert.equal(report.checkpoints, 2);
  assert.equal(report.runEntries, undefined);
  // One run's entries (every third of 20): the whole chain is checked, the run's own are counted.
  const one = verifyAudit(db, { runId: "run_1" });
  assert.deepEqual([one.ok, one.entries, one.runEntries], [true, 20, 7]);
});

test("every single-byte edit of an entry is detected, at that entry", () => {
  const db = journalWith(12);
  const row = db
    .prepare("SELECT run_id, seq, event FROM journal WHERE run_id = 'run_1' AND seq = 2")
    .get() as {
    run_id: string;
    seq: number;
    event: string;
  };
  const gseq = (
    db.prepare("SELECT gseq FROM journal WHERE run_id = 'run_1' AND seq = 2").get() as { gseq: number }
  ).gseq;
  const update = db.prepare("UPDATE journal SET event = ? WHERE run_id = ? AND seq = ?");
  const bytes = Buffer.from(row.event);
  let detected = 0;
  for (let i = 0; i < bytes.length; i++) {
    const edited = Buffer.from(bytes);
    edited[i] = edited[i] === 0x41 ? 0x42 : 0x41;
    update.run(edited.toString("latin1"), row.run_id, row.seq);
    const report = verifyAudit(db);
    if (!report.ok && report.firstBadGseq === gseq) detected++;
  }
  update.run(row.event, row.run_id, row.seq);
  assert.equal(detected, bytes.length, `${detected} of ${bytes.length} single-byte edits detected`);
  assert.equal(verifyAudit(db).ok, true);
});

test("a deleted entry, two swapped entries and a truncation after a checkpoint are each detected", () => {
  const deleted = journalWith(12);
  deleted.exec("DELETE FROM journal WHERE run_id = 'run_2' AND seq = 2");
  const d = verifyAudit(deleted);
  assert.equal(d.ok, false);
  assert.ok(d.problems.some((p) => p.kind === "missing" && p.seq === 2 && p.runId === "run_2"));

  const swapped = journalWith(12);
  const a = swapped.prepare("SELECT event FROM journal WHERE run_id = 'run_0' AND seq = 1").get() as {
    event: string;
  };
  const b = swapped.prepare("SELECT event FROM journal WHERE run_id = 'run_0' AND seq = 2").get() as {
    event: string;
  };
  swapped.prepare("UPDATE journal SET event = ? WHERE run_id = 'run_0' AND seq = 1").run(b.event);
  swapped.prepare("UPDATE journal SET event = ? WHERE run_id = 'run_0' AND seq = 2").run(a.event);
  const s = verifyAudit(swapped);
  assert.equal(s.ok, false);
  assert.equal(s.firstBadGseq, 1);

  const truncated = journalWith(12, 8);
  truncated.exec("DELETE FROM journal WHERE gseq > 6");
  const t = verifyAudit(truncated);
  assert.equal(t.ok, false);
  assert.ok(
    t.problems.some((p) => p.kind === "truncated"),
    JSON.stringify(t.problems),
  );

  const rewritten = journalWith(12, 8);
  rewritten.exec("DELETE FROM journal WHERE gseq = 3");
  const r = verifyAudit(rewritten);
  assert.ok(!r.ok && r.firstBadGseq === 3);
});

test("runs that end in one commit group share one signed checkpoint, over the group's last entry", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-group-"));
  const signer = loadCheckpointSigner({ file: join(dir, "key.pem") });
  const store = new SqliteStore({
    path: join(dir, "a.db"),
    signer,
    commit: "grouped",
    synchronous: "normal",
  });
  for (const runId of ["r1", "r2", "r3"]) {
    store.appendEvent({ type: "warning", runId, at: 1_700_000_000_000, message: "work" } as RunEvent);
    store.appendEvent(runEnd(runId));
  }
  await store.sync();
  const db = store.database;
  const checkpoints = db.prepare("SELECT size FROM audit_checkpoints").all() as Array<{ size: number }>;
  assert.deepEqual(
    checkpoints.map((c) => c.size),
    [6],
  );
  const report = verifyAudit(db);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  store.appendEvent(runEnd("r4"));
  await store.sync();
  assert.equal((db.prepare("SELECT count(*) AS n FROM audit_checkpoints").get() as { n: number }).n, 2);
  store.close();
});

/** Three runs × `perRun` entries appended in each of `turns` turns of a grouped store: one row per run per turn. */
async function batchedJournal(turns: number, perRun: number) {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-batch-"));
  const path = join(dir, "a.db");
  const signer = loadCheckpointSigner({ file: join(dir, "key.pem") });
  const store = new SqliteStore({ path, signer, commit: "grouped", checkpointEvery: 1_000 });
  for (let turn = 0; turn < turns; turn++) {
    for (let i = 0; i < perRun; i++) {
      for (const runId of ["run_a", "run_b", "run_c"]) {
        const event = { type: "warning", runId, at: 1_700_000_000_000 + i, message: `${turn}.${i} ${runId}` };
        store.appendEvent(event as RunEvent, `k${turn}.${i}`);
      }
    }
    await store.sync();
  }
  store.checkpoint();
  store.close();
  const db = new DatabaseSync(path);
  for (const t of ["journal_refuses_update", "journal_refuses_delete"]) db.exec(`DROP TRIGGER ${t}`);
  return db;
}

test("a batch row (one run's entries of one commit group) verifies, and unpacks in journal_entries", async () => {
  const db = await batchedJournal(2, 4);
  const rows = db.prepare("SELECT gseq, run_id, seq, n FROM journal ORDER BY gseq").all();
  assert.deepEqual(
    rows.map((r) => [r.gseq, r.run_id, r.seq, r.n]),
    [
      [1, "run_a", 1, 4],
      [5, "run_b", 1, 4],
      [9, "run_c", 1, 4],
      [13, "run_a", 5, 4],
      [17, "run_b", 5, 4],
      [21, "run_c", 5, 4],
    ],
  );
  const report = verifyAudit(db);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.entries, 24);
  const b6 = db
    .prepare("SELECT gseq, type, key, event FROM journal_entries WHERE run_id = 'run_b' AND seq = 6")
    .get();
  assert.equal(b6?.gseq, 18);
  assert.equal(b6?.type, "warning");
  assert.equal(b6?.key, "k1.1");
  assert.equal(JSON.parse(b6?.event as string).message, "1.1 run_b");
});

test("every single-byte edit of a batch row is detected, at that row; so are a deleted row and swapped rows", async () => {
  const db = await batchedJournal(2, 3);
  const row = db.prepare("SELECT gseq, event FROM journal WHERE run_id = 'run_b' AND seq = 4").get() as {
    gseq: number;
    event: string;
  };
  const update = db.prepare("UPDATE journal SET event = ? WHERE gseq = ?");
  const bytes = Buffer.from(row.event);
  let detected = 0;
  for (let i = 0; i < bytes.length; i++) {
    const edited = Buffer.from(bytes);
    edited[i] = edited[i] === 0x41 ? 0x42 : 0x41;
    update.run(edited.toString("latin1"), row.gseq);
    const report = verifyAudit(db);
    if (!report.ok && report.firstBadGseq === row.gseq) detected++;
  }
  update.run(row.event, row.gseq);
  assert.equal(detected, bytes.length, `${detected} of ${bytes.length} single-byte edits detected`);
  assert.equal(verifyAudit(db).ok, true);

  db.prepare("UPDATE journal SET n = 2 WHERE gseq = ?").run(row.gseq);
  assert.equal(verifyAudit(db).firstBadGseq, row.gseq, "a batch shortened by its count");
  db.prepare("UPDATE journal SET n = 3 WHERE gseq = ?").run(row.gseq);

  const a = db.prepare("SELECT event FROM journal WHERE gseq = 1").get() as { event: string };
  const c = db.prepare("SELECT event FROM journal WHERE gseq = 7").get() as { event: string };
  update.run(c.event, 1);
  update.run(a.event, 7);
  const swapped = verifyAudit(db);
  assert.equal(swapped.ok, false);
  assert.equal(swapped.firstBadGseq, 1);
  update.run(a.event, 1);
  update.run(c.event, 7);

  db.exec("DELETE FROM journal WHERE gseq = 4");
  const deleted = verifyAudit(db);
  assert.equal(deleted.ok, false);
  assert.equal(deleted.firstBadGseq, 4);
  assert.ok(deleted.problems.some((p) => p.kind === "missing" && /4\.\.6 are missing/.test(p.message)));
});

test("with a checkpoint gap, a run's end is signed at once, or when the gap ends, or at close", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-gap-"));
  const path = join(dir, "a.db");
  const signer = loadCheckpointSigner({ file: join(dir, "key.pem") });
  const store = new SqliteStore({ path, signer, commit: "grouped", checkpointGapMs: 600 });
  const db = new DatabaseSync(path, { readOnly: true });
  const sizes = () =>
    (db.prepare("SELECT size FROM audit_checkpoints ORDER BY id").all() as Array<{ size: number }>).map(
      (c) => c.size,
    );
  try {
    store.appendEvent({ type: "warning", runId: "r1", at: 1, message: "work" } as RunEvent);
    store.appendEvent(runEnd("r1"));
    await store.sync();
    assert.deepEqual(sizes(), [2], "the first run's end: at once");
    store.appendEvent(runEnd("r2"));
    await store.sync();
    assert.deepEqual(sizes(), [2], "within the gap: not yet");
    const deadline = Date.now() + 5_000;
    while (sizes().length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(sizes(), [2, 3], "as the gap ended");
    store.appendEvent(runEnd("r3")); // just after a signature: within the next gap
    await store.sync();
    assert.deepEqual(sizes(), [2, 3]);
    store.close();
    assert.deepEqual(sizes(), [2, 3, 4], "closing signed the head");
    const report = verifyAudit(db);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  } finally {
    store.close();
    db.close();
  }
});

test("an audit signing key file it cannot read, or that is no key, says which and what to do", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-key-"));
  const unreadable = join(dir, "key-dir");
  mkdirSync(unreadable, { mode: 0o700 });
  assert.throws(
    () => loadCheckpointSigner({ file: unreadable, env: {} }),
    (e: unknown) =>
      ArbiterError.is(e, "invalid-argument") &&
      e.message.includes(`cannot read the audit signing key ${unreadable} (EISDIR)`) &&
      e.message.includes("ARBITER_AUDIT_KEY_FILE"),
  );
  const garbage = join(dir, "garbage.pem");
  writeFileSync(garbage, "not a key", { mode: 0o600 });
  assert.throws(
    () => loadCheckpointSigner({ file: garbage, env: {} }),
    (e: unknown) => ArbiterError.is(e, "invalid-argument") && /is not an Ed25519 private key/.test(e.message),
  );
  // A key that cannot be created (its folder is a file here; a read-only folder does the same).
  const cannotCreate = join(garbage, "audit-key.pem");
  assert.throws(
    () => loadCheckpointSigner({ file: cannotCreate, env: {} }),
    (e: unknown) =>
      ArbiterError.is(e, "invalid-argument") &&
      e.message.includes(`cannot create the audit signing key ${cannotCreate} (`) &&
      e.message.includes("ARBITER_AUDIT_KEY_FILE"),
  );
});

test("a damaged page of the journal is reported where the chain stops being readable, not thrown", () => {
  const db = journalWith(400, 50);
  const leaves = db
    .prepare("SELECT pageno FROM dbstat WHERE name = 'journal' AND pagetype = 'leaf' ORDER BY path")
    .all() as Array<{ pageno: number }>;
  assert.ok(leaves.length >= 6, `expected the journal on several pages, got ${leaves.length}`);
  const path = db.location()!;
  db.close();
  // A disk fault (or a hand edit) garbles one page in the middle.
  const damaged = new DatabaseSync(path);
  const pageSize = (damaged.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
  damaged.close();
  const file = readFileSync(path);
  file.fill(0x41, (leaves[3]!.pageno - 1) * pageSize, leaves[3]!.pageno * pageSize);
  writeFileSync(path, file);
  const report = verifyAudit(new DatabaseSync(path, { readOnly: true }));
  assert.equal(report.ok, false);
  const unreadable = report.problems.filter((p) => p.kind === "unreadable");
  assert.ok(unreadable.length >= 1, JSON.stringify(report.problems));
  const where = unreadable.find((p) => p.gseq !== undefined)!;
  assert.ok(where.gseq! > 1 && where.gseq! <= 400, `stops inside the chain, at ${where.gseq}`);
  assert.equal(report.entries, where.gseq! - 1, "the entries before the damage were checked");
  assert.equal(report.firstBadGseq, where.gseq);
  assert.match(where.message, /cannot be read from chain entry \d+ on: .*malformed/);
  assert.ok(
    !report.problems.some((p) => p.kind === "truncated" || p.kind === "reordered"),
    `checkpoints past the damage are not called a truncation: ${JSON.stringify(report.problems)}`,
  );
});
