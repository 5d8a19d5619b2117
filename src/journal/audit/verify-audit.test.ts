import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
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

test("a clean journal verifies, with its signed checkpoints", () => {
  const db = journalWith(20);
  const report = verifyAudit(db);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.entries, 20);
  assert.equal(report.checkpoints, 2);
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
  const end = (runId: string): RunEvent => ({
    type: "run-end",
    runId,
    at: 1_700_000_000_000,
    status: "completed",
    answer: "done",
    durationMs: 1,
    usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
  });
  for (const runId of ["r1", "r2", "r3"]) {
    store.appendEvent({ type: "warning", runId, at: 1_700_000_000_000, message: "work" } as RunEvent);
    store.appendEvent(end(runId));
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
  store.appendEvent(end("r4"));
  await store.sync();
  assert.equal((db.prepare("SELECT count(*) AS n FROM audit_checkpoints").get() as { n: number }).n, 2);
  store.close();
});
