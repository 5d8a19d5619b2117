import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import type { JournalEntry, RunEvent } from "../events.ts";
import type { Journal } from "../journal.ts";
import { MemoryJournal } from "../memory/memory-journal.ts";
import { SqliteJournal } from "./sqlite-journal.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-journal-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const stores: SqliteStore[] = [];
after(() => {
  for (const store of stores) store.close();
});
const openStore = (path = join(dir, `journal-${n++}.db`)) => {
  const store = new SqliteStore({ path, synchronous: "normal" });
  stores.push(store);
  return store;
};

const warning = (runId: string, message: string): RunEvent => ({ type: "warning", runId, at: 1, message });

for (const [name, create] of [
  ["memory", () => new MemoryJournal()],
  ["sqlite", () => new SqliteJournal(openStore())],
] as const) {
  describe(`Journal: ${name}`, () => {
    it("numbers entries per run from 1, notifies subscribers and tails after a seq", () => {
      const journal: Journal = create();
      const seen: string[] = [];
      const stop = journal.subscribe((e) => seen.push(`${e.event.runId}:${e.seq}`), "a");
      const all: JournalEntry[] = [];
      journal.subscribe((e) => all.push(e));
      assert.equal(journal.append(warning("a", "1")).seq, 1);
      assert.equal(journal.append(warning("b", "1")).seq, 1);
      assert.equal(journal.append(warning("a", "2")).seq, 2);
      stop();
      journal.append(warning("a", "3"));
      assert.deepEqual(seen, ["a:1", "a:2"]);
      assert.equal(all.length, 4);
      assert.deepEqual(
        journal.read("a").map((e) => e.seq),
        [1, 2, 3],
      );
      assert.deepEqual(
        journal.tail?.("a", 1).map((e) => e.seq),
        [2, 3],
      );
      assert.deepEqual(journal.read("a")[2]?.event, warning("a", "3"));
    });

    it("appends a keyed event once and notifies once", () => {
      const journal: Journal = create();
      const seen: number[] = [];
      journal.subscribe((e) => seen.push(e.seq));
      assert.equal(journal.appendOnce?.(warning("a", "x"), "k1").appended, true);
      assert.deepEqual(journal.appendOnce?.(warning("a", "y"), "k1"), {
        entry: journal.read("a")[0],
        appended: false,
      });
      assert.deepEqual(seen, [1]);
      assert.equal(journal.read("a").length, 1);
    });
  });
}

describe("SqliteJournal on disk", () => {
  it("refuses UPDATE and DELETE on the journal table", () => {
    const store = openStore();
    new SqliteJournal(store).append(warning("a", "kept"));
    const raw = new DatabaseSync(store.path);
    try {
      assert.throws(() => raw.exec("UPDATE journal SET event = '{}'"), /append-only: UPDATE refused/);
      assert.throws(() => raw.exec("DELETE FROM journal"), /append-only: DELETE refused/);
      assert.throws(() => raw.exec("INSERT OR REPLACE INTO journal SELECT * FROM journal"), /append-only/);
      assert.throws(
        () =>
          raw.exec(
            `INSERT INTO journal (run_id, seq, v, type, at, event) VALUES ('a', 3, 1, 'warning', 1, '{}')`,
          ),
        /append-only/,
        "a gap is refused",
      );
    } finally {
      raw.close();
    }
    assert.equal((store.readEvents("a")[0]?.event as { message: string } | undefined)?.message, "kept");
  });

  it("has no gaps when two processes append to the same run at once", async () => {
    const store = openStore();
    const module = new URL("../../store/sqlite/sqlite-store.ts", import.meta.url).href;
    const writer = `
      import { SqliteStore } from ${JSON.stringify(module)};
      const store = new SqliteStore({ path: process.argv[1], synchronous: "normal" });
      for (let i = 0; i < 150; i++) store.appendEvent({ type: "warning", runId: "shared", at: i, message: process.argv[2] + i });
      store.close();
    `;
    const run = (tag: string) =>
      new Promise<number | null>((resolve) => {
        spawn(process.execPath, ["--input-type=module", "-e", writer, store.path, tag], {
          stdio: "inherit",
        }).on("exit", resolve);
      });
    assert.deepEqual(await Promise.all([run("p"), run("q")]), [0, 0]);
    const seqs = store.readEvents("shared").map((e) => e.seq);
    assert.equal(seqs.length, 300);
    assert.deepEqual(
      seqs,
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
  });

  it("streams a run appended by another connection until run-end", async () => {
    const writerStore = openStore();
    const reader = new SqliteJournal(openStore(writerStore.path));
    const writer = new SqliteJournal(writerStore);
    writer.append(warning("r1", "before"));
    const got: string[] = [];
    const following = (async () => {
      for await (const entry of reader.follow("r1", { pollIntervalMs: 5 })) got.push(entry.event.type);
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    writer.append(warning("r1", "during"));
    writer.append({
      type: "run-end",
      runId: "r1",
      at: 2,
      status: "completed",
      answer: "done",
      durationMs: 1,
      usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
    });
    await following;
    assert.deepEqual(got, ["warning", "warning", "run-end"]);

    const controller = new AbortController();
    const stopped = (async () => {
      const entries = [];
      for await (const entry of reader.follow("never-ends", { signal: controller.signal, pollIntervalMs: 5 }))
        entries.push(entry);
      return entries;
    })();
    controller.abort();
    assert.deepEqual(await stopped, []);
  });
});
