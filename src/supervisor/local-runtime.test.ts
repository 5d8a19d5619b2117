import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { z } from "zod";
import { ArbiterError } from "../errors/arbiter-error.ts";
import { openEmbeddedShield } from "../guard/embedded-shield.ts";
import { compilePolicyBundle } from "../policy/cedar/compile-policy-bundle.ts";
import { loadPolicyBundle } from "../policy/cedar/load-policy-bundle.ts";
import { createPolicyEngine } from "../policy/policy-engine.ts";
import { defineProfile, loadProfile } from "../profile/load-profile.ts";
import { defineTool } from "../tools/tool.ts";
import { LocalRuntime, type RunOutcome, type SuspendedRun } from "./local-runtime.ts";
import { replayRun } from "./replay.ts";

/**
 * A worker whose one tool charges a card: a side effect that is not idempotent. The first process
 * "dies" inside the charge (the call hangs until its runtime is closed under it), so the next process
 * finds the step started and never ended: in doubt.
 */
function chargeSetup() {
  const charges: number[] = [];
  let hang: { entered: () => void; release: () => void } | undefined;
  const charge = defineTool({
    name: "charge",
    description: "charges the card on file",
    sideEffect: true,
    input: z.object({ amount: z.number() }),
    execute: async ({ amount }) => {
      charges.push(amount);
      if (hang !== undefined) {
        const h = hang;
        await new Promise<void>((resolve) => {
          h.release = resolve;
          h.entered();
        });
      }
      return { receipt: `r-${charges.length}` };
    },
  });
  const profile = defineProfile(
    {
      name: "shop",
      workers: [
        {
          name: "billing",
          description: "charges",
          handler: "billing",
          tools: ["charge"],
          routing: { keywords: ["charge"] },
        },
      ],
    },
    {
      tools: [charge],
      handlers: {
        billing: async (_task, ctx) => {
          const result = await ctx.callTool<{ receipt?: string; outcome?: string }>("charge", { amount: 40 });
          return {
            status: "ok",
            summary: `charged: ${result.receipt ?? result.outcome}`,
            confidence: 1,
          };
        },
      },
    },
  );
  const dir = mkdtempSync(join(tmpdir(), "arbiter-indoubt-"));
  const env = {
    ARBITER_AUDIT_KEY_FILE: join(dir, "audit-key.pem"),
    ARBITER_VAULT: join(dir, "vault.db"),
    ARBITER_VAULT_KEY: "ab".repeat(32),
  };
  const open = (modelSpecs?: string[]) =>
    LocalRuntime.open({
      profile,
      dbPath: join(dir, "arbiter.db"),
      env,
      ...(modelSpecs ? { modelSpecs } : {}),
    });
  /** Starts a run whose charge hangs, and closes the runtime under it: the charge is left in doubt. */
  async function crashDuringCharge(): Promise<string> {
    const first = await open();
    const entered = new Promise<void>((resolve) => {
      hang = { entered: resolve, release: () => {} };
    });
    let runId = "";
    const running = first.run({ message: "charge my card" }, { onStart: (id) => (runId = id) });
    await entered;
    await first.close(); // the process "dies": nothing after this point is recorded
    const h = hang!;
    hang = undefined;
    h.release();
    await running.catch(() => undefined);
    return runId;
  }
  return { charges, open, crashDuringCharge, dir };
}

/** Opens runtimes on one database in a folder of its own (as processes after one another would). */
function runtimesIn(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return (profile: Parameters<typeof LocalRuntime.open>[0]["profile"]) =>
    LocalRuntime.open({
      profile,
      dbPath: join(dir, "arbiter.db"),
      env: { ARBITER_AUDIT_KEY_FILE: join(dir, "audit-key.pem"), ARBITER_VAULT_KEY: "cd".repeat(32) },
    });
}

/** A promise a tool waits on, and its release. */
function gate(): { wait: Promise<void>; release: () => void } {
  let release: () => void = () => {};
  const wait = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}

function pendingOf(outcome: RunOutcome | undefined): SuspendedRun["pending"] {
  assert.ok(
    outcome !== undefined && !("answer" in outcome),
    `expected a waiting run, got ${JSON.stringify(outcome)}`,
  );
  return outcome.pending;
}

