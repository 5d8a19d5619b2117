import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BreakerRegistry } from "./breaker-registry.ts";
import type { BreakerChange } from "./circuit-breaker.ts";
import { CircuitBreaker, resolveThresholds } from "./circuit-breaker.ts";

const ok = (durationMs = 10, costUsd = 0) => ({ ok: true, durationMs, costUsd });
const failed = { ok: false, durationMs: 5, costUsd: 0 };

describe("CircuitBreaker", () => {
  it("judges the window only once it holds minCalls, then opens on the error rate", () => {
    const breaker = new CircuitBreaker("m", resolveThresholds({ minCalls: 4, errorRate: 0.5 }));
    breaker.record(failed, 1);
    breaker.record(failed, 2);
    breaker.record(failed, 3);
    assert.equal(breaker.state(3), "closed", "3 calls are too few to judge");
    breaker.record(ok(), 4);
    assert.equal(breaker.state(4), "open");
    assert.deepEqual(breaker.trip, { reason: "error-rate", measured: 0.75, threshold: 0.5, at: 4 });
  });

  it("opens on the latency percentile (nearest rank), not on one slow call", () => {
    const breaker = new CircuitBreaker(
      "m",
      resolveThresholds({ minCalls: 10, latencyMs: 100, latencyPercentile: 0.9 }),
    );
    for (let i = 0; i < 9; i++) breaker.record(ok(10), i);
    breaker.record(ok(1000), 9);
    assert.equal(breaker.state(9), "closed", "p90 of nine 10 ms calls and one 1 s call is 10 ms");
    breaker.record(ok(900), 10);
    assert.equal(breaker.state(10), "open");
    assert.deepEqual(breaker.trip, { reason: "latency", measured: 900, threshold: 100, at: 10 });
  });

  it("opens on the mean cost of successful calls", () => {
    const breaker = new CircuitBreaker("m", resolveThresholds({ minCalls: 2, costPerCallUsd: 0.01 }));
    breaker.record(ok(10, 0.005), 1);
    breaker.record(ok(10, 0.02), 2);
    assert.equal(breaker.state(2), "open");
    assert.equal(breaker.trip?.reason, "cost");
    assert.equal(breaker.trip?.measured, 0.0125);
  });

  it("forgets calls older than the window", () => {
    const breaker = new CircuitBreaker("m", resolveThresholds({ minCalls: 2, windowMs: 1000 }));
    breaker.record(failed, 0);
    breaker.record(ok(), 5000);
    assert.equal(breaker.state(5000), "closed", "the old failure left the window: 1 call, too few");
  });

  it("lets one probe through after the cool-down; a good probe closes it, a bad one re-opens it", () => {
    const changes: BreakerChange[] = [];
    const breaker = new CircuitBreaker(
      "m",
      resolveThresholds({ minCalls: 1, coolDownMs: 100, latencyMs: 50 }),
      (change) => changes.push(change),
    );
    breaker.record(failed, 0);
    assert.deepEqual(breaker.admit(50), { admitted: false, state: "open", trip: breaker.trip, retryAt: 100 });
    assert.deepEqual(breaker.admit(100), { admitted: true, probe: true });
    assert.equal(breaker.admit(100).admitted, false, "one probe at a time");
    breaker.record(ok(80), 120);
    assert.equal(breaker.state(120), "open", "a probe slower than the objective re-opens");
    assert.equal(breaker.trip?.reason, "latency");
    assert.equal(breaker.admit(219).admitted, false);
    assert.equal(breaker.admit(220).admitted, true);
    breaker.releaseProbe(); // e.g. refused by a budget: no observation
    assert.equal(breaker.admit(221).admitted, true, "a released probe frees the slot");
    breaker.record(ok(10), 230);
    assert.equal(breaker.state(230), "closed");
    assert.deepEqual(
      changes.map((c) => `${c.from}>${c.to}`),
      ["closed>open", "open>half-open", "half-open>open", "open>half-open", "half-open>closed"],
    );
  });

  it("ignores calls the caller cancelled and calls that finish while it is open", () => {
    const breaker = new CircuitBreaker("m", resolveThresholds({ minCalls: 1, coolDownMs: 100 }));
    breaker.record({ ...failed, aborted: true }, 0);
    assert.equal(breaker.state(0), "closed");
    breaker.record(failed, 1);
    breaker.record(ok(), 2);
    assert.equal(breaker.state(2), "open");
  });
});

describe("BreakerRegistry", () => {
  it("keeps one breaker per model, with per-model thresholds over the chain's over the defaults", () => {
    const registry = new BreakerRegistry({
      defaults: { minCalls: 7, coolDownMs: 5 },
      models: { gpt: { minCalls: 3 } },
    });
    const gpt = registry.get("gpt", { latencyMs: 200, minCalls: 9 });
    assert.equal(registry.get("gpt"), gpt);
    assert.deepEqual(
      [gpt.thresholds.minCalls, gpt.thresholds.latencyMs, gpt.thresholds.coolDownMs],
      [3, 200, 5],
    );
    assert.equal(registry.get("claude").thresholds.errorRate, 0.5);
    assert.deepEqual(
      registry.snapshot(0).map((s) => [s.model, s.state]),
      [
        ["gpt", "closed"],
        ["claude", "closed"],
      ],
    );
  });
});
