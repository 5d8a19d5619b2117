import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "bin/arbiter.js");
const profile = join(root, "examples/telecom/profile.yaml");

export interface ResumeLatency {
  /** From spawning `arbiter resume` to its `run-resume` journal entry (the killed run taken up), ms. */
  toResumeP50Ms: number;
  toResumeMaxMs: number;
  /** From spawning `arbiter resume` to the run's completion, ms. */
  toCompletedP50Ms: number;
  iterations: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function query<T>(db: string, sql: string): T[] {
  if (!existsSync(db)) return [];
  const reader = new DatabaseSync(db, { readOnly: true });
  try {
    reader.exec("PRAGMA busy_timeout = 5000");
    return reader.prepare(sql).all() as T[];
  } catch {
    return []; // the schema is still being created
  } finally {
    reader.close();
  }
}

/**
 * Kills a telecom run (SIGKILL) in the middle of its branches, then starts `arbiter resume` and
 * measures how long the new process takes to take the run up, and to finish it.
 */
export async function measureResumeLatency(message: string, iterations = 5): Promise<ResumeLatency> {
  const toResume: number[] = [];
  const toCompleted: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const dir = mkdtempSync(join(tmpdir(), "arbiter-resume-bench-"));
    const db = join(dir, "arbiter.db");
    const env = { ...process.env, ARBITER_DB: db, TELECOM_DB: join(dir, "telecom.db") };
    try {
      const run = spawn(
        process.execPath,
        [bin, "run", profile, message, "--quiet", "--inject", "latency=200ms"],
        { cwd: dir, env, stdio: "ignore" },
      );
      // Kill it once its branches have started calling tools.
      for (let waited = 0; waited < 15_000; waited += 20) {
        const started = query<{ n: number }>(
          db,
          "SELECT COUNT(*) AS n FROM journal_entries WHERE type = 'tool-call-start'",
        );
        if ((started[0]?.n ?? 0) > 0) break;
        await sleep(20);
      }
      run.kill("SIGKILL");
      await new Promise((r) => run.once("close", r));
      const spawnedAt = Date.now();
      const resume = spawn(process.execPath, [bin, "resume", "--json"], { cwd: dir, env, stdio: "ignore" });
      await new Promise((r) => resume.once("close", r));
      const finishedAt = Date.now();
      const resumed = query<{ at: number }>(
        db,
        "SELECT at FROM journal_entries WHERE type = 'run-resume' ORDER BY at LIMIT 1",
      );
      const status = query<{ status: string }>(db, "SELECT status FROM runs")[0]?.status;
      if (resumed[0] === undefined || status !== "completed") {
        throw new Error(`the killed run was not resumed to completion (status ${status ?? "missing"})`);
      }
      toResume.push(resumed[0].at - spawnedAt);
      toCompleted.push(finishedAt - spawnedAt);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    toResumeP50Ms: p50(toResume),
    toResumeMaxMs: Math.max(...toResume),
    toCompletedP50Ms: p50(toCompleted),
    iterations,
  };
}