test("an in-doubt charge waits for a person; approving runs it again, exactly once more", async () => {
  const { charges, open, crashDuringCharge } = chargeSetup();
  const runId = await crashDuringCharge();
  assert.deepEqual(charges, [40]);

  const second = await open();
  try {
    const [record] = second.unfinished();
    assert.equal(record?.id, runId);
    const pending = pendingOf(await second.resume(record!));
    assert.equal(pending.length, 1);
    assert.match(pending[0]!.reason, /charge \(idempotency key .+\) started at .+ not declared idempotent/);
    assert.deepEqual(charges, [40], "an in-doubt charge is never repeated without a person");
    assert.equal(second.store.getRun(runId)?.status, "waiting");

    // Resuming again before anyone decides changes nothing: the same approval still waits.
    const again = pendingOf(await second.resume(second.store.getRun(runId)!));
    assert.equal(again[0]!.approvalId, pending[0]!.approvalId);
    assert.deepEqual(charges, [40]);

    // Straight into the store (as any process sharing the database may): the run tokenises it on receipt.
    second.store.decideApproval(pending[0]!.approvalId, {
      status: "approved",
      by: "dana",
      reason: "the processor has no charge with that key; told ann.smith@example.com",
      at: Date.now(),
    });
  } finally {
    await second.close();
  }

  const third = await open();
  try {
    const record = third.store.getRun(runId)!;
    const resumedAt = Date.now();
    const outcome = await third.resume(record);
    assert.ok(outcome !== undefined && "answer" in outcome);
    assert.equal(outcome.status, "completed");
    assert.match(outcome.answer, /charged: r-2/);
    const end = third.journal.read(runId).find((e) => e.event.type === "run-end")?.event;
    assert.ok(
      // (It was 1 ms of slack against the entry's own time: a busy machine took longer between the two.)
      end?.type === "run-end" && end.durationMs >= resumedAt - record.createdAt,
      "a resumed run's duration counts from when it was first recorded",
    );
    assert.deepEqual(charges, [40, 40], "run again once, as approved");
    const types = third.journal.read(runId).map((e) => e.event);
    const decide = types.find((e) => e.type === "approval-decide");
    assert.equal(decide?.type === "approval-decide" && decide.by, "dana");
    assert.match(
      decide?.type === "approval-decide" ? (decide.reason ?? "") : "",
      /^the processor has no charge with that key; told <EMAIL_\w+>$/,
    );
    const signal = third.store.loadSteps(runId).find((step) => step.name.startsWith("$signal:"));
    assert.ok(signal?.result?.startsWith("~sealed:"), signal?.result ?? "no signal step");
    const ends = types.filter((e) => e.type === "tool-call-end");
    assert.deepEqual(
      ends.map((e) => e.type === "tool-call-end" && e.ok),
      [true],
    );
    assert.equal(third.store.getRun(runId)?.status, "completed");
  } finally {
    await third.close();
  }
});

test("a run finished by another process since it was listed is not taken up again", async () => {
  const { charges, open, crashDuringCharge } = chargeSetup();
  const runId = await crashDuringCharge();
  const first = await open();
  // Listed now (unfinished); finished below before this listing is acted on.
  const stale = first.unfinished().find((r) => r.id === runId)!;
  try {
    const pending = pendingOf(await first.resume(stale));
    await first.decide(pending[0]!.approvalId, { status: "approved", by: "dana" });
    const done = await first.resume(first.store.getRun(runId)!);
    assert.ok(done !== undefined && "answer" in done && done.status === "completed");
  } finally {
    await first.close();
  }
  const second = await open();
  try {
    const entries = second.journal.read(runId).length;
    assert.equal(await second.resume(stale), undefined);
    assert.equal(second.journal.read(runId).length, entries, "nothing journaled after its end");
    assert.equal(second.store.getRun(runId)?.owner, null);
    assert.deepEqual(charges, [40, 40]);
  } finally {
    await second.close();
  }
});

