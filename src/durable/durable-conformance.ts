import assert from "node:assert/strict";
import { test } from "node:test";
import type { DurableEngine } from "./durable.ts";
import { all } from "./pools.ts";

/**
 * The conformance suite every durable engine runs: steps execute once and replay their results, a
 * failed step runs again, `all` batches steps, signals are delivered, recorded time and ids are stable.
 */
export function runDurableConformance(
  name: string,
  create: () => { engine: DurableEngine; close(): void },
): void {
  test(`${name}: a completed step returns its recorded result instead of executing again`, async () => {
    const { engine, close } = create();
    try {
      const run = engine.open("run-a");
      let calls = 0;
      const first = await run.step("s1", async () => ++calls);
      const again = await run.step("s1", async () => ++calls);
      assert.deepEqual(
        [first, again],
        [
          { value: 1, replayed: false },
          { value: 1, replayed: true },
        ],
      );
      assert.equal(calls, 1);
    } finally {
      close();
    }
  });

  test(`${name}: hasResult says whether a step would return a recorded result`, async () => {
    const { engine, close } = create();
    try {
      const run = engine.open("run-has");
      assert.equal(run.hasResult?.("s1") ?? false, false);
      await run.step("s1", async () => 1);
      await assert.rejects(
        run.step("broken", async () => {
          throw new Error("down");
        }),
      );
      if (run.hasResult === undefined) return; // optional for engines without records
      assert.equal(run.hasResult("s1"), true);
      assert.equal(run.hasResult("broken"), false, "a failed step runs again");
      assert.equal(run.hasResult("never"), false);
    } finally {
      close();
    }
  });

  test(`${name}: a step with a sealer returns the same value fresh and replayed`, async () => {
    const { engine, close } = create();
    try {
      const run = engine.open("run-sealed");
      const sealer = {
        seal: (encoded: string) => Buffer.from(encoded).toString("base64"),
        open: (sealed: string) => Buffer.from(sealed, "base64").toString(),
      };
      const value = { email: "ann@example.com", n: 3 };
      const first = await run.step("tool:lookup", async () => value, { sealer });
      const again = await run.step("tool:lookup", async () => ({ email: "other" }), { sealer });
      assert.deepEqual([first.value, again.value, again.replayed], [value, value, true]);
    } finally {
      close();
    }
  });

  test(`${name}: a failed step is not a completed step: it runs again`, async () => {
    const { engine, close } = create();
    try {
      const run = engine.open("run-b");
      let calls = 0;
      await assert.rejects(
        run.step("flaky", async () => {
          calls++;
          throw new Error("down");
        }),
      );
      const ok = await run.step("flaky#retry", async () => ++calls);
      assert.equal(ok.value, 2);
    } finally {
      close();
    }
  });

  test(`${name}: all() runs a batch of steps concurrently and each is recorded`, async () => {
    const { engine, close } = create();
    try {
      const run = engine.open("run-c");
      let running = 0;
      let peak = 0;
      const work = (v: number) => async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return v;
      };
      const values = await all(
        run,
        [1, 2, 3].map((v) => ({ name: `batch:${v}`, fn: work(v) })),
      );
      assert.deepEqual(values, [1, 2, 3]);
      assert.equal(peak, 3);
      const replayed = await run.step("batch:2", async () => 99);
      assert.equal(replayed.value, 2);
    } finally {
      close();
    }
  });

  test(`${name}: a signal sent before the wait is delivered; a wait times out as a result`, async () => {
    const { engine, close } = create();
    try {
      const run = engine.open("run-d");
      if (run.waitForSignal === undefined || engine.sendSignal === undefined) return;
      engine.sendSignal("topic:x", { ok: true });
      const got = await run.waitForSignal<{ ok: boolean }>("topic:x", { timeoutMs: 1000 });
      assert.equal(got.status, "received");
      assert.deepEqual(got.status === "received" ? got.payload : undefined, { ok: true });
      const none = await run.waitForSignal("topic:none", { timeoutMs: 30 });
      assert.equal(none.status, "timeout");
    } finally {
      close();
    }
  });
}
