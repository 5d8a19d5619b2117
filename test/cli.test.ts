import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "bin/arbiter.js");
const profile = join(root, "examples/telecom/profile.yaml");
const THREE_INTENTS =
  "I was overcharged on my last bill, my internet has been really slow for days, and I'd like to upgrade to a faster plan.";

/** A CLI bound to one folder, with its own run and telecom databases. */
function cliIn(dir: string) {
  const env = { ARBITER_DB: join(dir, "arbiter.db"), TELECOM_DB: join(dir, "telecom.db") };
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, ...env },
      encoding: "utf8",
    });
  return { env, run };
}

function arbiter(args: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-cli-"));
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    env: { ...process.env, TELECOM_DB: join(dir, "telecom.db"), ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { ...result, dir };
}

test("arbiter run --json delegates the three intents in parallel and answers all three", () => {
  const r = arbiter(["run", profile, THREE_INTENTS, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, "completed");
  assert.match(out.profileVersion, /^[0-9a-f]{64}$/);
  assert.deepEqual(
    out.tasks.map((t: { worker: string }) => t.worker),
    ["billing", "tech_support", "account"],
  );
  const starts = out.tasks.map((t: { startedAt: number }) => t.startedAt);
  const ends = out.tasks.map((t: { endedAt: number }) => t.endedAt);
  assert.ok(Math.max(...starts) <= Math.min(...ends), "the three task windows overlap");
  for (const t of out.tasks) {
    assert.equal(t.status, "ok");
    assert.ok(t.confidence > 0.5);
    assert.ok(t.toolCalls.length >= 2 && t.toolCalls.every((c: { ok: boolean }) => c.ok));
  }
  assert.match(out.answer, /credited \$12\.99/);
  assert.match(out.answer, /technician is booked/);
  assert.match(out.answer, /now on Fiber 300/);
  const db = new DatabaseSync(join(r.dir, "telecom.db"));
  const effects = db.prepare("SELECT tool, idempotency_key FROM telecom_effects ORDER BY tool").all();
  db.close();
  assert.deepEqual(
    effects.map((e) => e.tool),
    ["change_plan", "dispatch_technician", "issue_credit"],
  );
  assert.ok(effects.every((e) => String(e.idempotency_key).startsWith(`${out.runId}:`)));
});

test("runs started at once in a new folder wait for each other's set-up of the databases: none fails on a lock", async () => {
  // Found from the CLI: of twelve runs started together, one failed with "pii-vault.db is locked" (the
  // vault, the demo database and an own-file ledger set their busy timeout only after the journal mode).
  const dir = mkdtempSync(join(tmpdir(), "arbiter-cli-"));
  const messages = [
    THREE_INTENTS,
    "my wifi keeps dropping, write to me at jane@example.com",
    "I was charged twice",
  ];
  const outcomes = await Promise.all(
    Array.from({ length: 6 }, (_, i) => {
      const child = spawn(process.execPath, [bin, "run", profile, messages[i % messages.length]!, "--json"], {
        cwd: dir,
        env: { ...process.env, TELECOM_DB: join(dir, "telecom.db") },
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      return new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
        child.on("close", (code) => resolve({ code, out, err })),
      );
    }),
  );
  for (const { code, out, err } of outcomes) {
    assert.equal(code, 0, err);
    assert.equal(JSON.parse(out).status, "completed");
  }
  const db = new DatabaseSync(join(dir, ".arbiter/arbiter.db"), { readOnly: true });
  const runs = db.prepare("SELECT COUNT(*) AS n FROM runs WHERE status = 'completed'").get() as { n: number };
  db.close();
  assert.equal(runs.n, 6);
});

test("arbiter run prints live progress on stderr and the answer on stdout", () => {
  const r = arbiter(["run", profile, "my wifi keeps dropping"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /▸ run run_\w+ +profile telecom-support@[0-9a-f]{12}/);
  assert.match(r.stderr, /route +rules: tech_support/);
  assert.match(r.stderr, /✓ t1 tech_support ok/);
  assert.match(r.stderr, /■ run completed/);
  assert.match(r.stdout, /Tech support: .*technician is booked/);
});

test("an out-of-scope request goes to the generalist", () => {
  const r = arbiter(["run", profile, "what's the capital of Peru?", "--json"]);
  const out = JSON.parse(r.stdout);
  assert.equal(out.plan.tasks[0].worker, "generalist");
  assert.match(out.answer, /I can help with bills/);
});

test("a broken profile gives file:line:column, the path, and exit code 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-bad-"));
  const text = readFileSync(profile, "utf8")
    .replace("./toolkit.ts", join(root, "examples/telecom/toolkit.ts"))
    .replace("timeout: 15s", "timeout: soon");
  const bad = join(dir, "profile.yaml");
  writeFileSync(bad, text);
  const line = text.split("\n").findIndex((l) => l.includes("timeout: soon")) + 1;
  for (const args of [
    ["validate", bad],
    ["run", bad, "hello"],
  ]) {
    const r = arbiter(args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`profile\\.yaml:${line}:14 workers\\[1\\]\\.timeout: expected a duration like "5s"`),
    );
  }
});

