import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import { type ApprovalSignal, approvalTopic } from "../../store/store.ts";
import { DeterminismError, InDoubtError } from "../durable.ts";
import { LocalDurableEngine, type LocalDurableOptions, sameHostOwnerAlive } from "./local-durable.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-durable-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Each `engine()` call is a separate connection to the file: a stand-in for another process. */
function database() {
  const path = join(dir, `durable-${files++}.db`);
  const opened: Array<{ store: SqliteStore; engine: LocalDurableEngine }> = [];
  return {
    path,
    engine(options: Partial<LocalDurableOptions> = {}): LocalDurableEngine {
      const store = new SqliteStore({ path, synchronous: "normal" });
      const engine = new LocalDurableEngine({ store, pollIntervalMs: 10, ...options });
      opened.push({ store, engine });
      return engine;
    },
    close() {
      for (const { store, engine } of opened) {
        engine.close();
        store.close();
      }
    },
  };
}

let db = database();
afterEach(() => {
  db.close();
  db = database();
});

const counter = () => {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fn: <T>(value: T) => {
      return async () => {
        calls++;
        return value;
      };
    },
  };
};

describe("LocalDurableEngine steps", () => {
  it("executes a new step once and replays it in a new process without calling fn", async () => {
    const effects = counter();
    const first = db.engine().open("r1");
    assert.deepEqual(await first.step("tool:t1/credit/ab#0", effects.fn({ credited: 80 })), {
      value: { credited: 80 },
      replayed: false,
    });
    assert.deepEqual(await first.step("tool:t1/credit/ab#0", effects.fn({ credited: 99 })), {
      value: { credited: 80 },
      replayed: true,
    });
    const second = db.engine().open("r1");
    assert.deepEqual(await second.step("tool:t1/credit/ab#0", effects.fn({ credited: 99 })), {
      value: { credited: 80 },
      replayed: true,
    });
    assert.equal(effects.calls, 1);
  });

  it("with grouped commits, a step's start is committed before its side effect runs", async () => {
    const store = new SqliteStore({ path: db.path, commit: "grouped" });
    const engine = new LocalDurableEngine({ store });
    const observer = db.engine();
    try {
      const run = engine.open("r1");
      store.appendEvent({ type: "warning", runId: "r1", at: 1, message: "before" });
      const seenFromOtherConnection = await run.step("tool:t1/credit/ab#0", async () => ({
        steps: observer.store.loadSteps("r1").map((s) => s.state),
        events: observer.store.readEvents("r1").length,
      }));
      assert.deepEqual(seenFromOtherConnection.value, { steps: ["started"], events: 1 });
      await store.sync();
      assert.deepEqual(
        observer.store.loadSteps("r1").map((s) => s.state),
        ["completed"],
      );
    } finally {
      engine.close();
      store.close();
    }
  });

  it("records failures and replays them in order, then executes the retry", async () => {
    const first = db.engine().open("r1");
    const failing = async () => {
      throw new ArbiterError("tool-failed", "billing is down");
    };
    await assert.rejects(first.step("tool:t1/x/h#0", failing), /billing is down/);
    assert.deepEqual(await first.step("tool:t1/x/h#0", async () => "ok"), { value: "ok", replayed: false });

    const second = db.engine().open("r1");
    let called = false;
    await assert.rejects(
      second.step("tool:t1/x/h#0", async () => {
        called = true;
        return "no";
      }),
      (e) => ArbiterError.is(e, "tool-failed") && e.message === "billing is down",
    );
    assert.deepEqual(await second.step("tool:t1/x/h#0", async () => "no"), { value: "ok", replayed: true });
    assert.equal(called, false);
    const attempts = db.engine().store.loadSteps("r1");
    assert.deepEqual(
      attempts.map((s) => [s.attempt, s.state]),
      [
        [0, "failed"],
        [1, "completed"],
      ],
    );
  });

  it("treats a step started by a process that died as in doubt", async () => {
    const crashed = db.engine().open("r1");
    // The first "process" starts two steps and never finishes them.
    void crashed.step("tool:t1/issue_credit/h#0", () => new Promise(() => {}), { idempotent: false });
    void crashed.step("tool:t1/lookup/h#0", () => new Promise(() => {}), { idempotent: true });
    await new Promise((resolve) => setImmediate(resolve));

    const resumed = db.engine().open("r1");
    let credits = 0;
    await assert.rejects(
      resumed.step("tool:t1/issue_credit/h#0", async () => ++credits, { idempotent: false }),
      (e) =>
        e instanceof InDoubtError && e.code === "step-in-doubt" && e.stepName === "tool:t1/issue_credit/h#0",
    );
    assert.equal(credits, 0, "a non-idempotent in-doubt step is never re-executed");
    assert.deepEqual(await resumed.step("tool:t1/lookup/h#0", async () => "plan B", { idempotent: true }), {
      value: "plan B",
      replayed: false,
    });
    assert.deepEqual(
      db
        .engine()
        .store.loadSteps("r1")
        .map((s) => [s.name, s.attempt, s.state]),
      [
        ["tool:t1/issue_credit/h#0", 0, "started"],
        ["tool:t1/lookup/h#0", 0, "completed"],
      ],
    );
  });

  it("lets a human resolve an in-doubt step", async () => {
    const crashed = db.engine().open("r1");
    void crashed.step("tool:t1/credit/h#0", () => new Promise(() => {}));
    await new Promise((resolve) => setImmediate(resolve));
    const engine = db.engine();
    const run = engine.open("r1");
    await assert.rejects(
      run.step("tool:t1/credit/h#0", async () => "again"),
      (e) => e instanceof InDoubtError,
    );
    engine.resolveStep("r1", "tool:t1/credit/h#0", { outcome: "completed", value: { credited: 80 } });
    assert.deepEqual(await run.step("tool:t1/credit/h#0", async () => "again"), {
      value: { credited: 80 },
      replayed: true,
    });
    assert.throws(
      () => engine.resolveStep("r1", "tool:t1/credit/h#0", { outcome: "failed", reason: "x" }),
      (e) => ArbiterError.is(e, "invalid-argument"),
    );
    // Resolved as failed (the effect did not happen): the next request executes it as a new attempt.
    const other = db.engine().open("r2");
    void other.step("tool:t1/credit/h#0", () => new Promise(() => {}));
    await new Promise((resolve) => setImmediate(resolve));
    const fixer = db.engine();
    fixer.resolveStep("r2", "tool:t1/credit/h#0", { outcome: "failed", reason: "no credit on the account" });
    const retried = fixer.open("r2");
    await assert.rejects(
      retried.step("tool:t1/credit/h#0", async () => "x"),
      /no credit on the account/,
    );
    assert.deepEqual(await retried.step("tool:t1/credit/h#0", async () => "issued"), {
      value: "issued",
      replayed: false,
    });
  });

  it("waits for a step already running in this process instead of running it twice", async () => {
    const run = db.engine().open("r1");
    let calls = 0;
    const slow = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return calls;
    };
    const [a, b] = await Promise.all([run.step("tool:t1/a/h#0", slow), run.step("tool:t1/a/h#0", slow)]);
    assert.deepEqual([a.value, a.replayed, b.value, b.replayed], [1, false, 1, true]);
    assert.equal(calls, 1);
  });

  it("records values as JSON, keeping Dates and bytes; refuses what JSON cannot hold", async () => {
    const at = new Date("2025-01-02T03:04:05.000Z");
    const value = { at, bytes: new Uint8Array([1, 2, 255]), gone: undefined, list: [undefined, 1] };
    const first = db.engine().open("r1");
    await first.step("model:planner:0", async () => value);
    await first.step("model:planner:1", async () => undefined);
    const replayed = db.engine().open("r1");
    const { value: back } = await replayed.step("model:planner:0", async () => value);
    assert.ok(back.at instanceof Date);
    assert.equal(back.at.toISOString(), at.toISOString());
    assert.deepEqual([...back.bytes], [1, 2, 255]);
    assert.equal("gone" in back, false);
    assert.deepEqual(back.list, [null, 1]);
    assert.equal((await replayed.step("model:planner:1", async () => 5)).value, undefined);
    await assert.rejects(
      db
        .engine()
        .open("r2")
        .step("model:planner:0", async () => ({ n: 1n })),
      (e) => ArbiterError.is(e, "invalid-data"),
    );
  });

  it("seals the results its sealer asks to seal, and opens them to replay; never stores them in clear", async () => {
    // A stand-in for the PII vault: reversible, bound to the context, and refusing another one.
    const sealings: string[] = [];
    const sealer = {
      seal: (encoded: string, value: unknown, context: string) => {
        if (!JSON.stringify(value).includes("@")) return undefined;
        sealings.push(context);
        return Buffer.from(`${context}|${encoded}`).toString("base64url");
      },
      open: (sealed: string, context: string) => {
        const text = Buffer.from(sealed, "base64url").toString();
        if (!text.startsWith(`${context}|`)) throw new Error("the record does not open here");
        return text.slice(context.length + 1);
      },
    };
    const secret = { email: "ann@example.com", at: new Date("2025-01-02T03:04:05.000Z"), n: 4111 };
    const first = db.engine().open("r1");
    await first.step("tool:t1/lookup/aa#0", async () => secret, { idempotent: true, sealer });
    await first.step("tool:t1/plans/bb#0", async () => ({ plan: "fiber" }), { sealer });
    assert.deepEqual(sealings, ["r1\u0000tool:t1/lookup/aa#0"]);

    const reader = new SqliteStore({ path: db.path });
    const records = reader.loadSteps("r1");
    reader.close();
    const sealed = records.find((r) => r.name === "tool:t1/lookup/aa#0")!;
    assert.ok(sealed.result?.startsWith("~sealed:"));
    assert.equal(sealed.result?.includes("example.com"), false);
    assert.equal(records.find((r) => r.name === "tool:t1/plans/bb#0")?.result, '{"plan":"fiber"}');

    // Another process replays both exactly (a Date stays a Date) without running them again.
    const replayed = db.engine().open("r1");
    const back = await replayed.step("tool:t1/lookup/aa#0", async () => assert.fail("ran again"), { sealer });
    assert.equal(back.replayed, true);
    assert.deepEqual(back.value, secret);
    assert.ok((back.value as typeof secret).at instanceof Date);
    // A human's resolution of an in-doubt step is sealed the same way.
    const crashed = db.engine().open("r3");
    void crashed.step("tool:t1/lookup/cc#0", () => new Promise(() => {}));
    await new Promise((resolve) => setImmediate(resolve));
    const fixer = db.engine();
    fixer.resolveStep("r3", "tool:t1/lookup/cc#0", { outcome: "completed", value: secret }, { sealer });
    const check = new SqliteStore({ path: db.path });
    const resolved = check.loadSteps("r3").at(-1)!;
    check.close();
    assert.ok(resolved.result?.startsWith("~sealed:") && !resolved.result.includes("example.com"));
    assert.deepEqual(
      (await fixer.open("r3").step("tool:t1/lookup/cc#0", async () => 0, { sealer })).value,
      secret,
    );
    // With another key (a sealer that does not open it), the error says which vault to use.
    const stranger = { seal: () => undefined, open: () => assert.fail("not this key") };
    await assert.rejects(
      db
        .engine()
        .open("r1")
        .step("tool:t1/lookup/aa#0", async () => secret, { sealer: stranger }),
      (e) => ArbiterError.is(e, "invalid-data") && /does not open here .*ARBITER_VAULT/.test(e.message),
    );
    // Without the sealer, the sealed result cannot be replayed, and says why.
    await assert.rejects(
      db
        .engine()
        .open("r1")
        .step("tool:t1/lookup/aa#0", async () => assert.fail("ran again")),
      (e) => ArbiterError.is(e, "invalid-data") && /guard\.pii/.test(e.message),
    );
  });

  it("seals a received signal that its sealer seals, and opens it to replay the wait", async () => {
    const sealer = {
      seal: (encoded: string, value: unknown, context: string) =>
        JSON.stringify(value).includes("@")
          ? Buffer.from(`${context}|${encoded}`).toString("base64url")
          : undefined,
      open: (sealed: string, context: string) => {
        const text = Buffer.from(sealed, "base64url").toString();
        if (!text.startsWith(`${context}|`)) throw new Error("the record does not open here");
        return text.slice(context.length + 1);
      },
    };
    const engine = db.engine();
    engine.sendSignal("approval:x", { by: "dana", reason: "called ann@example.com to confirm" });
    const got = await engine.open("rs").waitForSignal("approval:x", { timeoutMs: 1000, sealer });
    assert.equal(got.status, "received");
    const reader = new SqliteStore({ path: db.path });
    const recorded = reader.loadSteps("rs").find((r) => r.name.startsWith("$signal:approval:x"));
    reader.close();
    assert.ok(recorded?.result?.startsWith("~sealed:"), recorded?.result ?? "no signal step");
    assert.equal(recorded?.result?.includes("example.com"), false);
    // A resumed run gets the same signal back without taking another.
    const again = await db.engine().open("rs").waitForSignal("approval:x", { timeoutMs: 10, sealer });
    assert.deepEqual(again, got);
    // Without the vault, it says why instead of replaying a wrong value.
    await assert.rejects(
      db.engine().open("rs").waitForSignal("approval:x", { timeoutMs: 10 }),
      (e) => ArbiterError.is(e, "invalid-data") && /guard\.pii/.test(e.message),
    );
  });

  it("opens a run whose id was just made up without reading its steps", async () => {
    const engine = db.engine();
    let reads = 0;
    const loadSteps = engine.store.loadSteps.bind(engine.store);
    engine.store.loadSteps = (runId) => {
      reads++;
      return loadSteps(runId);
    };
    const fresh = engine.open("brand-new", { fresh: true });
    assert.equal((await fresh.step("tool:t1/a/h#0", async () => 7)).value, 7);
    assert.equal(reads, 0);
    engine.open("recorded-elsewhere");
    assert.equal(reads, 1);
  });

  it("records now() and uuid() so a replay sees the same values", async () => {
    let t = 1_000;
    let n = 0;
    const first = db.engine({ clock: () => t++, uuid: () => `id-${n++}` }).open("r1");
    const seen = [first.now(), first.uuid(), first.now()];
    const replay = db.engine({ clock: () => 99_999, uuid: () => "other" }).open("r1");
    assert.deepEqual([replay.now(), replay.uuid(), replay.now()], seen);
    assert.equal(typeof replay.now(), "number", "past the record, values are new");
  });

  it("sleeps durably: a resumed run sleeps only what is left", async () => {
    const first = db.engine().open("r1");
    const started = Date.now();
    await first.sleep(60);
    assert.ok(Date.now() - started >= 55);
    const resumed = db.engine().open("r1");
    const again = Date.now();
    await resumed.sleep(60);
    assert.ok(Date.now() - again < 40, "already slept");
  });
});