test("denying an in-doubt charge records that it happened (with the result the person gives) and never repeats it", async () => {
  const { charges, open, crashDuringCharge } = chargeSetup();
  const runId = await crashDuringCharge();
  const second = await open();
  try {
    const pending = pendingOf(await second.resume(second.unfinished()[0]!));
    // Approving with an edit does not fit a call left in doubt (it runs again as it was): refused, unstored.
    await assert.rejects(
      second.decide(pending[0]!.approvalId, { status: "approved", by: "sam", edit: { amount: 20 } }),
      (e) => ArbiterError.is(e, "invalid-argument") && /runs it again as it was/.test(e.message),
    );
    assert.equal(second.store.getApproval(pending[0]!.approvalId)?.status, "pending");
    // Through the runtime (as `arbiter approvals deny` does): tokenised before anything stores it.
    const decided = await second.decide(pending[0]!.approvalId, {
      status: "denied",
      by: "sam",
      reason: "the processor shows receipt r-1, sent to ann.smith@example.com",
      edit: { receipt: "r-1", sentTo: "ann.smith@example.com" },
    });
    assert.match(decided.decisionReason ?? "", /sent to <EMAIL_\w+>$/);
    assert.match(JSON.stringify(second.store.getApproval(decided.id)?.edit), /"sentTo":"<EMAIL_\w+>"/);
    await assert.rejects(second.decide(decided.id, { status: "approved", by: "sam" }), (e) =>
      ArbiterError.is(e, "approval-decided"),
    );
    const outcome = await second.resume(second.store.getRun(runId)!);
    assert.ok(outcome !== undefined && "answer" in outcome);
    assert.equal(outcome.status, "completed");
    assert.match(outcome.answer, /charged: r-1/);
    assert.deepEqual(charges, [40], "a call that took effect is not repeated");
    // The person's words and edit reach the journal as tokens, and the step log sealed.
    const decide = second.journal.read(runId).find((e) => e.event.type === "approval-decide")?.event;
    assert.ok(decide?.type === "approval-decide");
    assert.match(decide.reason ?? "", /^the processor shows receipt r-1, sent to <EMAIL_\w+>$/);
    assert.match(JSON.stringify(decide.edit), /"sentTo":"<EMAIL_\w+>"/);
    const ended = second.journal.read(runId).find((e) => e.event.type === "tool-call-end")?.event;
    assert.ok(ended?.type === "tool-call-end" && !JSON.stringify(ended).includes("example.com"));
  } finally {
    await second.close();
  }
});

test("a run's outcome is committed before run() resolves, even when the caller never yields", async () => {
  const { open, dir } = chargeSetup();
  const runtime = await open();
  try {
    const { DatabaseSync } = await import("node:sqlite");
    const reader = new DatabaseSync(join(dir, "arbiter.db"), { readOnly: true });
    try {
      for (let i = 0; i < 3; i++) {
        const outcome = (await runtime.run({ message: "charge my card" })) as RunOutcome & { runId: string };
        // No turn of the event loop between the run's end and this read.
        const row = reader.prepare("SELECT status FROM runs WHERE id = ?").get(outcome.runId);
        assert.equal(row?.status, "completed");
        const end = reader
          .prepare("SELECT COUNT(*) AS n FROM journal_entries WHERE run_id = ? AND type = 'run-end'")
          .get(outcome.runId);
        assert.equal(end?.n, 1);
      }
    } finally {
      reader.close();
    }
  } finally {
    await runtime.close();
  }
});

test("a watch (serve) leaves a run started on other --model specs alone, once said why", async () => {
  const { open, crashDuringCharge } = chargeSetup();
  const runId = await crashDuringCharge();
  const other = await open(["openai:gpt-4.1-mini"]);
  const warnings: string[] = [];
  const outcomes: string[] = [];
  try {
    const watch = other.watch({
      intervalMs: 20,
      onWarning: (id, message) => warnings.push(`${id}: ${message}`),
      onOutcome: ({ runId: id }) => outcomes.push(id),
    });
    // Several looks (at least one that saw the run), however slow the machine.
    const deadline = Date.now() + 5_000;
    while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((resolve) => setTimeout(resolve, 60));
    await watch.stop();
  } finally {
    await other.close();
  }
  assert.deepEqual(outcomes, []);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(
    warnings[0]!,
    /started on the profile's models, not --model openai:gpt-4\.1-mini: left for `arbiter resume`/,
  );
  const same = await open();
  try {
    const taken = new Promise<string>((resolve) => {
      const watch = same.watch({
        intervalMs: 20,
        onOutcome: ({ runId: id }) => {
          resolve(id);
          void watch.stop();
        },
      });
    });
    assert.equal(await taken, runId);
  } finally {
    await same.close();
  }
});

test("a watch (serve) leaves a run another process parked alone until someone decides, then finishes it", async () => {
  const { charges, open, crashDuringCharge } = chargeSetup();
  const runId = await crashDuringCharge();
  const first = await open();
  let approvalId = "";
  try {
    approvalId = pendingOf(await first.resume(first.store.getRun(runId)!))[0]!.approvalId;
  } finally {
    await first.close();
  }
  const server = await open();
  try {
    const resumes = () => server.journal.read(runId).filter((e) => e.event.type === "run-resume").length;
    const before = resumes();
    const outcomes: string[] = [];
    const done = new Promise<void>((resolve) => {
      const watch = server.watch({
        intervalMs: 20,
        onOutcome: ({ runId: id, outcome }) => {
          outcomes.push(`${id} ${outcome?.status}`);
          if (outcome?.status === "completed") void watch.stop().then(resolve);
        },
      });
    });
    // Many looks while nobody has answered: reported as waiting once, not replayed, nothing journaled.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(outcomes, [`${runId} waiting`]);
    assert.equal(resumes(), before);
    await server.decide(approvalId, { status: "approved", by: "dana" });
    await done;
    assert.deepEqual(outcomes, [`${runId} waiting`, `${runId} completed`]);
    assert.deepEqual(charges, [40, 40]);
  } finally {
    await server.close();
  }
});