test("validate prints the version; unknown commands and options exit 2 with usage", () => {
  const cache = { ARBITER_CACHE_DIR: join(mkdtempSync(join(tmpdir(), "arbiter-cache-")), "cache") };
  const ok = arbiter(["validate", profile, "--json"], cache);
  assert.equal(ok.status, 0, ok.stderr);
  const out = JSON.parse(ok.stdout);
  assert.deepEqual(out.workers, ["billing", "tech_support", "account", "generalist"]);
  assert.equal(out.classifier.cached, false);
  // The next process takes the trained router up from the cache, and says so.
  const again = arbiter(["validate", profile], cache);
  assert.equal(again.status, 0, again.stderr);
  assert.match(
    again.stdout,
    /router: {2}rules \+ classifier \(\d+ examples, taken from the cache, trained in \d+ ms\)/,
  );
  assert.equal(arbiter(["frobnicate"]).status, 2);
  const badOption = arbiter(["run", profile, "hi", "--colour"]);
  assert.equal(badOption.status, 2);
  assert.match(badOption.stderr, /Unknown option '--colour'[\s\S]*Usage: arbiter run/);
  const tooLong = arbiter(["run", profile, "x".repeat(5000)]);
  assert.equal(tooLong.status, 2);
  assert.match(tooLong.stderr, /request\.message: 5000 characters is over the profile's limit of 4000/);
});

test("runs list and approvals list show up to --limit, say when there are more, and refuse a status or limit they do not know", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-list-"));
  const { run } = cliIn(dir);
  assert.equal(run("run", profile, "my wifi keeps dropping", "--quiet").status, 0);
  const listed = JSON.parse(run("runs", "list", "--status", "completed", "--limit", "1", "--json").stdout);
  assert.equal(listed.length, 1);
  // Past the limit, the list says there are more.
  for (const amount of [80, 90]) run("run", profile, `please credit $${amount} to my account`, "--quiet");
  const newest = run("runs", "list", "--limit", "2");
  assert.equal(newest.stdout.trim().split("\n").length, 2);
  assert.match(newest.stderr, /note: the newest 2 runs; there are more: --limit N shows N/);
  assert.equal(run("runs", "list", "--limit", "3").stderr, "", "all shown: no note");
  const inbox = run("approvals", "list", "--limit", "1");
  assert.match(inbox.stdout, /^apr_\w+ {2}pending .*\n {4}issue_credit \{"customerId":"C-1001","amount":80,/);
  assert.match(inbox.stderr, /note: the oldest 1 of 2 pending approvals; --limit N shows N/);
  assert.equal(JSON.parse(run("approvals", "list", "--limit", "1", "--json").stdout).length, 1);
  for (const [args, message] of [
    [
      ["runs", "list", "--status", "done"],
      /--status "done": use one of created, running, waiting, completed/,
    ],
    [["runs", "list", "--limit", "abc"], /--limit "abc": use a whole number of at least 1/],
    [["runs", "list", "--limit", "0"], /--limit "0": use a whole number/],
    [
      ["approvals", "list", "--status", "open"],
      /--status "open": use one of pending, approved, denied, expired/,
    ],
    [["approvals", "list", "--limit", "1.5"], /--limit "1.5": use a whole number of at least 1/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /Usage: arbiter (runs|approvals) list/);
  }
});

test("audit, resume, replay and runs show refuse what they cannot do before doing anything", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-refuse-"));
  const { run } = cliIn(dir);
  assert.equal(run("run", profile, "my wifi keeps dropping", "--quiet").status, 0);
  for (const [args, message] of [
    [["audit", "verify", "--run", "run_nope"], /no run "run_nope" in .*arbiter\.db/],
    [["audit", "export", "--run", "run_nope"], /no run "run_nope"/],
    [
      ["audit", "export", "--out", join(dir, "missing", "a.jsonl")],
      /--out .*: the folder .*missing does not exist/,
    ],
    [["audit", "export", "--checkpoints", join(dir, "missing", "c.jsonl")], /--checkpoints .*does not exist/],
    [["resume", "--model", "nope:x"], /Unknown model provider "nope"/],
    [["resume", "--inject", "fail=2"], /fail "2" must be a number from 0 to 1/],
    [
      ["resume", "--inject", "latency=100ms,latency=5ms"],
      /--inject "latency=100ms,latency=5ms": latency is given twice/,
    ],
    [
      ["resume", "--concurrency", "0"],
      /--concurrency "0": use a whole number of at least 1\nUsage: arbiter resume/,
    ],
    [["replay"], /a run id is required\nUsage: arbiter replay/],
    [["runs", "show"], /a run id is required\nUsage: arbiter runs/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.ok(!existsSync(join(dir, "missing")));
});

test("--model with a missing credential names the environment variable and exits 2", () => {
  const r = arbiter(["run", profile, "my bill is wrong", "--model", "openai:gpt-4.1-mini"], {
    OPENAI_API_KEY: "",
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /OPENAI_API_KEY/);
});

test("--model scripted:<file> runs LLM workers and synthesis through the AI SDK without an API key", () => {
  const script = join(root, "examples/telecom/scripted-agents.yaml");
  const r = arbiter(["run", profile, THREE_INTENTS, "--json", "--model", `scripted:${script}`]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, "completed");
  assert.deepEqual(
    out.tasks.map((t: { worker: string; status: string }) => `${t.worker}:${t.status}`),
    ["billing:ok", "tech_support:ok", "account:ok"],
  );
  assert.equal(out.usage.modelCalls, 11, "3 tool loops + synthesis; the rules were sure, so no planner call");
  assert.match(out.answer, /credited the duplicate \$12\.99/);
  const db = new DatabaseSync(join(r.dir, "telecom.db"));
  const effects = db
    .prepare("SELECT tool, COUNT(*) AS n FROM telecom_effects GROUP BY tool ORDER BY tool")
    .all();
  db.close();
  assert.deepEqual(
    effects.map((e) => `${e.tool}=${e.n}`),
    ["change_plan=1", "dispatch_technician=1", "issue_credit=1"],
  );
});

test("arbiter eval pii prints precision, recall and leaks per supported type", (t) => {
  const data = join(root, "../shared/data/pii/presidio-synth-v2.json");
  if (!existsSync(data)) return t.skip("shared/data is not beside this checkout");
  const r = arbiter(["eval", "pii", "--data", data, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const byType = new Map(report.types.map((x: { type: string }) => [x.type, x]));
  for (const type of ["CARD", "IBAN", "SSN", "EMAIL"]) {
    const m = byType.get(type) as { recall: number; precision: number; leaked: number };
    assert.ok(m.recall >= 0.99 && m.precision >= 0.95, `${type}: ${JSON.stringify(m)}`);
    assert.equal(m.leaked, 0);
  }
  assert.equal(arbiter(["eval", "pii"]).status, 2);
});

test("arbiter eval routing, decompose and injection print the issue's fields; bad data names the entry", (t) => {
  const clinc = join(root, "../shared/data/clinc150/dev.json");
  const domains = join(root, "../shared/data/clinc150/domains.json");
  if (!existsSync(clinc)) return t.skip("shared/data is not beside this checkout");
  const routing = arbiter([
    "eval",
    "routing",
    "--data",
    clinc,
    "--domains",
    domains,
    "--examples",
    "5",
    "--json",
  ]);
  assert.equal(routing.status, 0, routing.stderr);
  const r = JSON.parse(routing.stdout);
  for (const key of [
    "workerAccuracy",
    "intentAccuracy",
    "oosRecall",
    "falseFallbackRate",
    "routeP50Ms",
    "routeP99Ms",
    "trainMs",
  ]) {
    assert.equal(typeof r[key], "number", key);
  }
  assert.ok(r.workerAccuracy > 0.85 && r.routeP99Ms < 1, JSON.stringify(r));
  const fixture = join(root, "test/fixtures/multi-intent/clinc-multi-intent.json");
  const decompose = arbiter(["eval", "decompose", "--data", fixture, "--domains", domains, "--json"]);
  assert.equal(decompose.status, 0, decompose.stderr);
  const d = JSON.parse(decompose.stdout);
  assert.ok(d.workerSetExact > 0.8 && d.byCount["2"].n > 0, JSON.stringify(d).slice(0, 300));
  const injection = arbiter([
    "eval",
    "injection",
    "--data",
    join(root, "../shared/data/injection/deepset-train.jsonl"),
    "--json",
  ]);
  assert.equal(injection.status, 0, injection.stderr);
  const i = JSON.parse(injection.stdout);
  assert.ok(
    i.precision > 0.9 && i.routeChangeRate !== null && i.routeChangeRate < 0.01,
    JSON.stringify(i).slice(0, 300),
  );
  const dir = mkdtempSync(join(tmpdir(), "arbiter-eval-"));
  writeFileSync(
    join(dir, "bad.json"),
    JSON.stringify({
      train: [
        ["fine", "balance"],
        ["hi", 5],
      ],
    }),
  );
  const bad = arbiter(["eval", "routing", "--data", join(dir, "bad.json"), "--domains", domains]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bad\.json: train\[1\] must be \[text, intent\]/);
});

test("Cedar policies decide tool calls end to end: $30 allowed, $80 waits for a person, $800 denied", () => {
  const outcomes = [
    ["please credit $30 to my account", 0, "completed", "allow", ["billing.issue-credit"]],
    [
      "please credit $80 to my account",
      1,
      "waiting",
      "needs-approval",
      ["billing.credit-over-50", "billing.issue-credit"],
    ],
    ["please credit $800 to my account", 1, "failed", "deny", ["billing.credit-over-500"]],
  ] as const;
  for (const [message, code, status, decision, policyIds] of outcomes) {
    const r = arbiter(["run", profile, message, "--json"]);
    assert.equal(r.status, code, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, status);
    const credit = out.decisions.find((d: { tool?: string }) => d.tool === "issue_credit");
    assert.equal(credit.decision, decision);
    assert.deepEqual(credit.policyIds, policyIds);
    assert.match(credit.bundleVersion, /^[0-9a-f]{64}$/);
    const said = decision === "needs-approval" ? out.pending[0].reason : out.answer;
    if (decision !== "allow") assert.match(said, new RegExp(policyIds[0].replace(".", "\\.")));
    const db = new DatabaseSync(join(r.dir, "telecom.db"));
    const credits = db.prepare("SELECT COUNT(*) AS n FROM telecom_effects WHERE tool = 'issue_credit'").get();
    db.close();
    assert.equal(credits?.n, decision === "allow" ? 1 : 0, "a held or denied credit is never issued");
  }
});

test("a model cannot talk its way past a policy: a technician dispatch without a failed line test is denied", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-script-"));
  const script = join(dir, "script.yaml");
  writeFileSync(
    script,
    [
      "rules:",
      '  - when: { system: "technical support" }',
      "    reply:",
      "      - toolCalls: [{ name: dispatch_technician, input: { customerId: C-1001, reason: 'the line test already failed, trust me' } }]",
      "      - object: { status: ok, summary: 'A technician is on the way.', confidence: 0.9 }",
      '  - when: { system: "friendly reply" }',
      "    reply: { text: 'Done.' }",
    ].join("\n"),
  );
  const r = arbiter(["run", profile, "my internet is down", "--json", "--model", `scripted:${script}`]);
  const out = JSON.parse(r.stdout);
  assert.equal(out.tasks[0].status, "refused");
  assert.match(out.tasks[0].reason, /deny by tech-support\.dispatch-needs-failed-line-test/);
  assert.ok(!out.answer.includes("on the way"), "the model's claim is not presented as done");
});

test("a card number in a request is tokenised: not in the output, the decisions or the vault file", () => {
  const card = "4111 1111 1111 1111";
  const r = arbiter(["run", profile, `I was charged twice on my card ${card}`, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(!r.stdout.includes(card) && !r.stdout.includes(card.replaceAll(" ", "")));
  assert.equal(out.tasks[0].worker, "billing");
  const vault = readFileSync(join(r.dir, ".arbiter/pii-vault.db"));
  assert.ok(!vault.includes(Buffer.from(card.replaceAll(" ", ""))) && !vault.includes(Buffer.from(card)));
});

test("an $80 credit waits for a person across processes, then resumes and is issued once", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-approval-"));
  const { env, run } = cliIn(dir);
  const first = run("run", profile, "please credit $80 to my account", "--json");
  assert.equal(first.status, 1, first.stderr);
  const waiting = JSON.parse(first.stdout);
  assert.equal(waiting.status, "waiting");
  const id = waiting.pending[0].approvalId;
  const before = JSON.parse(run("runs", "show", waiting.runId, "--json").stdout);
  assert.equal(before.run.status, "waiting");
  assert.deepEqual(
    before.tasks.map((t: { taskId: string; state: string; approvalId?: string }) => [
      t.taskId,
      t.state,
      t.approvalId,
    ]),
    [["t1", "waiting", id]],
  );
  assert.match(
    run("runs", "show", waiting.runId).stdout,
    new RegExp(`tasks:\\n {2}t1 billing {2}waiting for ${id}: `),
  );
  // Nobody has answered yet: resume leaves it waiting (no replay, nothing journaled).
  const journaled = () => JSON.parse(run("runs", "show", waiting.runId, "--json").stdout).events.length;
  const entries = journaled();
  const early = run("resume", "--json");
  assert.equal(early.status, 1, "still waiting: not completed");
  assert.deepEqual(JSON.parse(early.stdout).runs, [{ runId: waiting.runId, status: "waiting", detail: id }]);
  assert.equal(journaled(), entries);
  const unknown = run("approvals", "approve", "apr_nope", "--by", "alice");
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no approval "apr_nope"/);
  const email = "ann.smith@example.com";
  const approve = run(
    "approvals",
    "approve",
    id,
    "--by",
    "alice",
    "--reason",
    `long-standing customer, ${email}`,
  );
  assert.equal(approve.status, 0, approve.stderr);
  const twice = run("approvals", "approve", id, "--by", "bob");
  assert.equal(twice.status, 2, "approving twice is refused");
  const resumed = run("resume", "--json");
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(
    JSON.parse(resumed.stdout).runs.map((r: { status: string }) => r.status),
    ["completed"],
  );
  // Naming it again: it ended already, and resume says so (not that another process finished it).
  const again = run("resume", "--run", waiting.runId);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, `${waiting.runId}  completed  already finished: nothing to resume\n`);
  const shown = JSON.parse(run("runs", "show", waiting.runId, "--json").stdout);
  assert.equal(shown.run.status, "completed");
  assert.deepEqual(
    shown.tasks.map((t: { taskId: string; state: string; status: string }) => [t.taskId, t.state, t.status]),
    [["t1", "ended", "ok"]],
  );
  const decided = shown.events.find(
    (e: { event: { type: string } }) => e.event.type === "approval-decide",
  ).event;
  assert.equal(decided.by, "alice");
  // The approver's words are kept, their personal data as tokens: in the journal and everywhere on disk.
  assert.match(decided.reason, /^long-standing customer, <EMAIL_\w+>$/);
  assert.match(JSON.parse(run("approvals", "show", id, "--json").stdout).decisionReason, /<EMAIL_\w+>/);
  for (const file of ["arbiter.db", "arbiter.db-wal"].map((f) => join(dir, f)).filter((f) => existsSync(f)))
    assert.equal(readFileSync(file).includes(email), false, `${file} holds the e-mail in clear`);
  // A replay takes the recorded decision: the same path, no divergence.
  const replayed = run("replay", waiting.runId);
  assert.equal(replayed.status, 0, replayed.stdout + replayed.stderr);
  assert.match(replayed.stdout, /routing, plan and \d+ steps identical/);
  const db = new DatabaseSync(env.TELECOM_DB);
  const credits = db.prepare("SELECT COUNT(*) AS n FROM telecom_effects WHERE tool = 'issue_credit'").get();
  db.close();
  assert.equal(credits?.n, 1);
});

test("arbiter replay reruns a finished run on its record and reports a profile change that moves routing or a policy decision", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-replay-"));
  const { run } = cliIn(dir);
  const first = JSON.parse(run("run", profile, THREE_INTENTS, "--json").stdout);
  const same = run("replay", first.runId, "--json");
  assert.equal(same.status, 0, same.stdout + same.stderr);
  assert.equal(JSON.parse(same.stdout).identical, true);
  // The same profile with billing's keywords gone: the overcharge now goes elsewhere.
  const changed = join(dirname(profile), `profile-replay-${process.pid}.yaml`);
  writeFileSync(
    changed,
    readFileSync(profile, "utf8").replace(
      / {6}keywords:\n(?: {8}- \{ term: (?:bill\*|overcharg\*|charg\*|refund\*|credit\*|invoice\*|late fee|payment\*).*\n)+/,
      '      keywords: ["zzz"]\n',
    ),
  );
  try {
    const diverged = run("replay", first.runId, "--profile", changed, "--json");
    assert.equal(diverged.status, 1, diverged.stderr);
    const report = JSON.parse(diverged.stdout);
    assert.equal(report.identical, false);
    assert.ok(
      report.divergences.some((d: string) => d.startsWith("routing")),
      report.divergences.join("\n"),
    );
  } finally {
    rmSync(changed, { force: true });
  }
  assert.equal(run("replay", "run_nope").status, 2);

  // A policy tightened since: the credit the run issued would now need a person. The recorded call is
  // replayed all the same (nothing executes), and the decision that changed is the divergence.
  const policies = join(dirname(profile), `policies-replay-${process.pid}`);
  const tightened = join(dirname(profile), `profile-policy-${process.pid}.yaml`);
  cpSync(join(dirname(profile), "policies"), policies, { recursive: true });
  const billing = join(policies, "policies", "billing.cedar");
  writeFileSync(billing, readFileSync(billing, "utf8").replace(/> 5000$/m, "> 500"));
  writeFileSync(
    tightened,
    readFileSync(profile, "utf8").replace(
      /^policies: \.\/policies$/m,
      `policies: ./policies-replay-${process.pid}`,
    ),
  );
  try {
    const report = JSON.parse(run("replay", first.runId, "--profile", tightened, "--json").stdout);
    assert.equal(report.identical, false);
    assert.notEqual(report.replayedProfile, report.recordedProfile, "a changed policy is a changed profile");
    assert.deepEqual(
      report.divergences.filter((d: string) => d.startsWith("policy")),
      [
        "policy, task t1: recorded [delegation to billing: allow by delegation.telecom-workers | lookup_charges: allow by read-only-tools.billing | issue_credit: allow by billing.issue-credit], " +
          "replayed [delegation to billing: allow by delegation.telecom-workers | lookup_charges: allow by read-only-tools.billing | issue_credit: needs-approval by billing.credit-over-50, billing.issue-credit]",
      ],
    );
    // A credit a person approved with a smaller amount: replayed as first decided (on the worker's $80,
    // before the edit), it is the same path; under a policy that no longer holds $80, that changed.
    const held = JSON.parse(run("run", profile, "please credit $80 to my account", "--json").stdout);
    const approvalId = held.pending[0].approvalId;
    assert.equal(
      run("approvals", "approve", approvalId, "--by", "alice", "--edit", '{"amount":40}').status,
      0,
    );
    assert.equal(run("resume").status, 0);
    const asMade = JSON.parse(run("replay", held.runId, "--json").stdout);
    assert.equal(asMade.identical, true, asMade.divergences.join("\n"));
    writeFileSync(billing, readFileSync(billing, "utf8").replace(/> 500$/m, "> 10000"));
    const loosened = JSON.parse(run("replay", held.runId, "--profile", tightened, "--json").stdout);
    assert.deepEqual(
      loosened.divergences
        .filter((d: string) => d.startsWith("policy"))
        .map((d: string) => d.replace(/ by [^|\]]*?(?= \||\])/g, "")),
      [
        "policy, task t1: recorded [delegation to billing: allow | lookup_charges: allow | issue_credit: needs-approval], " +
          "replayed [delegation to billing: allow | lookup_charges: allow | issue_credit: allow]",
      ],
    );
  } finally {
    rmSync(tightened, { force: true });
    rmSync(policies, { recursive: true, force: true });
  }

  // A run made on LLM workers (`--model`) replays on them, as recorded; live data changed since does not matter.
  const scripts = join(dirname(profile), "scripted-agents.yaml");
  const llm = JSON.parse(
    run("run", profile, THREE_INTENTS, "--model", `scripted:${scripts}`, "--json").stdout,
  );
  assert.equal(run("run", profile, "switch me to the gigabit plan", "--quiet").status, 0);
  const onModels = run("replay", llm.runId, "--json");
  assert.equal(onModels.status, 0, onModels.stdout + onModels.stderr);
  assert.equal(JSON.parse(onModels.stdout).identical, true);
  const again = run("replay", first.runId, "--json");
  assert.equal(JSON.parse(again.stdout).identical, true, again.stdout);
});

test("the vault and keys live beside --db: a replay and an export from another folder use them", () => {
  const root = mkdtempSync(join(tmpdir(), "arbiter-companions-"));
  const here = join(root, "here");
  const elsewhere = join(root, "elsewhere");
  const data = join(root, "data");
  for (const d of [here, elsewhere]) mkdirSync(d);
  const db = join(data, "arbiter.db");
  const arbiterIn = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args, "--db", db], {
      cwd,
      env: { ...process.env, TELECOM_DB: join(root, "telecom.db") },
      encoding: "utf8",
    });
  const first = arbiterIn(
    here,
    "run",
    profile,
    `I was charged twice on my card ${"4111 1111 1111 1111"}`,
    "--json",
  );
  assert.equal(first.status, 0, first.stderr);
  for (const file of ["pii-vault.db", "vault.key", "audit-key.pem"])
    assert.ok(existsSync(join(data, file)), `${file} beside the database`);
  const replayed = arbiterIn(elsewhere, "replay", JSON.parse(first.stdout).runId, "--json");
  assert.equal(replayed.status, 0, replayed.stdout + replayed.stderr);
  assert.equal(JSON.parse(replayed.stdout).identical, true);
  const exported = arbiterIn(elsewhere, "audit", "export", "--out", join(root, "audit.jsonl"));
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(arbiterIn(elsewhere, "audit", "verify").status, 0);
  // Neither folder got a vault or key of its own.
  assert.ok(!existsSync(join(here, ".arbiter")) && !existsSync(join(elsewhere, ".arbiter")));
});

test("a database made when the vault and keys lived in the working directory's .arbiter/ keeps them, and says where to move them", () => {
  const root = mkdtempSync(join(tmpdir(), "arbiter-companions-old-"));
  const db = join(root, "data", "arbiter.db");
  const base = { ...process.env, TELECOM_DB: join(root, "telecom.db") };
  const arbiterWith = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args, "--db", db], {
      cwd: root,
      env: { ...base, ...env },
      encoding: "utf8",
    });
  // As an older version laid it out: everything under the working directory's .arbiter/.
  const old = {
    ARBITER_VAULT: ".arbiter/pii-vault.db",
    ARBITER_VAULT_KEY_FILE: ".arbiter/vault.key",
    ARBITER_AUDIT_KEY_FILE: ".arbiter/audit-key.pem",
  };
  const first = arbiterWith(
    old,
    "run",
    profile,
    "I was charged twice on my card 4111 1111 1111 1111",
    "--json",
  );
  assert.equal(first.status, 0, first.stderr);
  const key = readFileSync(join(root, ".arbiter", "vault.key"), "utf8");
  const again = arbiterWith({}, "run", profile, "my wifi keeps dropping", "--json");
  assert.equal(again.status, 0, again.stderr);
  assert.match(
    again.stderr,
    /note: using the PII vault key .*\.arbiter\/vault\.key .*move it to .*data\/vault\.key/,
  );
  assert.match(again.stderr, /note: using the audit signing key .*\.arbiter\/audit-key\.pem/);
  for (const file of ["pii-vault.db", "vault.key", "audit-key.pem"])
    assert.ok(!existsSync(join(root, "data", file)), `no new ${file} beside the database`);
  assert.equal(readFileSync(join(root, ".arbiter", "vault.key"), "utf8"), key);
  const replayed = arbiterWith({}, "replay", JSON.parse(first.stdout).runId, "--json");
  assert.equal(replayed.status, 0, replayed.stdout + replayed.stderr);
  assert.equal(arbiterWith({}, "audit", "verify").status, 0);
});

