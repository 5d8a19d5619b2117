import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkerPools } from "./pools.ts";

test("spawn runs at most the pool's limit at once, across callers, and queues the rest in order", async () => {
  const pools = new WorkerPools({ billing: 2 });
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (i: number) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 15));
    order.push(i);
    running--;
    return i;
  };
  const results = await Promise.all([1, 2, 3, 4, 5].map((i) => pools.spawn("billing", task(i))));
  assert.deepEqual(results, [1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.deepEqual(pools.load("billing"), { running: 0, waiting: 0 });
  const free = await pools.spawn("unlimited", async () => "ran at once");
  assert.equal(free, "ran at once");
});

test("a task waiting for room gives up when its signal aborts", async () => {
  const pools = new WorkerPools({ p: 1 });
  const hold = pools.spawn("p", () => new Promise((r) => setTimeout(r, 50)));
  const controller = new AbortController();
  const waiting = pools.spawn("p", async () => "late", controller.signal);
  controller.abort(new Error("cancelled"));
  await assert.rejects(waiting, /cancelled/);
  await hold;
});