test("a tool's answer that holds personal data rests sealed in the step log, and replays exactly", async () => {
  const seen: string[] = [];
  const lookup = defineTool({
    name: "lookup_contact",
    description: "the customer's contact details",
    input: z.object({ id: z.string() }),
    idempotent: true,
    execute: async () => ({ email: "ann.smith@example.com", phone: "+1 212 555 0187", plan: "fiber" }),
  });
  const profile = defineProfile(
    {
      name: "crm",
      workers: [
        {
          name: "contacts",
          description: "contact details",
          handler: "contacts",
          tools: ["lookup_contact"],
          routing: { keywords: ["contact"] },
        },
      ],
    },
    {
      tools: [lookup],
      handlers: {
        contacts: async (_task, ctx) => {
          const contact = await ctx.callTool<{ email: string }>("lookup_contact", { id: "C-1" });
          seen.push(contact.email);
          return { status: "ok", summary: "found the contact details", confidence: 1 };
        },
      },
    },
  );
  const dir = mkdtempSync(join(tmpdir(), "arbiter-sealed-"));
  const dbPath = join(dir, "arbiter.db");
  const env = {
    ARBITER_AUDIT_KEY_FILE: join(dir, "audit-key.pem"),
    ARBITER_VAULT: join(dir, "vault.db"),
    ARBITER_VAULT_KEY: "cd".repeat(32),
  };
  const runtime = await LocalRuntime.open({ profile, dbPath, env });
  let runId = "";
  try {
    const outcome = await runtime.run(
      { message: "what contact details do you have" },
      { onStart: (id) => (runId = id) },
    );
    assert.ok("answer" in outcome && outcome.status === "completed", JSON.stringify(outcome));
    const tool = runtime.store.loadSteps(runId).find((s) => s.name.startsWith("tool:"));
    assert.ok(tool?.result?.startsWith("~sealed:"), tool?.result ?? "no tool step");
    // The journal holds tokens, the step log a sealed record: the address is nowhere in clear.
    const tokens = JSON.stringify(runtime.journal.read(runId).map((e) => e.event));
    assert.match(tokens, /<EMAIL_\d+>/);
  } finally {
    await runtime.close();
  }
  const bytes = Buffer.concat(
    [dbPath, `${dbPath}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
  );
  for (const needle of ["ann.smith@example.com", "212 555 0187"]) {
    assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} rests in clear`);
  }

  // A replay opens the sealed answer with the vault's key: the handler sees the same value again.
  const again = await LocalRuntime.open({ profile, dbPath, env });
  const shield = await openEmbeddedShield({ env });
  try {
    const report = await replayRun({
      record: again.store.getRun(runId)!,
      profile,
      store: again.store,
      engine: again.engine,
      recorded: again.journal.read(runId),
      shield: shield.shield,
    });
    assert.deepEqual(report.divergences, []);
    assert.deepEqual(seen, ["ann.smith@example.com", "ann.smith@example.com"]);
  } finally {
    await shield.close();
    await again.close();
  }
});

/**
 * A worker whose one tool books a technician: a side effect that is idempotent (a second call with the
 * same key returns the first booking). `calls` counts executions, `booked` the distinct keys.
 */
function bookingSetup() {
  const booked = new Map<string, string>();
  let calls = 0;
  const book = defineTool({
    name: "book",
    description: "books a technician",
    sideEffect: true,
    idempotent: true,
    input: z.object({ slot: z.string() }),
    execute: async ({ slot }, ctx) => {
      calls++;
      if (!booked.has(ctx.idempotencyKey)) booked.set(ctx.idempotencyKey, `T-${booked.size + 1} ${slot}`);
      return { ticket: booked.get(ctx.idempotencyKey) };
    },
  });
  const profile = defineProfile(
    {
      name: "field",
      workers: [
        {
          name: "tech",
          description: "technicians",
          handler: "tech",
          tools: ["book"],
          routing: { keywords: ["technician"] },
        },
      ],
    },
    {
      tools: [book],
      handlers: {
        tech: async (_task, ctx) => {
          const { ticket } = await ctx.callTool<{ ticket: string }>("book", { slot: "8-12" });
          return { status: "ok", summary: `booked ${ticket}`, confidence: 1 };
        },
      },
    },
  );
  const dir = mkdtempSync(join(tmpdir(), "arbiter-lost-"));
  const dbPath = join(dir, "arbiter.db");
  const env = { ARBITER_AUDIT_KEY_FILE: join(dir, "audit-key.pem") };
  /**
   * Runs SQL on the database (to make commits fail as a full disk would): on the runtime's connection
   * while it is open (it may hold the write lock), else on one of its own.
   */
  const sql = async (text: string, runtime?: LocalRuntime) => {
    if (runtime !== undefined) {
      runtime.store.database.exec(text);
      await runtime.store.commit();
      return;
    }
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(dbPath);
    db.exec(text);
    db.close();
  };
  return {
    open: () => LocalRuntime.open({ profile, dbPath, env }),
    sql,
    calls: () => calls,
    booked,
    dbPath,
  };
}