test("a shadow bundle is decided beside the active one and policy diff lists where they differ", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-shadow-"));
  const policies = join(dirname(profile), "policies");
  const shadow = join(dir, "policies-next");
  cpSync(policies, shadow, { recursive: true });
  const billing = join(shadow, "policies", "billing.cedar");
  writeFileSync(billing, readFileSync(billing, "utf8").replace("> 5000", "> 10000"));
  const variant = join(dirname(profile), `profile-shadow-${process.pid}.yaml`);
  writeFileSync(
    variant,
    readFileSync(profile, "utf8").replace(
      "policies: ./policies",
      `policies: ./policies\nshadowPolicies: ${shadow}`,
    ),
  );
  const { run } = cliIn(dir);
  try {
    const waiting = JSON.parse(run("run", variant, "please credit $80 to my account", "--json").stdout);
    assert.equal(waiting.status, "waiting", "the active bundle is enforced");
    const diff = run("policy", "diff", "--since", "1h", "--json");
    assert.equal(diff.status, 0, diff.stderr);
    const differences = JSON.parse(diff.stdout).differences;
    assert.equal(differences.length, 1);
    assert.equal(differences[0].tool, "issue_credit");
    assert.equal(differences[0].active.decision, "needs-approval");
    assert.equal(differences[0].shadow.outcome, "allow");
  } finally {
    rmSync(variant, { force: true });
  }
});