describe("LocalDurableEngine determinism", () => {
  it("refuses a new step in a task whose recorded steps were not replayed", async () => {
    const first = db.engine().open("r1");
    await first.step("tool:t1/lookup/aa#0", async () => 1);
    await first.step("tool:t1/credit/bb#0", async () => 2);
    await first.step("tool:t2/other/cc#0", async () => 3);
    const changed = db.engine().open("r1");
    let executed = false;
    await assert.rejects(
      changed.step("tool:t1/credit/zz#0", async () => {
        executed = true;
      }),
      (e) =>
        e instanceof DeterminismError &&
        e.code === "determinism-error" &&
        e.expected.includes("tool:t1/lookup/aa#0") &&
        /tool:t1\/credit\/zz#0/.test(e.message),
    );
    assert.equal(executed, false);
    // Another task's lane is unaffected; parallel replays may arrive in any order.
    const same = db.engine().open("r1");
    const [b, a] = await Promise.all([
      same.step("tool:t1/credit/bb#0", async () => 0),
      same.step("tool:t1/lookup/aa#0", async () => 0),
    ]);
    assert.deepEqual([a.value, b.value], [1, 2]);
    assert.equal((await same.step("tool:t1/next/dd#0", async () => 4)).replayed, false);
  });

  it("tolerates parallel calls of one task reaching the engine in another order", async () => {
    const first = db.engine().open("r1");
    await first.step("tool:t1/a/aa#0", async () => "a");
    // Crash before b ran. On resume, b and a are issued together, b first.
    const resumed = db.engine().open("r1");
    const [b, a] = await Promise.all([
      resumed.step("tool:t1/b/bb#0", async () => "b"),
      resumed.step("tool:t1/a/aa#0", async () => "a2"),
    ]);
    assert.deepEqual(
      [a, b],
      [
        { value: "a", replayed: true },
        { value: "b", replayed: false },
      ],
    );
  });

  it("replay mode never executes and reports what the run did not ask for", async () => {
    const first = db.engine().open("r1");
    await first.step("model:planner:0", async () => "plan");
    await first.step("tool:t1/a/aa#0", async () => "a");
    const replay = db.engine().open("r1", { mode: "replay" });
    assert.equal((await replay.step("model:planner:0", async () => "new")).value, "plan");
    await assert.rejects(
      replay.step("tool:t1/b/bb#0", async () => "b"),
      (e) => e instanceof DeterminismError,
    );
    assert.deepEqual(replay.unconsumed(), ["tool:t1/a/aa#0@0"]);
  });
});