test("a run whose creation cannot be committed (a full disk) stops before its first side effect, and says to send it again", async () => {
  const { open, sql, calls, booked } = bookingSetup();
  const runtime = await open();
  try {
    await runtime.run({ message: "hello there" }).catch(() => undefined);
    await sql(
      "CREATE TRIGGER disk_full BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      runtime,
    );
    let runId = "";
    await assert.rejects(
      runtime.run({ message: "send a technician" }, { onStart: (id) => (runId = id) }),
      (e) =>
        ArbiterError.is(e, "store-error") &&
        e.message.includes(`run "${runId}" was never recorded`) &&
        /stopped before any side effect; send its request again/.test(e.message),
    );
    assert.equal(calls(), 0, "the booking waited for the run's record, which never came");
    assert.equal(runtime.store.getRun(runId), undefined);
    assert.deepEqual(runtime.journal.read(runId), [], "nothing of it is journaled afterwards either");
    await sql("DROP TRIGGER disk_full", runtime);
    const again = await runtime.run({ message: "send a technician" });
    assert.equal((again as { status: string }).status, "completed");
    assert.equal(booked.size, 1);
  } finally {
    await runtime.close();
  }
});

test("a run started while another process holds the database's write lock past the busy timeout waits for it, then completes: nothing lost", async () => {
  const { open, calls, booked, dbPath } = bookingSetup();
  const runtime = await open();
  const { DatabaseSync } = await import("node:sqlite");
  const other = new DatabaseSync(dbPath, { timeout: 0 });
  try {
    await runtime.run({ message: "hello there" }).catch(() => undefined);
    other.exec("BEGIN IMMEDIATE"); // e.g. a long write of another process: longer than the 5 s busy timeout
    let runId = "";
    const running = runtime.run({ message: "send a technician" }, { onStart: (id) => (runId = id) });
    await new Promise((r) => setTimeout(r, 5_600));
    assert.equal(calls(), 0, "the booking waits for the run's record");
    other.exec("COMMIT");
    const outcome = await running;
    assert.equal((outcome as { status: string }).status, "completed");
    assert.equal(booked.size, 1);
    assert.equal(runtime.store.getRun(runId)?.status, "completed");
    assert.ok(runtime.journal.read(runId).some((e) => e.event.type === "run-end"));
  } finally {
    if (other.isTransaction) other.exec("ROLLBACK");
    other.close();
    await runtime.close();
  }
});