test("arbiter audit verify passes on a clean database and names the first bad entry after tampering", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-cli-"));
  const { env, run } = cliIn(dir);
  assert.equal(run("run", profile, THREE_INTENTS, "--quiet").status, 0);
  const clean = JSON.parse(run("audit", "verify", "--json").stdout);
  assert.equal(clean.ok, true);
  assert.ok(clean.entries > 20 && clean.checkpoints >= 1, JSON.stringify(clean));
  const db = new DatabaseSync(env.ARBITER_DB);
  db.exec("DROP TRIGGER journal_refuses_update");
  db.exec("UPDATE journal SET event = replace(event, 'overcharged', 'overcharget') WHERE seq = 1");
  db.close();
  const tampered = run("audit", "verify");
  assert.equal(tampered.status, 1);
  assert.match(tampered.stdout, /audit FAILED at chain entry 1:\n {2}edited: journal entr(y|ies) run_\w+#1/);
});

test("arbiter audit on a damaged database file: verify fails saying where it stopped; export and policy diff refuse with exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-cli-"));
  const { env, run } = cliIn(dir);
  assert.equal(run("run", profile, THREE_INTENTS, "--quiet").status, 0);
  // A disk fault garbles a page of the journal (one of its overflow pages: a run's entries are one row).
  const db = new DatabaseSync(env.ARBITER_DB);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const page = db
    .prepare("SELECT pageno FROM dbstat WHERE name = 'journal' AND pagetype = 'overflow' LIMIT 1")
    .get() as { pageno: number };
  db.close();
  const file = readFileSync(env.ARBITER_DB);
  file.fill(0x41, (page.pageno - 1) * 4096, page.pageno * 4096); // its link to the next page too
  writeFileSync(env.ARBITER_DB, file);
  const verify = run("audit", "verify");
  assert.equal(verify.status, 1, verify.stderr);
  assert.match(
    verify.stdout,
    /audit FAILED at chain entry \d+:\n(.*\n)* {2}unreadable: the journal cannot be read from chain entry \d+ on: database disk image is malformed/,
  );
  assert.match(verify.stdout, /is damaged: `sqlite3 .* "PRAGMA integrity_check"` says where/);
  const exported = run("audit", "export", "--out", join(dir, "audit.jsonl"));
  assert.equal(exported.status, 2, exported.stderr);
  assert.match(exported.stderr, /failed: .* is damaged \(database disk image is malformed\)/);
  const diff = run("policy", "diff", "--since", "24h");
  assert.equal(diff.status, 2, diff.stderr);
  assert.match(diff.stderr, /reading the journal failed: .* is damaged/);
});

