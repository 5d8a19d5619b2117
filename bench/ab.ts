// Compares the telecom run of two checkouts in one process: both are loaded side by side and their runs
// alternate (A, B, B, A, …), so both see the same machine at the same moments. On a VM whose speed
// drifts by 2× from one minute to the next, separate processes cannot resolve a change of a few percent;
// this resolves about ±1–1.5% on the wall p50 (the CPU figure counts every thread, GC's too: about ±3%).
//
//   git worktree add /tmp/arbiter-base HEAD~1 && ln -s "$PWD/node_modules" /tmp/arbiter-base/
//   node bench/ab.ts /tmp/arbiter-base . [--runs 2000] [--mode durable|memory|handlers]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BENCH_MESSAGE, durableEnv, telecomRules } from "./telecom-bench.ts";

type ProfileModule = typeof import("../src/profile/load-profile.ts");
type RuntimeModule = typeof import("../src/supervisor/local-runtime.ts");
type SupervisorModule = typeof import("../src/supervisor/supervisor.ts");
type JournalModule = typeof import("../src/journal/memory/memory-journal.ts");
type ScriptedModule = typeof import("../src/testing/scripted-model.ts");

interface Side {
  root: string;
  run(): Promise<{ status: string }>;
  close(): Promise<void>;
  walls: number[];
  cpuMicros: number;
}

const MODES = ["durable", "memory", "handlers"] as const;
type Mode = (typeof MODES)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: "string", default: "2000" }, mode: { type: "string", default: "durable" } },
});
const runs = Number(values.runs);
const mode = values.mode as Mode;
if (positionals.length !== 2 || !MODES.includes(mode) || !(runs > 0)) {
  process.stderr.write(
    "usage: node bench/ab.ts <checkout A> <checkout B> [--runs N] [--mode durable|memory|handlers]\n" +
      "  each checkout is a folder with src/ and examples/ (e.g. a git worktree with node_modules linked)\n",
  );
  process.exit(2);
}

async function open(root: string, dir: string): Promise<Side> {
  const from = (path: string) => import(join(root, path));
  const { loadProfile }: ProfileModule = await from("src/profile/load-profile.ts");
  const { LocalRuntime }: RuntimeModule = await from("src/supervisor/local-runtime.ts");
  const { createSupervisor }: SupervisorModule = await from("src/supervisor/supervisor.ts");
  const { MemoryJournal }: JournalModule = await from("src/journal/memory/memory-journal.ts");
  const { ScriptedModel }: ScriptedModule = await from("src/testing/scripted-model.ts");
  const env = durableEnv(dir, "ab");
  const profile = await loadProfile(join(root, "examples/telecom/profile.yaml"), { env });
  const model = new ScriptedModel({ modelId: "bench", rules: telecomRules(), latencyMs: 0, record: false });
  const resolved = { name: "bench", model };
  const models = { forWorker: () => resolved, planner: () => undefined, synthesizer: () => undefined };
  const side = { root, walls: [] as number[], cpuMicros: 0 };
  if (mode === "durable") {
    const runtime = await LocalRuntime.open({ profile, dbPath: join(dir, "arbiter.db"), env, models });
    return {
      ...side,
      run: () => runtime.run({ message: BENCH_MESSAGE }),
      close: async () => {
        await runtime.close();
        await profile.close();
      },
    };
  }
  const supervisor = createSupervisor({
    profile,
    journal: new MemoryJournal({ maxFinishedRuns: 0 }),
    ...(mode === "memory" ? { models } : {}),
  });
  return { ...side, run: () => supervisor.run({ message: BENCH_MESSAGE }), close: () => profile.close() };
}

const dirs = [mkdtempSync(join(tmpdir(), "arbiter-ab-")), mkdtempSync(join(tmpdir(), "arbiter-ab-"))];
const sides = [
  await open(resolve(positionals[0]!), dirs[0]!),
  await open(resolve(positionals[1]!), dirs[1]!),
];
const once = async (side: Side, measure: boolean) => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await side.run();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (result.status !== "completed") throw new Error(`a run of ${side.root} ended ${result.status}`);
  if (measure) {
    side.walls.push(wall);
    side.cpuMicros += used.user + used.system;
  }
  await new Promise((r) => setImmediate(r)); // grouped commits and timers get their turn
};
try {
  for (let i = 0; i < 300; i++) for (const side of sides) await once(side, false);
  for (let i = 0; i < runs; i++) {
    const first = i % 2; // who goes first alternates
    await once(sides[first]!, true);
    await once(sides[1 - first]!, true);
  }
  const at = (xs: number[], p: number) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length * p)]!;
  const line = (name: string, s: Side) =>
    `${name} ${s.root}\n    run wall p50 ${at(s.walls, 0.5).toFixed(3)} ms   p90 ${at(s.walls, 0.9).toFixed(3)} ms   ` +
    `CPU ${(s.cpuMicros / 1000 / runs).toFixed(3)} ms per run (all threads)`;
  const [a, b] = sides as [Side, Side];
  process.stdout.write(
    `${mode}, ${runs} runs each, alternated:\n${line("A", a)}\n${line("B", b)}\n` +
      `  B/A: wall p50 ${(at(b.walls, 0.5) / at(a.walls, 0.5)).toFixed(3)}   ` +
      `p90 ${(at(b.walls, 0.9) / at(a.walls, 0.9)).toFixed(3)}   CPU ${(b.cpuMicros / a.cpuMicros).toFixed(3)}\n`,
  );
} finally {
  for (const side of sides) await side.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
