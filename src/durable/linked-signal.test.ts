import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { linkAbort, linkSignals } from "./linked-signal.ts";
import { PausableTimeout } from "./pausable-timeout.ts";

describe("linkSignals", () => {
  it("aborts with the reason of whichever parent aborts first", () => {
    const run = new AbortController();
    const timer = new AbortController();
    const linked = linkSignals([run.signal, timer.signal]);
    assert.equal(linked.signal.aborted, false);
    timer.abort(new Error("timed out"));
    assert.equal(linked.signal.aborted, true);
    assert.equal((linked.signal.reason as Error).message, "timed out");
    run.abort(new Error("stopping"));
    assert.equal((linked.signal.reason as Error).message, "timed out", "the first reason stays");
  });

  it("is aborted at once when a parent already is", () => {
    const done = AbortSignal.abort("gone");
    const linked = linkSignals([new AbortController().signal, done]);
    assert.equal(linked.signal.aborted, true);
    assert.equal(linked.signal.reason, "gone");
    linked.dispose();
  });

  it("no longer aborts with its parents once disposed, and leaves nothing on them", () => {
    const run = new AbortController();
    const kept = linkSignals([run.signal]);
    const gone = linkSignals([run.signal]);
    gone.dispose();
    gone.dispose();
    run.abort("stop");
    assert.equal(gone.signal.aborted, false);
    assert.equal(kept.signal.aborted, true);
  });

  it("chains: a linked signal is a parent like any other", () => {
    const process = new AbortController();
    const run = linkSignals([process.signal]);
    const attempt = linkSignals([run.signal, new AbortController().signal]);
    process.abort("closing");
    assert.equal(attempt.signal.reason, "closing");
  });

  it("puts one listener on a parent however many signals link to it", () => {
    const shared = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    globalThis.process.on("warning", onWarning);
    try {
      const links = Array.from({ length: 100 }, () => linkSignals([shared.signal]));
      assert.equal(getEventListeners(shared.signal, "abort").length, 1);
      for (const l of links.slice(0, 50)) l.dispose();
      shared.abort("all");
      assert.equal(links.filter((l) => l.signal.aborted).length, 50);
    } finally {
      globalThis.process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it("links a controller of one's own (linkAbort): a timeout's signal that also aborts with the run", async () => {
    const run = new AbortController();
    const attempt = new PausableTimeout(60_000, run.signal);
    const other = new PausableTimeout(60_000, run.signal);
    other.clear();
    run.abort(new Error("run stopped"));
    assert.equal((attempt.signal.reason as Error).message, "run stopped");
    assert.equal(other.signal.aborted, false, "a cleared timeout is detached from the run");
    attempt.clear();
    const quick = new PausableTimeout(5, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((quick.signal.reason as DOMException).name, "TimeoutError");
    const own = new AbortController();
    linkAbort(own, [AbortSignal.abort("already")]);
    assert.equal(own.signal.reason, "already");
  });
});
