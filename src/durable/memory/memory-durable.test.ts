import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryDurableEngine } from "./memory-durable.ts";

describe("MemoryDurableEngine", () => {
  it("memoises completed steps and runs failed ones again", async () => {
    const run = new MemoryDurableEngine().open("r1");
    let calls = 0;
    assert.deepEqual(await run.step("s", async () => ++calls), { value: 1, replayed: false });
    assert.deepEqual(await run.step("s", async () => ++calls), { value: 1, replayed: true });
    await assert.rejects(run.step("f", async () => Promise.reject(new Error("no"))));
    assert.deepEqual(await run.step("f", async () => "yes"), { value: "yes", replayed: false });
  });

  it("delivers signals sent before or during a wait, and times out with a result", async () => {
    const engine = new MemoryDurableEngine();
    const run = engine.open("r1");
    engine.sendSignal("early", 1);
    const early = await run.waitForSignal?.("early");
    assert.equal(early?.status === "received" && early.payload, 1);
    const waiting = run.waitForSignal?.("later", { timeoutMs: 1_000 });
    setTimeout(() => engine.sendSignal("later", "x"), 5);
    assert.equal((await waiting)?.status, "received");
    assert.deepEqual(await run.waitForSignal?.("never", { timeoutMs: 10 }), { status: "timeout" });
    const controller = new AbortController();
    const aborted = run.waitForSignal?.("never", { signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(aborted as Promise<unknown>, /stop/);
    await run.sleep?.(1);
  });
});
