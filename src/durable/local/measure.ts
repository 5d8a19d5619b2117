/**
 * Measures the cost of durability on this machine's disk:
 *   node src/durable/local/measure.ts [--dir <directory>] [--steps N] [--events N]
 * prints µs per completed step (fresh and replayed), journal appends/s, and steps/s with 100 runs
 * at once (one append per step), for `synchronous=FULL`/`NORMAL` and commit `each`/`grouped`, next
 * to the in-memory engine. Default directory: ./.arbiter
 * (where the database lives by default), cleaned up afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SqliteJournal } from "../../journal/sqlite/sqlite-journal.ts";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import type { DurableRun } from "../durable.ts";
import { MemoryDurableEngine } from "../memory/memory-durable.ts";
import { LocalDurableEngine } from "./local-durable.ts";

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: "./.arbiter" },
    steps: { type: "string", default: "2000" },
    events: { type: "string", default: "5000" },
  },
});
const steps = Number(values.steps);
const events = Number(values.events);
mkdirSync(resolve(values.dir), { recursive: true });
const dir = mkdtempSync(join(resolve(values.dir), "measure-"));

async function timeSteps(run: DurableRun, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await run.step(`tool:t${i % 3}/lookup/${i}#0`, async () => ({ i, ok: true }));
  return ((performance.now() - started) * 1000) / n;
}

/** Throughput with many runs at once: `runs` runs, each `perRun` steps with a journal append per step. */
async function concurrent(
  engine: LocalDurableEngine | MemoryDurableEngine,
  journal: SqliteJournal | undefined,
) {
  const runs = 100;
  const perRun = 20;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: runs }, async (_, r) => {
      const run = engine.open(`c${r}`);
      for (let i = 0; i < perRun; i++) {
        await run.step(`tool:t1/lookup/${i}#0`, async () => i);
        journal?.append({ type: "warning", runId: `c${r}`, at: i, message: "step done" });
      }
    }),
  );
  return Math.round((runs * perRun) / ((performance.now() - started) / 1000));
}

const rows: Array<Record<string, string>> = [];
try {
  const memory = new MemoryDurableEngine();
  rows.push({
    engine: "memory",
    "µs/step (fresh)": (await timeSteps(memory.open("m"), steps)).toFixed(1),
    "µs/step (replayed)": "-",
    "journal appends/s": "-",
    "µs/append": "-",
    "steps/s, 100 runs at once": (await concurrent(new MemoryDurableEngine(), undefined)).toLocaleString(
      "en-US",
    ),
  });

  for (const commit of ["each", "grouped"] as const) {
    for (const synchronous of ["full", "normal"] as const) {
      const path = join(dir, `${synchronous}-${commit}.db`);
      const store = new SqliteStore({ path, synchronous, commit });
      const engine = new LocalDurableEngine({ store });
      const fresh = await timeSteps(engine.open("r1"), steps);
      engine.close();
      const replayEngine = new LocalDurableEngine({ store });
      const replayed = await timeSteps(replayEngine.open("r1"), steps);
      replayEngine.close();

      const journal = new SqliteJournal(store);
      const started = performance.now();
      for (let i = 0; i < events; i++)
        journal.append({ type: "warning", runId: `j${i % 10}`, at: i, message: "m" });
      await store.sync();
      const perSecond = events / ((performance.now() - started) / 1000);
      const throughput = await concurrent(new LocalDurableEngine({ store }), journal);
      store.close();
      rows.push({
        engine: `local ${synchronous.toUpperCase()}, commit=${commit}`,
        "µs/step (fresh)": fresh.toFixed(1),
        "µs/step (replayed)": replayed.toFixed(1),
        "journal appends/s": Math.round(perSecond).toLocaleString("en-US"),
        "µs/append": (1e6 / perSecond).toFixed(1),
        "steps/s, 100 runs at once": throughput.toLocaleString("en-US"),
      });
    }
  }
  console.log(`steps=${steps} events=${events} dir=${dir}`);
  console.table(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
