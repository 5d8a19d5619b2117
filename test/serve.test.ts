import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "bin/arbiter.js");
const profile = join(root, "examples/telecom/profile.yaml");
const THREE_INTENTS =
  "I was overcharged on my last bill, my internet has been really slow for days, and I'd like to upgrade to a faster plan.";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function count(db: string, sql: string): number {
  const reader = new DatabaseSync(db, { readOnly: true });
  try {
    reader.exec("PRAGMA busy_timeout = 10000");
    return (reader.prepare(sql).get() as { n: number }).n;
  } catch {
    return 0; // the schema is not there yet
  } finally {
    reader.close();
  }
}

test("arbiter serve resumes a killed run on start, and a waiting run as soon as a person decides", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-serve-"));
  const env = { ...process.env, ARBITER_DB: join(dir, "arbiter.db"), TELECOM_DB: join(dir, "telecom.db") };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: "utf8" });

  // A run that waits for a person ($80 credit), and a run killed mid-flight.
  const waiting = JSON.parse(cli("run", profile, "please credit $80 to my account", "--json").stdout);
  assert.equal(waiting.status, "waiting");
  const killed = spawn(
    process.execPath,
    [bin, "run", profile, THREE_INTENTS, "--quiet", "--inject", "latency=300ms"],
    {
      cwd: dir,
      env,
      stdio: "ignore",
    },
  );
  for (
    let i = 0;
    i < 500 &&
    count(
      env.ARBITER_DB,
      `SELECT COUNT(*) AS n FROM journal_entries WHERE type = 'tool-call-start' AND run_id <> '${waiting.runId}'`,
    ) === 0;
    i++
  )
    await sleep(20);
  killed.kill("SIGKILL");
  await new Promise((r) => killed.once("close", r));
  const killedId = (
    new DatabaseSync(env.ARBITER_DB, { readOnly: true })
      .prepare("SELECT id FROM runs WHERE status = 'running'")
      .get() as { id: string }
  ).id;

  const serve = spawn(process.execPath, [bin, "serve", profile, "--json", "--interval", "50ms"], {
    cwd: dir,
    env,
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffered = "";
  serve.stdout.on("data", (chunk) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const line of parts) lines.push(JSON.parse(line));
  });
  let stderr = "";
  serve.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((r) => serve.once("close", r));
  const seen = async (what: (l: Record<string, unknown>) => boolean, label: string) => {
    for (let i = 0; i < 750; i++) {
      if (lines.some(what)) return;
      await sleep(20);
    }
    assert.fail(`serve never reported ${label}; it said ${JSON.stringify(lines)} ${stderr}`);
  };
  try {
    await seen(
      (l) => l.event === "finished" && l.runId === killedId && l.status === "completed",
      "the killed run",
    );
    await seen((l) => l.event === "waiting" && l.runId === waiting.runId, "the waiting run");

    const approve = cli("approvals", "approve", waiting.pending[0].approvalId, "--by", "dana");
    assert.equal(approve.status, 0, approve.stderr);
    await seen(
      (l) => l.event === "finished" && l.runId === waiting.runId && l.status === "completed",
      "the approved run",
    );
  } finally {
    serve.kill("SIGTERM");
  }
  assert.equal(await exited, 0, stderr);
  assert.ok(lines.some((l) => l.event === "stopping" && l.signal === "SIGTERM"));

  assert.equal(count(env.ARBITER_DB, "SELECT COUNT(*) AS n FROM runs WHERE status <> 'completed'"), 0);
  assert.equal(
    count(env.ARBITER_DB, "SELECT COUNT(*) AS n FROM journal_entries WHERE type = 'run-resume'") >= 2,
    true,
  );
  const telecom = new DatabaseSync(env.TELECOM_DB, { readOnly: true });
  const repeated = telecom
    .prepare(
      "SELECT idempotency_key, COUNT(*) AS n FROM telecom_effects GROUP BY idempotency_key HAVING n > 1",
    )
    .all();
  const credits = telecom
    .prepare("SELECT COUNT(*) AS n FROM telecom_effects WHERE tool = 'issue_credit'")
    .get() as {
    n: number;
  };
  telecom.close();
  assert.deepEqual(repeated, [], "no side effect repeated");
  assert.equal(credits.n, 2, "one credit for each run");
});

test("arbiter serve refuses bad input with exit 2 and says what to fix", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  const noProfile = cli("serve");
  assert.equal(noProfile.status, 2);
  assert.match(noProfile.stderr, /Usage: arbiter serve <profile>/);
  const badInterval = cli("serve", profile, "--interval", "soon");
  assert.equal(badInterval.status, 2);
  assert.match(badInterval.stderr, /--interval: "soon" is not a duration like "250ms"/);
  const missing = cli("serve", "nope.yaml");
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.yaml: cannot read the profile/);
});

test("arbiter serve logs a resumed run's answer as the journal keeps it: the requester's email stays a token", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-serve-pii-"));
  const env = { ...process.env, ARBITER_DB: join(dir, "arbiter.db"), TELECOM_DB: join(dir, "telecom.db") };
  // The scripted synthesis writes the token the shield gave the requester's email.
  const script = join(dir, "agents.yaml");
  writeFileSync(
    script,
    readFileSync(join(root, "examples/telecom/scripted-agents.yaml"), "utf8").replace(
      'and moved you to Fiber 300."',
      'and moved you to Fiber 300. A receipt goes to <EMAIL_1>."',
    ),
  );
  const message = "I was overcharged on my last bill; send the receipt to jane.doe@example.com";
  const model = `scripted:${script}`;
  const killed = spawn(
    process.execPath,
    [bin, "run", profile, message, "--quiet", "--model", model, "--inject", "latency=300ms"],
    { cwd: dir, env, stdio: "ignore" },
  );
  for (
    let i = 0;
    i < 500 &&
    !(
      existsSync(env.ARBITER_DB) &&
      count(env.ARBITER_DB, "SELECT COUNT(*) AS n FROM journal_entries WHERE type = 'model-call-end'") > 0
    );
    i++
  )
    await sleep(20);
  killed.kill("SIGKILL");
  await new Promise((r) => killed.once("close", r));

  const serve = spawn(process.execPath, [bin, "serve", profile, "--model", model, "--interval", "50ms"], {
    cwd: dir,
    env,
  });
  let log = "";
  serve.stderr.on("data", (chunk) => {
    log += chunk;
  });
  const exited = new Promise((r) => serve.once("close", r));
  try {
    for (let i = 0; i < 750 && !/run_\w+ {2}completed {2}/.test(log); i++) await sleep(20);
  } finally {
    serve.kill("SIGTERM");
    await exited;
  }
  assert.match(log, /run_\w+ {2}completed {2}Thanks for your patience!.*A receipt goes to <EMAIL_1>\./);
  assert.doesNotMatch(log, /jane\.doe@example\.com/);
});