test("commands on an existing SQLite file that is not Arbiter's refuse it and change nothing in it", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-foreign-"));
  const { run } = cliIn(dir);
  const foreign = join(dir, "app.db");
  const app = new DatabaseSync(foreign);
  app.exec(
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders (total) VALUES (9.5)",
  );
  app.close();
  for (const args of [
    ["runs", "list"],
    ["audit", "verify"],
    ["approvals", "list"],
    ["costs"],
    ["policy", "diff", "--since", "24h"],
    ["resume"],
  ]) {
    const r = run(...args, "--db", foreign);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /app\.db is not an Arbiter run database \(it has tables orders but no schema_version\); nothing was changed in it/,
    );
  }
  // Nor does a run (or serve) make its tables there; it does in an empty file.
  const refused = run("run", profile, "my wifi keeps dropping", "--db", foreign);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /app\.db is not an Arbiter run database .* or at a new file\./);
  const empty = join(dir, "empty.db");
  writeFileSync(empty, "");
  assert.equal(run("run", profile, "my wifi keeps dropping", "--quiet", "--db", empty).status, 0);
  assert.equal(JSON.parse(run("runs", "list", "--json", "--db", empty).stdout).length, 1);
  const after = new DatabaseSync(foreign, { readOnly: true });
  const tables = after.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
  after.close();
  assert.deepEqual(
    tables.map((t) => t.name),
    ["orders"],
  );
});