describe("LocalDurableEngine signals", () => {
  it("delivers a signal sent while the waiting process was down", async () => {
    const waiting = db.engine();
    const run = waiting.open("r1");
    const wait = run.waitForSignal(approvalTopic("ap1"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    waiting.close(); // the process exits while waiting
    await assert.rejects(wait, (e) => ArbiterError.is(e, "aborted"));
    const steps = db.engine().store.loadSteps("r1");
    assert.deepEqual(
      steps.map((s) => [s.name, s.state]),
      [["$signal:approval:ap1#0", "started"]],
    );

    // Another process decides the approval.
    const cli = db.engine();
    cli.store.createApproval({
      id: "ap1",
      runId: "r1",
      taskId: "t1",
      worker: "billing",
      reason: "$80",
      createdAt: 1,
    });
    cli.store.decideApproval("ap1", { status: "approved", by: "dana", at: 2 });

    const resumed = db.engine().open("r1");
    const result = await resumed.waitForSignal<ApprovalSignal>(approvalTopic("ap1"));
    assert.equal(result.status, "received");
    assert.equal(result.status === "received" && result.payload.by, "dana");
    // A replay returns the recorded delivery; the signal is not taken twice.
    const replay = db.engine().open("r1");
    assert.deepEqual(await replay.waitForSignal(approvalTopic("ap1")), result);
  });

  it("wakes an in-process waiter at once and a cross-process waiter by polling", async () => {
    const engine = db.engine({ pollIntervalMs: 5_000 });
    const wait = engine.open("r1").waitForSignal("go");
    const started = Date.now();
    setTimeout(() => engine.sendSignal("go", { n: 1 }), 10);
    assert.deepEqual((await wait).status, "received");
    assert.ok(Date.now() - started < 1_000);

    const polling = db.engine({ pollIntervalMs: 10 });
    const other = polling.open("r2").waitForSignal("go2");
    setTimeout(() => db.engine().sendSignal("go2", "from elsewhere"), 10);
    const got = await other;
    assert.equal(got.status === "received" && got.payload, "from elsewhere");
  });

  it("times out with a result, measured from the first wait across restarts", async () => {
    const first = db.engine();
    const wait = first.open("r1").waitForSignal("never", { timeoutMs: 150 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    first.close();
    await assert.rejects(wait);
    const started = Date.now();
    const result = await db.engine().open("r1").waitForSignal("never", { timeoutMs: 150 });
    assert.deepEqual(result, { status: "timeout" });
    assert.ok(Date.now() - started < 120, "only the remaining time is waited");
  });

  it("takes a signal sent before the wait began", async () => {
    const engine = db.engine();
    engine.sendSignal("early", 42);
    const result = await engine.open("r1").waitForSignal("early", { timeoutMs: 1_000 });
    assert.equal(result.status, "received");
    assert.equal(result.status === "received" && result.payload, 42);
    assert.equal(result.status === "received" && typeof result.at, "number");
  });
});

describe("LocalDurableEngine leases", () => {
  const newRun = (engine: LocalDurableEngine, id: string) =>
    engine.store.createRun({
      id,
      tenant: "t",
      profile: { name: "p", version: "1" },
      request: {},
      createdAt: 1,
    });

  it("lets one process claim a run; another gets it after release", () => {
    const a = db.engine({ owner: "host:1:a", isOwnerAlive: () => true });
    const b = db.engine({ owner: "host:2:b", isOwnerAlive: () => true });
    newRun(a, "r1");
    assert.equal(a.claim("r1"), true);
    assert.equal(b.claim("r1"), false);
    assert.equal(b.store.getRun("r1")?.owner, "host:1:a");
    a.release("r1");
    assert.equal(b.claim("r1"), true);
  });

  it("takes over at once from a holder whose process is gone", () => {
    const dead = db.engine({ owner: "host:1:dead", leaseMs: 60_000 });
    newRun(dead, "r1");
    assert.equal(dead.claim("r1"), true);
    const next = db.engine({ owner: "host:2:next", isOwnerAlive: (owner) => owner !== "host:1:dead" });
    assert.equal(next.claim("r1"), true);
    assert.equal(next.store.getRun("r1")?.owner, "host:2:next");
  });

  it("counts a holder on this host as dead once its process is gone or a zombie (killed, not yet reaped)", async (t) => {
    assert.equal(sameHostOwnerAlive(`${hostname()}:${process.pid}:me`), true);
    assert.equal(
      sameHostOwnerAlive(`elsewhere:${process.pid}:x`),
      true,
      "another host's process is assumed alive",
    );
    if (process.platform !== "linux") {
      t.skip("zombies are read from /proc");
      return;
    }
    // `sh` starts a child, kills it, and becomes `sleep` (which never reaps it): the child stays a zombie.
    const { spawn } = await import("node:child_process");
    const parent = spawn("sh", ["-c", "sleep 30 & echo $!; kill -9 $!; exec sleep 5"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const [line] = (await once(parent.stdout, "data")) as [Buffer];
      const zombie = Number(line.toString().trim());
      let state = "";
      for (let i = 0; i < 100 && state !== "Z"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        const stat = readFileSync(`/proc/${zombie}/stat`, "latin1");
        state = stat.charAt(stat.lastIndexOf(")") + 2);
      }
      assert.equal(state, "Z", "the killed child waits to be reaped");
      assert.doesNotThrow(() => process.kill(zombie, 0), "a signal still reaches a zombie's pid");
      assert.equal(sameHostOwnerAlive(`${hostname()}:${zombie}:gone`), false);
      // The namespace a default owner carries: the same one is checked, another one (a container under
      // the same host name, whose pids are its own) is assumed alive.
      const namespace = db.engine().owner.split(":")[3];
      assert.match(namespace ?? "", /^\d+$/);
      assert.equal(sameHostOwnerAlive(`${hostname()}:${zombie}:gone:${namespace}`), false);
      assert.equal(sameHostOwnerAlive(`${hostname()}:${zombie}:gone:1`), true);
    } finally {
      const exited = once(parent, "exit");
      parent.kill("SIGKILL");
      await exited;
    }
    assert.equal(sameHostOwnerAlive(`${hostname()}:${parent.pid}:gone`), false, "a pid that is gone");
  });

  it("makes no side effect for a run another process took over while this one stalled", async () => {
    const path = join(dir, `durable-${files++}.db`);
    const mine = new SqliteStore({ path, commit: "grouped", synchronous: "normal" });
    const theirs = new SqliteStore({ path, commit: "grouped", synchronous: "normal" });
    const stalled = new LocalDurableEngine({
      store: mine,
      owner: "host:1:a",
      leaseMs: 60_000,
      clock: () => 1_000,
      isOwnerAlive: () => true,
    });
    try {
      mine.createRun({
        id: "r",
        tenant: "t",
        profile: { name: "p", version: "1" },
        request: {},
        createdAt: 1,
        status: "running",
      });
      assert.equal(stalled.claim("r"), true);
      const run = stalled.open("r");
      await run.step("tool:t1/look/h#0", async () => 1, { idempotent: true });
      await mine.commit();
      // Its lease lapses (by the other process's clock) and the other process takes the run over.
      assert.equal(theirs.claimRun("r", "host:2:b", 200_000, 100_000), true);
      await theirs.commit();
      // The stalled one goes on (its own clock says the lease holds): the charge's start commits, but
      // without the run's writes, which are dropped; the charge is not made.
      const charge = counter();
      await assert.rejects(
        run.step("tool:t1/charge/h#0", charge.fn({ receipt: "r-1" })),
        (e) => ArbiterError.is(e, "lease-lost") && /taken over by another process/.test(e.message),
      );
      assert.equal(charge.calls, 0);
      assert.deepEqual(
        theirs.loadSteps("r").map((s) => s.name),
        ["tool:t1/look/h#0"],
        "the dropped start is not on record",
      );
    } finally {
      stalled.close();
      mine.close();
      theirs.close();
    }
  });

  it("stops a process whose lease was taken over", async () => {
    let t = 1_000;
    const events: string[] = [];
    const slow = db.engine({
      owner: "host:1:slow",
      leaseMs: 30,
      clock: () => t,
      onEvent: (e) => events.push(e.type),
    });
    newRun(slow, "r1");
    assert.equal(slow.claim("r1"), true);
    const run = slow.open("r1");
    t += 1_000; // the holder stalled past its lease
    const other = db.engine({ owner: "host:2:other", clock: () => t, isOwnerAlive: () => true });
    assert.equal(other.claim("r1"), true);
    await new Promise((resolve) => setTimeout(resolve, 40)); // the slow one's heartbeat notices
    assert.deepEqual(events, ["lease-lost"]);
    await assert.rejects(
      run.step("tool:t1/a/h#0", async () => 1),
      (e) => ArbiterError.is(e, "lease-lost"),
    );
  });
});
