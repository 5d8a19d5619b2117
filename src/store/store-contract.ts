import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ArbiterError } from "../errors/arbiter-error.ts";
import type { RunEvent } from "../journal/events.ts";
import {
  type ApprovalSignal,
  approvalTopic,
  type NewRun,
  STORE_SCHEMA_VERSION,
  type Store,
} from "./store.ts";

const run = (id: string, createdAt = 1_000): NewRun => ({
  id,
  tenant: "acme",
  profile: { name: "telecom", version: "abc123" },
  request: { message: "hello", context: { customerId: "c1" } },
  createdAt,
});

const warning = (runId: string, message: string, at = 5): RunEvent => ({
  type: "warning",
  runId,
  at,
  message,
});

/**
 * The behaviour every `Store` implementation must have. Each implementation's test file calls this
 * with a factory returning a fresh, empty store.
 */
export function runStoreContract(name: string, create: () => Store): void {
  describe(`Store contract: ${name}`, () => {
    let opened: Store[] = [];
    const fresh = (): Store => {
      const store = create();
      opened.push(store);
      return store;
    };
    afterEach(() => {
      for (const store of opened) store.close();
      opened = [];
    });

    it("creates, reads and lists runs with their request and schema version", () => {
      const store = fresh();
      const created = store.createRun(run("r1", 1_000));
      store.createRun(run("r2", 2_000));
      assert.equal(created.status, "created");
      assert.equal(created.v, STORE_SCHEMA_VERSION);
      assert.deepEqual(store.getRun("r1")?.request, { message: "hello", context: { customerId: "c1" } });
      assert.deepEqual(store.getRun("r1")?.profile, { name: "telecom", version: "abc123" });
      assert.equal(store.getRun("nope"), undefined);
      assert.deepEqual(
        store.listRuns().map((r) => r.id),
        ["r2", "r1"],
      );
      assert.deepEqual(
        store.listRuns({ limit: 1 }).map((r) => r.id),
        ["r2"],
      );
      assert.throws(
        () => store.createRun(run("r1")),
        (e) => ArbiterError.is(e, "invalid-argument"),
      );
    });

    it("marks status and lists unfinished runs oldest first", () => {
      const store = fresh();
      for (const [id, at] of [
        ["a", 1],
        ["b", 2],
        ["c", 3],
      ] as const)
        store.createRun(run(id, at));
      store.setRunStatus("b", "completed", 50);
      const updated = store.getRun("b");
      assert.equal(updated?.status, "completed");
      assert.equal(updated?.updatedAt, 50);
      store.setRunStatus("c", "waiting", 51);
      assert.deepEqual(
        store.listUnfinished().map((r) => r.id),
        ["a", "c"],
      );
      assert.deepEqual(
        store.listRuns({ status: "completed" }).map((r) => r.id),
        ["b"],
      );
      assert.throws(
        () => store.setRunStatus("zz", "failed", 1),
        (e) => ArbiterError.is(e, "unknown-run"),
      );
    });

    it("lets exactly one owner claim a run until its lease lapses", () => {
      const store = fresh();
      store.createRun(run("r1"));
      assert.equal(store.claimRun("r1", "p1", 10_000, 1_000), true);
      assert.equal(store.claimRun("r1", "p2", 10_000, 2_000), false, "held by p1");
      assert.equal(store.claimRun("r1", "p1", 12_000, 2_000), true, "re-claim by the holder");
      assert.deepEqual(
        store.listUnfinished({ owner: "p2", now: 3_000 }).map((r) => r.id),
        [],
      );
      assert.deepEqual(
        store.listUnfinished({ owner: "p1", now: 3_000 }).map((r) => r.id),
        ["r1"],
      );
      assert.equal(store.renewLease("r1", "p1", 20_000), true);
      assert.equal(store.renewLease("r1", "p2", 20_000), false);
      assert.equal(store.claimRun("r1", "p2", 30_000, 20_001), true, "lapsed lease is taken over");
      assert.equal(store.renewLease("r1", "p1", 40_000), false, "the old owner has lost it");
      assert.equal(store.getRun("r1")?.owner, "p2");
      store.releaseRun("r1", "p1");
      assert.equal(store.getRun("r1")?.owner, "p2", "only the holder releases");
      store.releaseRun("r1", "p2");
      assert.equal(store.getRun("r1")?.owner, null);
      assert.throws(
        () => store.claimRun("zz", "p1", 1, 1),
        (e) => ArbiterError.is(e, "unknown-run"),
      );
      // Finished (by whichever process): nobody claims it again, its holder included.
      store.setRunStatus("r1", "completed", 50_000);
      assert.equal(store.claimRun("r1", "p3", 60_000, 50_001), false);
      assert.equal(store.claimRun("r1", "p2", 60_000, 50_001), false);
    });

    it("records step attempts: started, completed, failed, restarted", () => {
      const store = fresh();
      store.startStep({ runId: "r1", name: "tool:t1/x#0", attempt: 0, idempotent: false, startedAt: 10 });
      store.startStep({ runId: "r1", name: "model:a:0", attempt: 0, idempotent: true, startedAt: 11 });
      store.finishStep("r1", "model:a:0", 0, { state: "completed", result: '{"ok":1}', endedAt: 12 });
      store.finishStep("r1", "tool:t1/x#0", 0, {
        state: "failed",
        error: { name: "ArbiterError", message: "boom", code: "tool-failed" },
        endedAt: 13,
      });
      store.startStep({ runId: "r1", name: "tool:t1/x#0", attempt: 1, idempotent: false, startedAt: 14 });
      const steps = store.loadSteps("r1");
      assert.deepEqual(
        steps.map((s) => [s.name, s.attempt, s.state]),
        [
          ["model:a:0", 0, "completed"],
          ["tool:t1/x#0", 0, "failed"],
          ["tool:t1/x#0", 1, "started"],
        ],
      );
      assert.equal(steps[0]?.result, '{"ok":1}');
      assert.equal(steps[0]?.idempotent, true);
      assert.deepEqual(steps[1]?.error, { name: "ArbiterError", message: "boom", code: "tool-failed" });
      assert.equal(steps[2]?.endedAt, null);
      assert.equal(steps[2]?.v, STORE_SCHEMA_VERSION);
      // Re-recording the start of the same attempt (an in-doubt re-execution) resets it.
      store.startStep({ runId: "r1", name: "model:a:0", attempt: 0, idempotent: true, startedAt: 20 });
      const again = store.loadSteps("r1").find((s) => s.name === "model:a:0");
      assert.equal(again?.state, "started");
      assert.equal(again?.result, null);
      assert.equal(again?.startedAt, 20);
      assert.deepEqual(store.loadSteps("other"), []);
      store.recordStep(
        { runId: "r2", name: "$now#0", attempt: 0, idempotent: true, startedAt: 30 },
        { state: "completed", result: "30", endedAt: 30 },
      );
      assert.deepEqual(
        store.loadSteps("r2").map((s) => [s.name, s.state, s.result, s.startedAt, s.endedAt]),
        [["$now#0", "completed", "30", 30, 30]],
      );
    });

    it("delivers each signal once, oldest first, idempotently per consumer", () => {
      const store = fresh();
      store.sendSignal("t", { n: 1 }, 1);
      store.sendSignal("t", { n: 2 }, 2);
      store.sendSignal("u", { n: 3 }, 3);
      const first = store.takeSignal("t", "run1/wait#0", 10);
      assert.deepEqual(first?.payload, { n: 1 });
      assert.equal(first?.consumedBy, "run1/wait#0");
      assert.equal(first?.consumedAt, 10);
      assert.equal(store.takeSignal("t", "run1/wait#0", 11)?.id, first?.id, "same consumer, same signal");
      assert.deepEqual(store.takeSignal("t", "run2/wait#0", 12)?.payload, { n: 2 });
      assert.equal(store.takeSignal("t", "run3/wait#0", 13), undefined);
      assert.equal(store.takeSignal("none", "x", 13), undefined);
    });

    it("decides an approval once, signalling the decision", () => {
      const store = fresh();
      const created = store.createApproval({
        id: "ap1",
        runId: "r1",
        taskId: "t1",
        worker: "billing",
        reason: "credit of $80 is above $50",
        createdAt: 100,
        expiresAt: 10_000,
      });
      assert.equal(created.status, "pending");
      assert.equal(created.v, STORE_SCHEMA_VERSION);
      assert.throws(
        () =>
          store.createApproval({
            id: "ap1",
            runId: "r1",
            taskId: "t",
            worker: "w",
            reason: "",
            createdAt: 1,
          }),
        (e) => ArbiterError.is(e, "invalid-argument"),
      );
      assert.deepEqual(
        store.listApprovals({ status: "pending" }).map((a) => a.id),
        ["ap1"],
      );
      const decided = store.decideApproval("ap1", {
        status: "approved",
        by: "dana",
        reason: "loyal customer",
        edit: { amount: 70 },
        at: 200,
      });
      assert.equal(decided.status, "approved");
      assert.equal(decided.decidedBy, "dana");
      assert.equal(decided.decidedAt, 200);
      assert.equal(decided.decisionReason, "loyal customer");
      assert.deepEqual(decided.edit, { amount: 70 });
      assert.deepEqual(store.getApproval("ap1"), decided);
      const signal = store.takeSignal(approvalTopic("ap1"), "r1/wait", 201)?.payload as ApprovalSignal;
      assert.deepEqual(signal, {
        approvalId: "ap1",
        status: "approved",
        by: "dana",
        reason: "loyal customer",
        edit: { amount: 70 },
        at: 200,
      });
      assert.throws(
        () => store.decideApproval("ap1", { status: "denied", by: "eve", reason: "no", at: 300 }),
        (e) => ArbiterError.is(e, "approval-decided") && /already approved by dana/.test(e.message),
      );
      assert.equal(store.getApproval("ap1")?.status, "approved", "a second decision changes nothing");
      assert.throws(
        () => store.decideApproval("nope", { status: "approved", by: "x", at: 1 }),
        (e) => ArbiterError.is(e, "unknown-approval"),
      );
      assert.deepEqual(
        store.listApprovals({ runId: "r1" }).map((a) => a.id),
        ["ap1"],
      );
      assert.deepEqual(store.listApprovals({ status: "pending" }), []);
    });

    it("expires approvals: explicitly, or when decided too late", () => {
      const store = fresh();
      const base = { runId: "r1", taskId: "t1", worker: "billing", reason: "r", createdAt: 100 };
      store.createApproval({ ...base, id: "late", expiresAt: 500 });
      store.createApproval({ ...base, id: "timed", expiresAt: 500 });
      assert.throws(
        () => store.decideApproval("late", { status: "approved", by: "dana", at: 600 }),
        (e) => ArbiterError.is(e, "approval-expired"),
      );
      assert.equal(store.getApproval("late")?.status, "expired", "the expiry is recorded");
      assert.equal(
        (store.takeSignal(approvalTopic("late"), "c", 601)?.payload as ApprovalSignal | undefined)?.status,
        "expired",
      );
      assert.equal(store.expireApproval("timed", 700).status, "expired");
      assert.equal(store.expireApproval("timed", 800).decidedAt, 700, "expiring twice changes nothing");
      assert.throws(
        () => store.decideApproval("timed", { status: "denied", by: "x", reason: "no", at: 800 }),
        (e) => ArbiterError.is(e, "approval-expired"),
      );
      store.createApproval({ ...base, id: "done" });
      store.decideApproval("done", { status: "denied", by: "x", reason: "no", at: 150 });
      assert.equal(store.expireApproval("done", 900).status, "denied", "a decided approval stays decided");
      assert.throws(
        () => store.expireApproval("nope", 1),
        (e) => ArbiterError.is(e, "unknown-approval"),
      );
    });

    it("appends journal entries numbered per run from 1, with no gaps, and reads after a seq", () => {
      const store = fresh();
      for (let i = 0; i < 5; i++) {
        store.appendEvent(warning("a", `a${i}`));
        if (i % 2 === 0) store.appendEvent(warning("b", `b${i}`));
      }
      assert.deepEqual(
        store.readEvents("a").map((e) => e.seq),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(
        store.readEvents("b").map((e) => e.seq),
        [1, 2, 3],
      );
      const after = store.readEvents("a", 3);
      assert.deepEqual(
        after.map((e) => [e.seq, (e.event as { message: string }).message]),
        [
          [4, "a3"],
          [5, "a4"],
        ],
      );
      assert.deepEqual(
        store.readEvents("a", 1, 2).map((e) => e.seq),
        [2, 3],
      );
      assert.deepEqual(store.readEvents("a")[0]?.event, warning("a", "a0"));
      assert.ok(store.readEvents("a").every((e) => e.v >= 1));
      assert.deepEqual(store.readEvents("none"), []);
    });

    it("appends a keyed event once", () => {
      const store = fresh();
      const first = store.appendEvent(warning("a", "once"), "task-start:t1#1");
      const again = store.appendEvent(warning("a", "twice"), "task-start:t1#1");
      const other = store.appendEvent(warning("a", "other"), "task-start:t2#1");
      assert.equal(first.appended, true);
      assert.equal(again.appended, false);
      assert.equal(again.entry.seq, first.entry.seq);
      assert.equal((again.entry.event as { message: string }).message, "once");
      assert.equal(other.entry.seq, 2);
      assert.equal(store.appendEvent(warning("b", "same key, other run"), "task-start:t1#1").appended, true);
    });
  });
}
