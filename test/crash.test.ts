import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "bin/arbiter.js");
const profile = join(root, "examples/telecom/profile.yaml");
const PLAIN =
  "I was overcharged on my last bill, my internet has been really slow for days, and I'd like to upgrade to a faster plan.";
const WITH_APPROVAL =
  "Please credit $80 to my account, my internet has been really slow for days, and I'd like to upgrade to a faster plan.";

function start(
  dir: string,
  args: string[],
): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: dir,
    env: { ...process.env, ARBITER_DB: join(dir, "arbiter.db"), TELECOM_DB: join(dir, "telecom.db") },
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, out })),
  );
  return { child, done };
}

const cli = (dir: string, ...args: string[]) => start(dir, args).done;

/** A reader beside running processes: waits for their write locks instead of failing. */
function reader(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly: true });
  db.exec("PRAGMA busy_timeout = 10000");
  return db;
}

/** Seeded, so a failure can be reproduced. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

test("runs killed with SIGKILL at random moments resume to completion without repeating a side effect", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-crash-"));
  const next = random(20261121);
  const db = join(dir, "arbiter.db");
  let killedWhileWaiting = 0;
  let killed = 0;
  for (let i = 0; i < 20; i++) {
    const message = i % 2 === 0 ? PLAIN : WITH_APPROVAL;
    const run = start(dir, ["run", profile, message, "--quiet", "--inject", "latency=120ms"]);
    // Wait until the run is recorded, then kill it somewhere in its life (or after it ended).
    const startedBy = Date.now() + 10_000;
    while (Date.now() < startedBy) {
      if (existsSync(db)) {
        const check = reader(db);
        let runs = 0;
        try {
          runs = (check.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n;
        } catch {
          // The first process is still creating the schema.
        } finally {
          check.close();
        }
        if (runs > i) break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, Math.floor(next() * 700)));
    if (run.child.exitCode === null) {
      const check = reader(db);
      const pending = (
        check.prepare("SELECT COUNT(*) AS n FROM approvals WHERE status = 'pending'").get() as { n: number }
      ).n;
      check.close();
      if (pending > 0) killedWhileWaiting++;
      run.child.kill("SIGKILL");
      killed++;
    }
    await run.done;
    // A new process resumes what was left; approvals are decided by a person in between.
    for (let round = 0; round < 3; round++) {
      const resumed = await cli(dir, "resume", "--json", "--inject", "latency=120ms");
      assertResumed(resumed);
      const pending = JSON.parse((await cli(dir, "approvals", "list", "--json")).out) as Array<{
        id: string;
      }>;
      if (pending.length === 0) break;
      for (const a of pending) {
        const approved = await cli(dir, "approvals", "approve", a.id, "--by", "ops", "--reason", "verified");
        assert.equal(approved.code, 0, approved.out);
      }
    }
  }
  assert.ok(killed >= 10, `only ${killed} of 20 runs were killed mid-flight`);
  const check = reader(db);
  assert.deepEqual(statusCounts(check), ["completed=20"]);
  // No journal gaps: every run's entries are numbered 1..n.
  assert.deepEqual(journalGaps(check), []);
  const recorded = new Set(
    check
      .prepare("SELECT id FROM runs")
      .all()
      .map((r) => r.id as string),
  );
  check.close();
  const telecom = reader(join(dir, "telecom.db"));
  const repeated = repeatedEffects(telecom);
  // An effect's idempotency key starts with its run's id: every one belongs to a run on record.
  const orphans = telecom
    .prepare("SELECT idempotency_key AS k FROM telecom_effects")
    .all()
    .map((r) => r.k as string)
    .filter((k) => !recorded.has(k.slice(0, k.indexOf(":"))));
  assert.deepEqual(orphans, [], "no side effect outside a recorded run");
  const effects = (telecom.prepare("SELECT COUNT(*) AS n FROM telecom_effects").get() as { n: number }).n;
  telecom.close();
  assert.deepEqual(repeated, [], "no side effect happened twice");
  assert.ok(effects >= 20, `${effects} side effects recorded`);
  process.stdout.write(
    `# crash test: ${killed} killed, ${killedWhileWaiting} while an approval was pending\n`,
  );
});

test("several processes resuming the same killed runs at once take each run once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-resumers-"));
  const db = join(dir, "arbiter.db");
  // The database first, so the runs below start on an existing schema.
  assert.equal((await cli(dir, "run", profile, "my wifi keeps dropping", "--quiet")).code, 0);
  // Each run is killed 200 ms after it is recorded (its three branches need 450 ms or more), however
  // slowly the machine starts the four processes.
  const runs = Array.from({ length: 4 }, (_, i) =>
    start(dir, ["run", profile, PLAIN, "--quiet", "--inject", "latency=150ms", "--run-id", `killed-${i}`]),
  );
  await Promise.all(
    runs.map(async (run, i) => {
      for (let waited = 0; waited < 30_000; waited += 20) {
        const check = reader(db);
        const found = check.prepare("SELECT 1 FROM runs WHERE id = ?").get(`killed-${i}`) !== undefined;
        check.close();
        if (found) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 200));
      run.child.kill("SIGKILL");
    }),
  );
  await Promise.all(runs.map((r) => r.done));
  const killed = reader(db);
  const unfinished = (
    killed.prepare("SELECT COUNT(*) AS n FROM runs WHERE status IN ('created', 'running')").get() as {
      n: number;
    }
  ).n;
  killed.close();
  assert.ok(unfinished >= 2, `only ${unfinished} of 4 runs were killed mid-flight`);
  await finish(dir, 3, 3);
  const check = reader(db);
  assert.deepEqual(statusCounts(check), ["completed=5"]);
  // One end per run, nothing journaled after it, no gaps.
  const ends = check
    .prepare(
      `SELECT run_id, COUNT(*) AS n, MAX(seq) AS last,
         (SELECT MAX(seq) FROM journal_entries j WHERE j.run_id = e.run_id) AS tail
       FROM journal_entries e WHERE type = 'run-end' GROUP BY run_id`,
    )
    .all() as Array<{ n: number; last: number; tail: number }>;
  assert.equal(ends.length, 5);
  for (const e of ends) assert.deepEqual([e.n, e.last], [1, e.tail]);
  assert.deepEqual(journalGaps(check), []);
  check.close();
  const telecom = reader(join(dir, "telecom.db"));
  assert.deepEqual(repeatedEffects(telecom), [], "no side effect happened twice");
  telecom.close();
});

test("LLM-worker runs resume to completion when the resuming process is killed too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-crash-twice-"));
  const db = join(dir, "arbiter.db");
  const next = random(20261207);
  const llm = ["--model", `scripted:${join(root, "examples/telecom/scripted-agents.yaml")}`];
  let resumesKilled = 0;
  const runs = 6;
  for (let i = 0; i < runs; i++) {
    const message = i % 2 === 0 ? PLAIN : WITH_APPROVAL;
    const run = start(dir, ["run", profile, message, ...llm, "--quiet", "--inject", "latency=100ms"]);
    await recorded(db, i + 1);
    await new Promise((r) => setTimeout(r, Math.floor(next() * 900)));
    run.child.kill("SIGKILL");
    await run.done;
    // The process that takes the run up dies too, part of the way through (its own model calls and
    // tool calls recorded or in flight), before a person has decided anything.
    const before = resumes(db);
    const resume = start(dir, ["resume", "--inject", "latency=100ms"]);
    await resumed(db, before + 1, resume.done);
    await new Promise((r) => setTimeout(r, Math.floor(next() * 500)));
    if (resume.child.exitCode === null) {
      resume.child.kill("SIGKILL");
      resumesKilled++;
    }
    await resume.done;
  }
  assert.ok(resumesKilled >= 3, `only ${resumesKilled} of ${runs} resumes were killed mid-flight`);
  await finish(dir, 1, 4);
  const check = reader(db);
  assert.deepEqual(statusCounts(check), [`completed=${runs}`]);
  const gaps = journalGaps(check);
  // A model call recorded before a kill was not made again: the cost ledger (committed with the call's
  // step) holds one call per recorded model step, no more.
  const ledgerCalls = new Map(
    check
      .prepare("SELECT run_id, COUNT(*) AS n FROM budget_ledger_calls GROUP BY run_id")
      .all()
      .map((r) => [r.run_id as string, r.n as number]),
  );
  const ids = check
    .prepare("SELECT id FROM runs")
    .all()
    .map((r) => r.id as string);
  check.close();
  assert.deepEqual(gaps, []);
  for (const id of ids) {
    const shown = JSON.parse((await cli(dir, "runs", "show", id, "--json")).out) as {
      steps: Array<{ name: string; state: string }>;
    };
    const modelSteps = shown.steps.filter((s) => s.name.startsWith("model:") && s.state === "completed");
    assert.ok(modelSteps.length >= 4, `run ${id}: ${modelSteps.length} model steps`);
    assert.equal(ledgerCalls.get(id), modelSteps.length, `run ${id}: model calls made vs recorded`);
  }
  const telecom = reader(join(dir, "telecom.db"));
  const repeated = repeatedEffects(telecom);
  const credits = telecom
    .prepare("SELECT COUNT(*) AS n FROM telecom_effects WHERE tool = 'issue_credit'")
    .get();
  telecom.close();
  assert.deepEqual(repeated, [], "no side effect happened twice");
  assert.equal(credits?.n, runs, "one credit per run");
  const audit = await cli(dir, "audit", "verify");
  assert.equal(audit.code, 0, audit.out);
  process.stdout.write(`# crash test, twice: ${resumesKilled} of ${runs} resumes killed\n`);
});

/** Waits until the journal holds `count` resumes of runs (see `resumes`), or the resuming process has ended. */
async function resumed(db: string, count: number, ended: Promise<unknown>): Promise<void> {
  let over = false;
  void ended.then(() => {
    over = true;
  });
  const by = Date.now() + 15_000;
  while (!over && Date.now() < by) {
    if (resumes(db) >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** How many times runs were taken up again, as the journal says. */
function resumes(db: string): number {
  const check = reader(db);
  try {
    return (
      check.prepare("SELECT COUNT(*) AS n FROM journal_entries WHERE type = 'run-resume'").get() as {
        n: number;
      }
    ).n;
  } finally {
    check.close();
  }
}

/** Waits until `count` runs are on record (the first process may still be creating the schema). */
async function recorded(db: string, count: number): Promise<void> {
  const by = Date.now() + 15_000;
  while (Date.now() < by) {
    if (existsSync(db)) {
      const check = reader(db);
      try {
        if ((check.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n >= count) return;
      } catch {
        // no schema yet
      } finally {
        check.close();
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`run ${count} was not recorded within 15 s`);
}

/** Runs by status, as "status=count" sorted by status. */
function statusCounts(check: DatabaseSync): string[] {
  return check
    .prepare("SELECT status, COUNT(*) AS n FROM runs GROUP BY status")
    .all()
    .map((r) => `${r.status}=${r.n}`);
}

/** Runs whose journal entries are not numbered 1..n. */
function journalGaps(check: DatabaseSync): unknown[] {
  return check
    .prepare(
      "SELECT run_id FROM journal_entries GROUP BY run_id HAVING MAX(seq) <> COUNT(*) OR MIN(seq) <> 1",
    )
    .all();
}

/** Idempotency keys under which the demo's systems recorded a side effect more than once. */
function repeatedEffects(telecom: DatabaseSync): unknown[] {
  return telecom
    .prepare("SELECT idempotency_key FROM telecom_effects GROUP BY idempotency_key HAVING COUNT(*) > 1")
    .all();
}

/**
 * `resumers` processes resume at once, then a person approves what waits, until nothing waits (at most
 * `rounds` times).
 */
async function finish(dir: string, resumers: number, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const done = await Promise.all(Array.from({ length: resumers }, () => cli(dir, "resume", "--json")));
    for (const r of done) assertResumed(r);
    // A charge left in doubt by a kill waits for a person: someone checked, it did not take effect.
    const pending = JSON.parse((await cli(dir, "approvals", "list", "--json")).out) as Array<{ id: string }>;
    if (pending.length === 0) return;
    for (const a of pending)
      assert.equal((await cli(dir, "approvals", "approve", a.id, "--by", "ops")).code, 0);
  }
}

/** `arbiter resume` exits 0 when every run completed (or another process has it), 1 when one waits for a person. */
function assertResumed(resumed: { code: number | null; out: string }): void {
  const statuses = (JSON.parse(resumed.out) as { runs: Array<{ status: string }> }).runs.map((r) => r.status);
  const waits = statuses.some((s) => s === "waiting");
  assert.ok(
    statuses.every((s) => ["completed", "skipped", "waiting"].includes(s)),
    `resume left a run neither completed nor waiting: ${resumed.out}`,
  );
  assert.equal(resumed.code, waits ? 1 : 0, resumed.out);
}