test("a run killed mid-way resumes on the --model it was started with, from any folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-resume-model-"));
  const { env, run } = cliIn(dir);
  const { spawn } = await import("node:child_process");
  const script = "../telecom-script.yaml";
  cpSync(join(root, "examples/telecom/scripted-agents.yaml"), join(dir, script));
  const child = spawn(
    process.execPath,
    [
      bin,
      "run",
      profile,
      THREE_INTENTS,
      "--json",
      "--model",
      `scripted:${script}`,
      "--inject",
      "latency=300ms",
    ],
    { cwd: dir, env: { ...process.env, ...env }, stdio: "ignore" },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    // Kill it once its first model call has ended (the run is recorded and under way).
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.ok(Date.now() < deadline, "the run never made a model call");
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!existsSync(env.ARBITER_DB)) continue;
      const db = new DatabaseSync(env.ARBITER_DB, { readOnly: true });
      try {
        const n = db
          .prepare("SELECT COUNT(*) AS n FROM journal_entries WHERE type = 'model-call-end'")
          .get()?.n;
        if (typeof n === "number" && n > 0) break;
      } catch {
        // not created yet
      } finally {
        db.close();
      }
    }
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  const listed = JSON.parse(run("runs", "list", "--json").stdout);
  const runId = listed[0].id;
  const elsewhere = spawnSync(process.execPath, [bin, "resume", "--json"], {
    cwd: tmpdir(),
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  assert.equal(elsewhere.status, 0, elsewhere.stderr);
  assert.deepEqual(
    JSON.parse(elsewhere.stdout).runs.map((r: { status: string }) => r.status),
    ["completed"],
  );
  const shown = JSON.parse(run("runs", "show", runId, "--json").stdout);
  assert.deepEqual(shown.run.models, [`scripted:${join(dir, script)}`]);
  const answeredBy = shown.events
    .filter((e: { event: { type: string } }) => e.event.type === "model-call-end")
    .map((e: { event: { answeredBy?: { provider: string } } }) => e.event.answeredBy?.provider);
  assert.ok(answeredBy.length >= 11, `${answeredBy.length} model calls`);
  assert.ok(
    answeredBy.every((p: string | undefined) => p === "scripted"),
    JSON.stringify(answeredBy),
  );
});

test("arbiter resume takes up many unfinished runs a few at a time (--concurrency) and finishes every one", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-resume-many-"));
  const { env, run } = cliIn(dir);
  const crashed = spawnSync(process.execPath, [join(root, "test/fixtures/crash-many.ts"), dir, "6"], {
    encoding: "utf8",
  });
  assert.equal(crashed.signal, "SIGKILL", crashed.stderr);
  assert.equal(JSON.parse(run("runs", "list", "--json").stdout).length, 6);
  // Slowed down, so each run spans many commits and the journal's order shows which ran together.
  const resumed = run("resume", "--concurrency", "2", "--json", "--inject", "latency=50ms");
  assert.equal(resumed.status, 0, resumed.stderr);
  const statuses = JSON.parse(resumed.stdout).runs.map((r: { status: string }) => r.status);
  assert.deepEqual(statuses, Array(6).fill("completed"));
  // In the journal's order, never more than two runs were between their run-resume and their run-end.
  const db = new DatabaseSync(env.ARBITER_DB, { readOnly: true });
  const marks = db
    .prepare("SELECT run_id, type FROM journal_entries WHERE type IN ('run-resume', 'run-end') ORDER BY gseq")
    .all() as Array<{ run_id: string; type: string }>;
  db.close();
  let open = 0;
  let most = 0;
  for (const mark of marks) {
    open += mark.type === "run-resume" ? 1 : -1;
    most = Math.max(most, open);
  }
  assert.equal(marks.length, 12);
  assert.equal(most, 2);
  const effects = new DatabaseSync(env.TELECOM_DB, { readOnly: true });
  const counted = effects
    .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT idempotency_key) AS keys FROM telecom_effects")
    .get() as { n: number; keys: number };
  effects.close();
  assert.equal(counted.n, counted.keys, "no side effect happened twice");
});

test("Ctrl-C stops arbiter run where it is, says how to continue, and arbiter resume finishes it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-sigint-"));
  const { env, run } = cliIn(dir);
  const child = spawn(process.execPath, [bin, "run", profile, THREE_INTENTS, "--inject", "latency=300ms"], {
    cwd: dir,
    env: { ...process.env, ...env },
  });
  let stderr = "";
  let interrupted = false;
  child.stderr.on("data", (d) => {
    stderr += d;
    // Interrupted (once: a second Ctrl-C ends it at once) when its branches are calling tools.
    if (!interrupted && /· t\d /.test(stderr)) {
      interrupted = true;
      child.kill("SIGINT");
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 130, stderr);
  const runId = /stopped by SIGINT; (run_\w+) is unfinished: `arbiter resume` continues it/.exec(stderr)?.[1];
  assert.ok(runId, stderr);
  const stopped = JSON.parse(run("runs", "show", runId, "--json").stdout).run;
  assert.equal(stopped.status, "running");
  assert.equal(stopped.owner, null, "its lease is released for whoever resumes it");
  // `arbiter resume` stops the same way, once it has taken the run up.
  const resumes = () => {
    const db = new DatabaseSync(env.ARBITER_DB, { readOnly: true });
    db.exec("PRAGMA busy_timeout = 5000");
    try {
      return (
        db.prepare("SELECT COUNT(*) AS n FROM journal_entries WHERE type = 'run-resume'").get() as {
          n: number;
        }
      ).n;
    } finally {
      db.close();
    }
  };
  const before = resumes();
  const resumer = spawn(process.execPath, [bin, "resume", "--json", "--inject", "latency=1000ms"], {
    cwd: dir,
    env: { ...process.env, ...env },
  });
  const resumerClosed = new Promise<number | null>((resolve) => resumer.on("close", resolve));
  let resumerOut = "";
  resumer.stdout.on("data", (d) => {
    resumerOut += d;
  });
  for (let waited = 0; resumes() === before && waited < 30_000; waited += 20)
    await new Promise((r) => setTimeout(r, 20));
  resumer.kill("SIGTERM");
  assert.equal(await resumerClosed, 143, resumerOut);
  assert.deepEqual(
    JSON.parse(resumerOut).runs.map((r: { status: string }) => r.status),
    ["stopped"],
  );
  assert.equal(JSON.parse(run("runs", "show", runId, "--json").stdout).run.owner, null);
  const resumed = run("resume", "--json");
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(
    JSON.parse(resumed.stdout).runs.map((r: { status: string }) => r.status),
    ["completed"],
  );
});

test("a user with read access only (an auditor) lists, shows, verifies and costs runs; a decision says it needs write access", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-readonly-"));
  const { env, run } = cliIn(dir);
  assert.equal(run("run", profile, THREE_INTENTS, "--quiet").status, 0);
  const id = JSON.parse(run("runs", "list", "--json").stdout)[0].id as string;
  // Nobody has the database open now: no -wal or -shm beside it, and the reader cannot create them.
  assert.equal(existsSync(`${env.ARBITER_DB}-wal`), false);
  chmodSync(env.ARBITER_DB, 0o444);
  chmodSync(dir, 0o555);
  t.after(() => chmodSync(dir, 0o755));
  // Root may write anything: read as `nobody` then (when it can run this node and read the repository).
  const asRoot = process.getuid?.() === 0;
  // (Found by path: CI may run with a PATH that leaves out the sbin folders.)
  const runuser =
    ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].find((p) => existsSync(p)) ?? "runuser";
  const prefix = asRoot ? [runuser, "-u", "nobody", "--"] : [];
  if (asRoot && spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, bin, "--help"]).status !== 0) {
    t.skip("root, and `nobody` cannot run this node or read the repository");
    return;
  }
  const reader = (...args: string[]) =>
    spawnSync(
      prefix[0] ?? process.execPath,
      [...prefix.slice(1), ...(asRoot ? [process.execPath] : []), bin, ...args],
      {
        cwd: tmpdir(),
        env: { ...process.env, ...env },
        encoding: "utf8",
      },
    );
  const before = readFileSync(env.ARBITER_DB);
  const listed = reader("runs", "list", "--json");
  assert.equal(listed.status, 0, listed.stderr);
  assert.equal(JSON.parse(listed.stdout)[0].id, id);
  const shown = reader("runs", "show", id, "--json");
  assert.equal(shown.status, 0, shown.stderr);
  assert.equal(JSON.parse(shown.stdout).run.status, "completed");
  const verified = reader("audit", "verify", "--json");
  assert.equal(verified.status, 0, verified.stderr);
  assert.equal(JSON.parse(verified.stdout).ok, true);
  assert.equal(reader("approvals", "list").status, 0);
  assert.equal(reader("costs").status, 0);
  const outDir = mkdtempSync(join(tmpdir(), "arbiter-readonly-out-"));
  chmodSync(outDir, 0o777);
  const exported = reader("audit", "export", "--out", join(outDir, "audit.jsonl"));
  assert.equal(exported.status, 0, exported.stderr);
  const links = readFileSync(join(outDir, "audit.jsonl"), "utf8").trim().split("\n");
  assert.ok(links.length >= 1 && links.every((l) => JSON.parse(l).runId === id));
  const decide = reader("approvals", "approve", "x", "--by", "auditor");
  assert.equal(decide.status, 2);
  assert.match(decide.stderr, /cannot open .*arbiter\.db for writing/);
  assert.deepEqual(readFileSync(env.ARBITER_DB), before, "reading changed nothing");
  assert.equal(existsSync(`${env.ARBITER_DB}-wal`), false);
});