test("a run that loses its last writes to a failed commit stops there; resume finishes it without a second booking", async () => {
  const { open, sql, calls, booked } = bookingSetup();
  const runtime = await open();
  let runId = "";
  try {
    await runtime.run({ message: "hello there" }).catch(() => undefined);
    // The commit holding the run's end fails (its earlier commits, with the booking's start, stand).
    await sql(
      `CREATE TRIGGER disk_full BEFORE INSERT ON journal WHEN NEW.event LIKE '%"type":"run-end"%'
       BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
      runtime,
    );
    await assert.rejects(
      runtime.run({ message: "send a technician" }, { onStart: (id) => (runId = id) }),
      (e) =>
        ArbiterError.is(e, "store-error") &&
        e.message.includes(`run "${runId}" lost its last writes`) &&
        /`arbiter resume` continues it from its last commit/.test(e.message),
    );
    assert.equal(calls(), 1);
    assert.equal(runtime.store.getRun(runId)?.status, "running", "recorded, unfinished: for resume");
  } finally {
    await runtime.close();
  }
  await sql("DROP TRIGGER disk_full");
  const next = await open();
  try {
    const record = next.unfinished().find((r) => r.id === runId);
    assert.ok(record, "listed as unfinished");
    const outcome = await next.resume(record);
    assert.equal((outcome as { status: string } | undefined)?.status, "completed");
    assert.equal(booked.size, 1, "the booking's key is the same on resume: one technician");
    const types = next.journal.read(runId).map((e) => e.event.type);
    assert.equal(types.filter((t) => t === "run-end").length, 1);
    assert.deepEqual(
      next.journal.read(runId).map((e) => e.seq),
      types.map((_, i) => i + 1),
      "no gap in the journal",
    );
  } finally {
    await next.close();
  }
});

test("a resumed run does not authorise again a call it completed: no question about what already happened", async () => {
  // The account worker changes the plan (a downgrade needs a person, by the telecom policies), then
  // lists plans; the process dies inside the listing. Meanwhile the customer's plan changes again, so
  // the same change would now be a downgrade. The resumed run must take the recorded change as done.
  let tier = 1;
  const changes: number[] = [];
  let hang: (() => void) | undefined;
  const entered: { resolve?: () => void } = {};
  const changePlan = defineTool({
    name: "change_plan",
    description: "moves the customer to another plan",
    sideEffect: true,
    input: z.object({ tier: z.number() }),
    facts: ({ tier: target }) => ({
      isDowngrade: target < tier,
      earlyTerminationFeeCents: target < tier ? 5000 : 0,
    }),
    // The run counters the telecom policies read (fed by tools this profile does not have).
    counters: {
      creditsIssuedCents: { initial: 0, add: () => 0 },
      failedLineTestInRun: { initial: false, add: () => false },
    },
    execute: async ({ tier: target }) => {
      changes.push(target);
      tier = target;
      return { tier };
    },
  });
  const listPlans = defineTool({
    name: "list_plans",
    description: "lists plans",
    input: z.object({}),
    execute: async () => {
      if (entered.resolve !== undefined) {
        entered.resolve();
        await new Promise<void>((resolve) => {
          hang = resolve;
        });
      }
      return { plans: [1, 2, 3] };
    },
  });
  const base = defineProfile(
    {
      name: "telecom-lite",
      workers: [
        {
          name: "account",
          description: "plans",
          handler: "account",
          tools: ["change_plan", "list_plans"],
          routing: { keywords: ["plan"] },
        },
      ],
    },
    {
      tools: [changePlan, listPlans],
      handlers: {
        account: async (_task, ctx) => {
          const changed = await ctx.callTool<{ tier: number }>("change_plan", { tier: 2 });
          await ctx.callTool("list_plans", {});
          return { status: "ok", summary: `now on tier ${changed.tier}`, confidence: 1 };
        },
      },
    },
  );
  const policies = join(import.meta.dirname, "../../examples/telecom/policies");
  const profile = { ...base, policy: createPolicyEngine({ active: loadPolicyBundle(policies) }) };
  // By the time the run resumes, plan changes are forbidden outright (a new policy version).
  const tightened = compilePolicyBundle({
    schema: readFileSync(join(policies, "schema.cedarschema"), "utf8"),
    policies: [
      ...readdirSync(join(policies, "policies")).map((name) => ({
        name,
        text: readFileSync(join(policies, "policies", name), "utf8"),
      })),
      {
        name: "freeze.cedar",
        text: '@id("no-plan-changes")\nforbid (principal, action == Action::"call_tool", resource == Tool::"change_plan");\n',
      },
    ],
  });
  const later = { ...base, policy: createPolicyEngine({ active: tightened }) };
  const open = runtimesIn("arbiter-reauthorise-");

  const first = await open(profile);
  const inside = new Promise<void>((resolve) => {
    entered.resolve = resolve;
  });
  let runId = "";
  const running = first.run({ message: "upgrade my plan" }, { onStart: (id) => (runId = id) });
  const early = running.then((outcome) => assert.fail(`the run ended first: ${JSON.stringify(outcome)}`));
  await Promise.race([inside, early]);
  await first.close(); // the process dies inside list_plans, after the change was recorded
  entered.resolve = undefined;
  hang?.();
  await running.catch(() => undefined);
  assert.deepEqual(changes, [2]);

  tier = 3; // another request moved the customer up meanwhile: tier 2 is now a downgrade with a fee
  const second = await open(later);
  try {
    const outcome = await second.resume(second.store.getRun(runId)!);
    assert.ok(
      outcome !== undefined && "answer" in outcome,
      `expected an answer, got ${JSON.stringify(outcome)}`,
    );
    assert.equal(outcome.status, "completed");
    assert.match(outcome.answer, /now on tier 2/);
    assert.deepEqual(second.store.listApprovals({}), [], "nobody was asked about the change that happened");
    assert.deepEqual(changes, [2], "and it did not happen again");
    // The facts each call was decided on are on record: a resume decides on what the run first saw.
    const facts = second.store.loadSteps(runId).filter((step) => step.name.startsWith("facts:"));
    assert.deepEqual(
      facts.map((step) => step.name.replace(/\/[0-9a-f]+#/, "/…#")),
      ["facts:t1/change_plan/…#0"],
    );
    const decisions = second.journal
      .read(runId)
      .map((e) => e.event)
      .filter((e) => e.type === "policy-decide" && e.kind === "tool-call");
    assert.deepEqual(
      decisions.map((e) => e.type === "policy-decide" && e.decision),
      ["allow", "allow"],
      "each call decided once: the change when it ran, the listing when it ran again",
    );
    // A replay executes nothing and asks nobody; on the profile the run was made with it finds the run
    // as recorded, and on the tightened one it says which decision the policy would now take differently.
    const replay = (on: typeof later) =>
      replayRun({
        record: second.store.getRun(runId)!,
        profile: on,
        store: second.store,
        engine: second.engine,
        recorded: second.journal.read(runId),
      });
    assert.deepEqual((await replay(profile)).divergences, []);
    const tightenedReport = await replay(later);
    assert.equal(tightenedReport.divergences.length, 1, tightenedReport.divergences.join("\n"));
    assert.match(
      tightenedReport.divergences[0]!,
      /^policy, task t1: recorded \[.*change_plan: allow by account\.change-plan.*\], replayed \[.*change_plan: deny by freeze\.no-plan-changes.*\]$/,
    );
    assert.deepEqual(second.store.listApprovals({}), []);
    assert.deepEqual(changes, [2]);
  } finally {
    await second.close();
  }
});

test("a run resumed on a profile that now plans otherwise follows its recorded plan: nothing runs twice under new ids", async () => {
  // Two workers; the process dies while both tasks are in their first call. Before the resume, the
  // profile's routing changes so the message would now go to `refunds` alone.
  const effects: string[] = [];
  const hold = gate();
  let holding = true;
  let inside = 0;
  const both = gate();
  const tool = (name: string) =>
    defineTool({
      name,
      description: name,
      sideEffect: true,
      input: z.object({}),
      execute: async (_input, ctx) => {
        effects.push(`${name} ${ctx.idempotencyKey.split(":")[1]!.split("/")[0]}`);
        return { done: name };
      },
    });
  const look = defineTool({
    name: "look",
    description: "reads",
    input: z.object({}),
    execute: async () => {
      if (holding) {
        if (++inside === 2) both.release();
        await hold.wait;
      }
      return { seen: true };
    },
  });
  const worker = (name: string, keywords: string[], effect: string) => ({
    name,
    description: name,
    handler: name,
    tools: ["look", effect],
    routing: { keywords },
  });
  const handlers = {
    billing: async (_t: unknown, ctx: { callTool: <T>(n: string, i: object) => Promise<T> }) => {
      await ctx.callTool("look", {});
      await ctx.callTool("credit", {});
      return { status: "ok" as const, summary: "credited", confidence: 1 };
    },
    refunds: async (_t: unknown, ctx: { callTool: <T>(n: string, i: object) => Promise<T> }) => {
      await ctx.callTool("look", {});
      await ctx.callTool("refund", {});
      return { status: "ok" as const, summary: "refunded", confidence: 1 };
    },
  };
  const make = (billingKeywords: string[]) =>
    defineProfile(
      {
        name: "money",
        workers: [worker("billing", billingKeywords, "credit"), worker("refunds", ["refund"], "refund")],
      },
      { tools: [look, tool("credit"), tool("refund")], handlers },
    );
  const open = runtimesIn("arbiter-replan-");
  const first = await open(make(["bill"]));
  let runId = "";
  const running = first.run(
    { message: "my bill is wrong, and I want a refund" },
    { onStart: (id) => (runId = id) },
  );
  await both.wait;
  await first.close(); // the process dies with both tasks inside `look`
  holding = false;
  hold.release();
  await running.catch(() => undefined);
  assert.deepEqual(effects, [], "the stopped process made no effect");

  const second = await open(make(["zzz"])); // now the message routes to refunds alone
  try {
    const outcome = await second.resume(second.store.getRun(runId)!);
    assert.ok(outcome !== undefined && "answer" in outcome, JSON.stringify(outcome));
    assert.equal(outcome.status, "completed");
    assert.deepEqual(
      outcome.tasks.map((t) => `${t.id} ${t.worker} ${t.status}`),
      ["t1 billing ok", "t2 refunds ok"],
      "the recorded plan: t1 billing, t2 refunds (the new one would have made t1 refunds)",
    );
    assert.deepEqual(effects.sort(), ["credit t1", "refund t2"], "each effect once, under its recorded task");
    const warning = second.journal
      .read(runId)
      .map((e) => e.event)
      .find((e) => e.type === "warning");
    assert.match(
      warning?.type === "warning" ? warning.message : "",
      /^the profile now plans t1→refunds; this run follows the plan it recorded: t1→billing t2→refunds$/,
    );
  } finally {
    await second.close();
  }
});

test("a resumed task that no longer takes its recorded path is escalated: no retry, no fallback, no new effect", async () => {
  const effects: string[] = [];
  const hold = gate();
  let holding = true;
  const entered = gate();
  const read = (name: string) =>
    defineTool({
      name,
      description: name,
      input: z.object({}),
      execute: async () => {
        if (name === "peek" && holding) {
          entered.release();
          await hold.wait;
        }
        return { seen: name };
      },
    });
  const credit = defineTool({
    name: "credit",
    description: "credits",
    sideEffect: true,
    input: z.object({}),
    execute: async () => {
      effects.push("credit");
      return { done: true };
    },
  });
  type Ctx = { callTool: <T>(n: string, i: object) => Promise<T> };
  const make = (
    billing: (t: unknown, ctx: Ctx) => Promise<{ status: "ok"; summary: string; confidence: number }>,
  ) =>
    defineProfile(
      {
        name: "money",
        workers: [
          {
            name: "billing",
            description: "billing",
            handler: "billing",
            tools: ["look", "peek", "credit"],
            routing: { keywords: ["bill"] },
            retries: 2,
            fallback: "helper",
          },
          { name: "helper", description: "helps", handler: "helper", tools: ["credit"] },
        ],
      },
      {
        tools: [read("look"), read("peek"), credit],
        handlers: {
          billing,
          helper: async (_t: unknown, ctx: Ctx) => {
            await ctx.callTool("credit", {});
            return { status: "ok" as const, summary: "helped", confidence: 1 };
          },
        },
      },
    );
  const v1 = make(async (_t, ctx) => {
    await ctx.callTool("look", {});
    await ctx.callTool("peek", {});
    await ctx.callTool("credit", {});
    return { status: "ok", summary: "credited", confidence: 1 };
  });
  // The new code credits first: the record has `look` where it now asks for `credit`.
  const v2 = make(async (_t, ctx) => {
    await ctx.callTool("credit", {});
    return { status: "ok", summary: "credited at once", confidence: 1 };
  });
  const open = runtimesIn("arbiter-diverged-");
  const first = await open(v1);
  let runId = "";
  const running = first.run({ message: "my bill is wrong" }, { onStart: (id) => (runId = id) });
  await entered.wait;
  await first.close(); // the process dies inside `peek`, after `look` was recorded
  holding = false;
  hold.release();
  await running.catch(() => undefined);

  const second = await open(v2);
  try {
    const outcome = await second.resume(second.store.getRun(runId)!);
    assert.ok(outcome !== undefined && "answer" in outcome, JSON.stringify(outcome));
    assert.equal(outcome.status, "escalated");
    const [task] = outcome.tasks;
    assert.deepEqual([task!.worker, task!.status, task!.attempts], ["billing", "escalated", 1]);
    assert.match(task!.reason ?? "", /asked for step "tool:t1\/credit\/.*", which its record does not have/);
    assert.deepEqual(effects, [], "neither the new code nor a fallback worker made the credit");
  } finally {
    await second.close();
  }
});

test("decide refuses an edit the held tool's schema refuses, before anything is stored", async () => {
  const profile = await loadProfile(
    new URL("../../examples/telecom/profile.yaml", import.meta.url).pathname,
    { env: { TELECOM_DB: join(mkdtempSync(join(tmpdir(), "arbiter-decide-telecom-")), "telecom.db") } },
  );
  const runtime = await runtimesIn("arbiter-decide-edit-")(profile);
  try {
    const pending = pendingOf(await runtime.run({ message: "please credit $80 to my account" }));
    const id = pending[0]!.approvalId;
    await assert.rejects(
      runtime.decide(id, { status: "approved", by: "sam", edit: { amount: -5 } }),
      (e) =>
        ArbiterError.is(e, "invalid-argument") &&
        /issue_credit would refuse "amount": Too small: expected number to be >0/.test(e.message),
    );
    assert.equal(runtime.store.getApproval(id)?.status, "pending", "nothing stored");
    await runtime.decide(id, { status: "approved", by: "sam", edit: { amount: 40 } });
    const outcome = await runtime.resume(runtime.store.getRun(runtime.store.getApproval(id)!.runId)!);
    assert.ok(outcome !== undefined && "answer" in outcome, JSON.stringify(outcome));
    assert.match(outcome.answer, /credit of \$40\.00/);
  } finally {
    await runtime.close();
    await profile.close();
  }
});
