import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { loadProfile } from "../src/profile/load-profile.ts";
import { createSupervisor } from "../src/supervisor/supervisor.ts";

const profilePath = new URL("../examples/telecom/profile.yaml", import.meta.url).pathname;
const MESSAGE =
  "I was overcharged on my last bill, my internet has been really slow for days, and I'd like to upgrade to a faster plan.";

test("the telecom example credits an overcharge once, even when the customer asks again", async () => {
  const db = join(mkdtempSync(join(tmpdir(), "arbiter-telecom-")), "telecom.db");
  const profile = await loadProfile(profilePath, { env: { TELECOM_DB: db } });
  try {
    const supervisor = createSupervisor({ profile });
    const first = await supervisor.run({ message: MESSAGE });
    assert.equal(first.status, "completed");
    assert.match(first.tasks[0]!.summary, /credited \$12\.99/);
    const second = await supervisor.run({ message: "I was overcharged on my bill" });
    assert.match(second.answer, /already corrected: StreamMax add-on \$12\.99 \(credit CR-1\)/);
    const other = await supervisor.run({
      message: "is there an outage? my internet is down",
      context: { customerId: "C-1002" },
    });
    assert.match(other.answer, /known outage in your area/);
    const downgrade = await supervisor.run({
      message: "downgrade me to a cheaper plan",
      context: { customerId: "C-1003" },
    });
    assert.match(downgrade.answer, /already on Basic 25/);
  } finally {
    await profile.close();
  }
  const check = new DatabaseSync(db);
  const credits = check
    .prepare("SELECT COUNT(*) AS n FROM telecom_effects WHERE tool = 'issue_credit'")
    .get();
  check.close();
  assert.equal(credits?.n, 1);
});

test("model egress: a card number in clear never goes to an external provider (the decision is journaled)", async () => {
  const db = join(mkdtempSync(join(tmpdir(), "arbiter-egress-")), "telecom.db");
  const profile = await loadProfile(profilePath, { env: { TELECOM_DB: db } });
  const { ScriptedModel } = await import("../src/testing/scripted-model.ts");
  try {
    const model = new ScriptedModel({
      provider: "openai",
      rules: [{ reply: { object: { status: "ok", summary: "Checked.", confidence: 0.9 } } }],
    });
    const external = { name: "gpt", model, external: true };
    const supervisor = createSupervisor({
      profile,
      models: { forWorker: () => external, planner: () => undefined, synthesizer: () => undefined },
    });
    const result = await supervisor.run({ message: "I was overcharged on my card 4111 1111 1111 1111" });
    assert.equal(model.callCount, 0, "the prompt never left");
    assert.equal(result.tasks[0]!.status, "refused");
    assert.match(result.tasks[0]!.reason ?? "", /model-egress\.no-card-or-bank-data-to-external-providers/);
    const egress = supervisor.journal
      .read(result.runId)
      .map((e) => e.event)
      .find((e) => e.type === "policy-decide" && e.kind === "model-egress");
    assert.ok(egress?.type === "policy-decide" && egress.decision === "deny");
  } finally {
    await profile.close();
  }
});

test("with one tool or model call in five failing, every run ends answered or escalated, says what failed, and credits at most once", async () => {
  const { createFaults } = await import("../src/testing/fault-injection.ts");
  const { ScriptedModel } = await import("../src/testing/scripted-model.ts");
  const { MemoryJournal } = await import("../src/journal/memory/memory-journal.ts");
  const { telecomRules } = await import("../bench/telecom-bench.ts");
  const db = join(mkdtempSync(join(tmpdir(), "arbiter-faults-")), "telecom.db");
  const profile = await loadProfile(profilePath, { env: { TELECOM_DB: db } });
  const ended: Record<string, number> = {};
  let retried = 0;
  let handedOver = 0;
  try {
    const model = new ScriptedModel({ modelId: "faulty", rules: telecomRules(), record: false });
    const llm = {
      forWorker: () => ({ name: "faulty", model }),
      planner: () => undefined,
      synthesizer: () => undefined,
    };
    for (const [mode, models] of [
      ["handlers", undefined],
      ["llm", llm],
    ] as const) {
      const supervisor = createSupervisor({
        profile,
        journal: new MemoryJournal({ maxFinishedRuns: 0 }),
        faults: createFaults({ latencyMs: 0, failRate: 0.2, seed: 11 }),
        ...(models ? { models } : {}),
      });
      // 100 runs per mode, 25 at a time (a retry waits its backoff).
      for (let batch = 0; batch < 4; batch++) {
        const results = await Promise.all(
          Array.from({ length: 25 }, () => supervisor.run({ message: MESSAGE })),
        );
        for (const result of results) {
          ended[result.status] = (ended[result.status] ?? 0) + 1;
          assert.ok(
            ["completed", "partial", "escalated"].includes(result.status),
            `${mode}: ${result.status}`,
          );
          for (const task of result.tasks) {
            if (task.attempts > 1) retried++;
            if (task.worker !== task.plannedWorker) handedOver++;
            // A branch that failed is said plainly in the answer, with its reason; nothing is invented for it.
            if (task.status === "failed")
              assert.match(result.answer, /Not resolved yet:\n- .+: not completed — .*injected failure/);
          }
        }
      }
    }
  } finally {
    await profile.close();
  }
  assert.equal(
    (ended.completed ?? 0) + (ended.partial ?? 0) + (ended.escalated ?? 0),
    200,
    JSON.stringify(ended),
  );
  assert.ok(retried > 20, `the injected failures were retried (${retried} tasks)`);
  assert.ok(handedOver > 0, "and some tasks went to their fallback worker");
  const check = new DatabaseSync(db);
  const perKey = check
    .prepare("SELECT MAX(n) AS n FROM (SELECT COUNT(*) AS n FROM telecom_effects GROUP BY idempotency_key)")
    .get();
  const credits = check
    .prepare("SELECT idempotency_key AS key FROM telecom_effects WHERE tool = 'issue_credit'")
    .all() as Array<{ key: string }>;
  check.close();
  assert.equal(perKey?.n, 1, "no side effect happened twice under one idempotency key");
  const runs = credits.map((c) => c.key.split(":")[0]);
  assert.equal(new Set(runs).size, runs.length, "a retried billing task never credited twice in one run");
});