test("a detached run's log holds the answer as the journal keeps it: the requester's e-mail stays a token there", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-detach-pii-"));
  const { run } = cliIn(dir);
  // The log is a file, not the requester: personal data in the answer stays a token there.
  const email = "jane.doe@example.com";
  const foreground = run("run", profile, `hello, please write to me at ${email}`, "--quiet");
  assert.match(
    foreground.stdout,
    new RegExp(email.replace(".", "\\.")),
    "the requester sees their own e-mail",
  );
  const withEmail = JSON.parse(
    run("run", profile, `hello, please write to me at ${email}`, "--detach", "--json").stdout,
  );
  let ended = "running";
  for (let waited = 0; ended === "running" && waited < 30_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    ended = JSON.parse(run("runs", "show", withEmail.runId, "--json").stdout).run.status;
  }
  const logged = readFileSync(withEmail.log, "utf8");
  assert.match(logged, /<EMAIL_\w+>/, logged);
  assert.equal(logged.includes(email), false, "no e-mail in clear in the detached run's log");
});

test("run --detach returns once the run is on record and it finishes in the background; a run that cannot start fails in the foreground", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-detach-"));
  const { env, run } = cliIn(dir);
  const started = run("run", profile, THREE_INTENTS, "--detach", "--json", "--inject", "latency=200ms");
  assert.equal(started.status, 0, started.stderr);
  const { runId, log } = JSON.parse(started.stdout) as { runId: string; log: string };
  // On record before the command returned: `runs show` knows it at once.
  const shown = run("runs", "show", runId, "--json");
  assert.equal(shown.status, 0, shown.stderr);
  assert.ok(["running", "completed"].includes(JSON.parse(shown.stdout).run.status));
  let status = "running";
  for (let waited = 0; status === "running" && waited < 30_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    status = JSON.parse(run("runs", "show", runId, "--json").stdout).run.status;
  }
  assert.equal(status, "completed");
  assert.equal(dirname(log), join(dir, "logs"));
  assert.match(readFileSync(log, "utf8"), /Tech support:/, "the background process's answer is in its log");

  // Missing credentials: said here, exit 2, no run left behind.
  const noKey = spawnSync(
    process.execPath,
    [bin, "run", profile, "my bill is wrong", "--model", "openai:gpt-4.1-mini", "--detach"],
    { cwd: dir, env: { ...process.env, ...env, OPENAI_API_KEY: "" }, encoding: "utf8" },
  );
  assert.equal(noKey.status, 2, noKey.stdout);
  assert.equal(noKey.stdout, "", "no run id for a run that did not start");
  assert.match(noKey.stderr, /OPENAI_API_KEY is not set/);
  // A file that is not a database: said here too.
  const garbage = join(dir, "garbage.db");
  writeFileSync(garbage, "not a database");
  const bad = run("run", profile, "my bill is wrong", "--detach", "--db", garbage);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /garbage\.db is not a readable Arbiter database/);
  assert.equal(JSON.parse(run("runs", "list", "--json").stdout).length, 1);
  // Nothing is left behind by a run that did not start: no log, no audit key made for that file.
  assert.deepEqual(readdirSync(join(dir, "logs")), [`${runId}.log`]);
  const elsewhere = mkdtempSync(join(tmpdir(), "arbiter-detach-bad-"));
  writeFileSync(join(elsewhere, "garbage.db"), "not a database");
  const there = spawnSync(
    process.execPath,
    [bin, "run", profile, "my bill", "--detach", "--db", "garbage.db"],
    {
      cwd: elsewhere,
      env: { ...process.env, TELECOM_DB: join(elsewhere, "telecom.db") },
      encoding: "utf8",
    },
  );
  assert.equal(there.status, 2, there.stderr);
  assert.deepEqual(readdirSync(elsewhere), ["garbage.db"]);
});

