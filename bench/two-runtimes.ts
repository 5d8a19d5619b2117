// Throughput with one embedded runtime per core: two `LocalRuntime`s, each on a thread of its own, on
// one database (the journal, audit chain, steps, ledger, PII vault and the example's tables shared),
// as two processes of one deployment would be. Each drives half the concurrency; the figure is all runs
// over the wall time from the start signal to the last run's end.
import { once } from "node:events";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

export interface TwoRuntimesJob {
  /** Folder of the shared database (and the example's, the audit key, the PII vault). */
  dir: string;
  vaultKey: string;
  /** LLM workers on zero-latency scripted models, or the example's code handlers. */
  llm: boolean;
  /** Runs measured on each runtime, after `warmup` runs. */
  runs: number;
  concurrency: number;
  warmup: number;
}

/** Marks the threads this module starts (see the end of the file). */
const ROLE = "arbiterTwoRuntimes";

type FromWorker = { ready: true } | { done: true; ms: number; failed: number } | { error: string };

export interface TwoRuntimes {
  runsPerSec: number;
  /** Runs that did not complete (should be 0). */
  failed: number;
  /** The audit chain both wrote verified whole, and how many entries it holds. */
  auditOk: boolean;
  auditEntries: number;
}

/** Runs `runs` runs on each of two runtimes (threads), `concurrency` at a time on each. */
export async function measureTwoRuntimes(options: TwoRuntimesJob): Promise<TwoRuntimes> {
  const workers: Worker[] = [];
  const exits: Promise<unknown>[] = [];
  const start = () => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { [ROLE]: true, ...options } });
    const queue: FromWorker[] = [];
    let wake: (() => void) | undefined;
    worker.on("message", (m: FromWorker) => {
      queue.push(m);
      wake?.();
    });
    worker.on("error", (e) => {
      queue.push({ error: String(e) });
      wake?.();
    });
    workers.push(worker);
    exits.push(once(worker, "exit"));
    return async (key: "ready" | "done") => {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      if ("error" in m) throw new Error(`runtime ${workers.indexOf(worker)}: ${m.error}`);
      if (!(key in m)) throw new Error(`expected ${key}, got ${JSON.stringify(m)}`);
      return m;
    };
  };
  try {
    // The first runtime makes the database (schema, audit key, PII vault), then the second opens it.
    const first = start();
    await first("ready");
    const second = start();
    await second("ready");
    const started = performance.now();
    for (const worker of workers) worker.postMessage("go");
    const done = await Promise.all([first("done"), second("done")]);
    const ms = performance.now() - started;
    const failed = done.reduce((n, m) => n + ("failed" in m ? m.failed : 0), 0);
    // Each closes its runtime (last commit, last checkpoint) and ends; then the database is read.
    await Promise.all(exits);
    // Both appended to one hash chain, taking the write lock in turn: it must verify whole.
    const { verifyAudit } = await import("../src/journal/audit/verify-audit.ts");
    const db = new DatabaseSync(join(options.dir, "two.db"), { readOnly: true });
    try {
      const audit = verifyAudit(db);
      return {
        runsPerSec: Math.round((2 * options.runs) / (ms / 1000)),
        failed,
        auditOk: audit.ok,
        auditEntries: audit.entries,
      };
    } finally {
      db.close();
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function work(job: TwoRuntimesJob): Promise<void> {
  const port = parentPort!;
  const { BENCH_MESSAGE, durableEnv, telecomRules } = await import("./telecom-bench.ts");
  const { loadProfile } = await import("../src/profile/load-profile.ts");
  const { LocalRuntime } = await import("../src/supervisor/local-runtime.ts");
  const { ScriptedModel } = await import("../src/testing/scripted-model.ts");
  const env = { ...durableEnv(job.dir, "two"), ARBITER_VAULT_KEY: job.vaultKey };
  const profile = await loadProfile(new URL("../examples/telecom/profile.yaml", import.meta.url).pathname, {
    env,
  });
  const model = new ScriptedModel({ modelId: "bench", rules: telecomRules(), latencyMs: 0, record: false });
  const resolved = { name: "bench", model };
  const models = { forWorker: () => resolved, planner: () => undefined, synthesizer: () => undefined };
  const runtime = await LocalRuntime.open({
    profile,
    dbPath: join(job.dir, "two.db"),
    env,
    ...(job.llm ? { models } : {}),
  });
  let failed = 0;
  const drive = async (total: number) => {
    let started = 0;
    const lane = async () => {
      while (started < total) {
        started++;
        const outcome = await runtime.run({ message: BENCH_MESSAGE });
        if (outcome.status !== "completed") failed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(job.concurrency, total) }, lane));
  };
  try {
    await drive(job.warmup);
    failed = 0;
    port.postMessage({ ready: true });
    await new Promise<void>((resolve) => port.once("message", () => resolve()));
    const t = performance.now();
    await drive(job.runs);
    port.postMessage({ done: true, ms: performance.now() - t, failed });
  } finally {
    await runtime.close();
    await profile.close();
  }
}

// Only in a thread started above: another program's worker thread may import this module (through
// telecom-bench.ts) and must not find itself driving a runtime.
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[ROLE] === true) {
  work(workerData as TwoRuntimesJob).catch((error) =>
    parentPort!.postMessage({ error: String(error?.stack ?? error) }),
  );
}