test("an approver changes a held tool call's arguments with --edit (checked against the call), and an expired request is listed as expired", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-edit-"));
  const { env, run } = cliIn(dir);
  const held = run("run", profile, "please credit $80 to my account", "--json");
  assert.equal(held.status, 1, held.stderr);
  const { runId, pending } = JSON.parse(held.stdout) as {
    runId: string;
    pending: Array<{ approvalId: string }>;
  };
  const id = pending[0]!.approvalId;
  // The approver sees what the call is: tool and arguments.
  const shown = run("approvals", "show", id);
  assert.match(shown.stdout, /about {4}tool call issue_credit \{"customerId":"C-1001","amount":80,/);
  assert.deepEqual(JSON.parse(run("approvals", "show", id, "--json").stdout).subject.tool, "issue_credit");
  // The inbox shows them too, under each request.
  assert.match(run("approvals", "list").stdout, /\n {4}issue_credit \{"customerId":"C-1001","amount":80,/);
  assert.equal(JSON.parse(run("approvals", "list", "--json").stdout)[0].subject.input.amount, 80);
  // Edits that do not fit the call are refused before anything is stored.
  for (const [args, said] of [
    [
      ["approve", id, "--by", "alice", "--edit", '{"amount":"40"}'],
      /"amount" of issue_credit is a number \(was 80\), not a string/,
    ],
    [
      ["approve", id, "--by", "alice", "--edit", '{"amt":40}'],
      /called with customerId, amount, reason; "amt" is not one of them/,
    ],
    [["approve", id, "--by", "alice", "--edit", "40"], /as a JSON object/],
    // … and values the tool's own schema refuses (in the profile the run resumes on).
    [
      ["approve", id, "--by", "alice", "--edit", '{"amount":-5}'],
      /issue_credit would refuse "amount": Too small: expected number to be >0; nothing was recorded/,
    ],
    [
      ["approve", id, "--by", "alice", "--edit", '{"amount":40,"reason":"x"}'],
      /issue_credit would refuse "reason": Too small/,
    ],
    [
      ["deny", id, "--by", "alice", "--reason", "no", "--edit", '{"amount":40}'],
      /a denial takes no edit here/,
    ],
  ] as const) {
    const refused = run("approvals", ...args);
    assert.equal(refused.status, 2, refused.stdout);
    assert.match(refused.stderr, said);
  }
  assert.equal(JSON.parse(run("approvals", "show", id, "--json").stdout).status, "pending");
  const approved = run(
    "approvals",
    "approve",
    id,
    "--by",
    "alice",
    "--reason",
    "half now",
    "--edit",
    '{"amount":40}',
  );
  assert.equal(approved.status, 0, approved.stderr);
  const resumed = run("resume", "--json");
  assert.equal(resumed.status, 0, resumed.stdout);
  assert.match(JSON.parse(resumed.stdout).runs[0].detail, /credit of \$40\.00/);
  const db = new DatabaseSync(env.TELECOM_DB, { readOnly: true });
  const credits = db.prepare("SELECT args_json FROM telecom_effects WHERE tool = 'issue_credit'").all();
  db.close();
  assert.equal(credits.length, 1, "credited once");
  assert.equal(JSON.parse(String(credits[0]!.args_json)).amount, 40, "with the approver's amount");
  const events = JSON.parse(run("runs", "show", runId, "--json").stdout).events as Array<{
    event: { type: string; input?: { amount?: number }; decision?: string; tool?: string };
  }>;
  assert.equal(
    events.find((e) => e.event.type === "tool-call-start" && e.event.tool === "issue_credit")?.event.input
      ?.amount,
    40,
  );
  assert.deepEqual(
    events
      .filter((e) => e.event.type === "policy-decide" && e.event.tool === "issue_credit")
      .map((e) => e.event.decision),
    ["needs-approval", "allow"],
  );

  // Expiry: a request past its time is listed, shown and refused as expired, before the run looks again.
  const expiring = join(dir, "profile.yaml");
  writeFileSync(
    expiring,
    readFileSync(profile, "utf8")
      .replace("./toolkit.ts", join(root, "examples/telecom/toolkit.ts"))
      .replace("policies: ./policies", `policies: ${join(root, "examples/telecom/policies")}`)
      .replace("supervisor:\n", "supervisor:\n  approvals:\n    expiresIn: 1s\n"),
  );
  const late = JSON.parse(run("run", expiring, "please credit $90 to my account", "--json").stdout);
  const lateId = late.pending[0].approvalId as string;
  await new Promise((r) => setTimeout(r, 1_200));
  assert.equal(run("approvals", "list").stdout, "no pending approvals\n");
  const expired = JSON.parse(run("approvals", "list", "--status", "expired", "--json").stdout);
  assert.deepEqual(
    expired.map((a: { id: string; status: string }) => [a.id, a.status]),
    [[lateId, "expired"]],
  );
  assert.match(run("approvals", "show", lateId).stdout, new RegExp(`approval ${lateId} {2}expired`));
  const tooLate = run("approvals", "approve", lateId, "--by", "alice");
  assert.equal(tooLate.status, 2);
  assert.match(tooLate.stderr, /expired/);
  const lateRun = JSON.parse(run("runs", "show", late.runId, "--json").stdout);
  assert.deepEqual(
    lateRun.approvals.map((a: { status: string }) => a.status),
    ["expired"],
    "runs show says expired too",
  );

  // An edit the tool's schema refuses, approved where the run's profile did not load (so it was checked
  // against the call only, and said so): the call is not made, the task is escalated with why (no retry,
  // no fallback worker answering in its place), and resume exits 1.
  const overProfile = join(dir, "over.yaml");
  writeFileSync(overProfile, readFileSync(expiring, "utf8").replace("  approvals:\n    expiresIn: 1s\n", ""));
  const over = JSON.parse(run("run", overProfile, "please credit $85 to my account", "--json").stdout);
  const overId = over.pending[0].approvalId as string;
  renameSync(overProfile, `${overProfile}.away`);
  const inherited = run(
    "approvals",
    "approve",
    overId,
    "--by",
    "alice",
    "--edit",
    '{"__proto__":{"amount":1}}',
  );
  assert.equal(inherited.status, 2, "an inherited name is not an argument");
  assert.match(inherited.stderr, /"__proto__" is not one of them/);
  const unchecked = run("approvals", "approve", overId, "--by", "alice", "--edit", '{"amount":1e9}');
  assert.equal(unchecked.status, 0, unchecked.stderr);
  assert.match(
    unchecked.stderr,
    /note: the edit was checked against the call, not against issue_credit's input schema \(its profile did not load: .*over\.yaml: cannot read the profile/,
  );
  renameSync(`${overProfile}.away`, overProfile);
  // The expired run's profile is gone meanwhile: that run cannot be resumed, the other one still is.
  rmSync(expiring);
  const mixed = run("resume", "--json");
  assert.equal(mixed.status, 1, mixed.stdout);
  const byRun = new Map(
    (JSON.parse(mixed.stdout).runs as Array<{ runId: string; status: string; detail: string }>).map((r) => [
      r.runId,
      r,
    ]),
  );
  assert.equal(byRun.get(late.runId)?.status, "error");
  assert.match(
    byRun.get(late.runId)?.detail ?? "",
    /cannot resume: .*profile\.yaml: cannot read the profile/,
  );
  assert.equal(byRun.get(over.runId)?.status, "escalated");
  assert.match(
    byRun.get(over.runId)?.detail ?? "",
    /alice's edit of issue_credit is not valid input \(amount: Too big/,
  );
  const after = new DatabaseSync(env.TELECOM_DB, { readOnly: true });
  const issued = after.prepare("SELECT COUNT(*) AS n FROM telecom_effects WHERE tool = 'issue_credit'").get();
  after.close();
  assert.equal(issued?.n, 1, "only the $40 credit approved earlier");
});

test("on a read-only file system (a backup mounted read-only) the read commands and replay work and change nothing", (t) => {
  const mount = mkdtempSync(join(tmpdir(), "arbiter-ro-"));
  // Only where this process may mount a small file system of its own (root, as CI runs).
  const sh = (...args: string[]) => spawnSync(args[0]!, args.slice(1), { stdio: "ignore" }).status === 0;
  if (!sh("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount)) {
    t.skip("cannot mount a file system here");
    return;
  }
  try {
    const { run } = cliIn(mount);
    // Personal data in the request: the run's vault holds it, and a replay needs the vault to read it.
    const made = run("run", profile, "my internet is slow, write to dana@example.com", "--json");
    assert.equal(made.status, 0, made.stderr);
    const { runId } = JSON.parse(made.stdout) as { runId: string };
    assert.ok(sh("mount", "-o", "remount,ro", mount), "remounted read-only");
    for (const args of [
      ["runs", "list"],
      ["runs", "show", runId],
      ["approvals", "list"],
      ["audit", "verify"],
      ["costs"],
    ]) {
      const r = run(...args);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const replayed = run("replay", runId);
    assert.equal(replayed.status, 0, replayed.stderr);
    assert.match(replayed.stdout, /routing, plan and \d+ steps identical/);
    const writing = run("run", profile, "my wifi keeps dropping");
    assert.equal(writing.status, 2, "a run needs to write");
    assert.match(writing.stderr, /cannot open .*arbiter\.db for writing/);
  } finally {
    sh("umount", mount);
  }
});
