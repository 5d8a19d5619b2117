import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import { InDoubtError } from "../durable.ts";
import { LocalDurableEngine } from "./local-durable.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-crash-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const engineModule = new URL("./local-durable.ts", import.meta.url).href;
const storeModule = new URL("../../store/sqlite/sqlite-store.ts", import.meta.url).href;

/**
 * A real process: claims the run, completes `lookup`, then starts `issue_credit` (recording the
 * effect with its idempotency key, as a tool would) and hangs until it is killed.
 */
const child = `
  import { LocalDurableEngine } from ${JSON.stringify(engineModule)};
  import { SqliteStore } from ${JSON.stringify(storeModule)};
  const store = new SqliteStore({ path: process.argv[1] });
  const engine = new LocalDurableEngine({ store });
  if (!engine.claim("r1")) process.exit(3);
  const run = engine.open("r1");
  await run.step("tool:t1/lookup/aa#0", async () => ({ balance: 120 }), { idempotent: true });
  await run.step("tool:t1/issue_credit/bb#0", async () => {
    store.sendSignal("effects", { idempotencyKey: "r1:t1/issue_credit/bb#0" }, Date.now());
    process.stdout.write("effect\\n");
    await new Promise(() => setInterval(() => {}, 1000));
  });
`;

it("a run killed mid-step resumes at once in a new process, without repeating any side effect", async () => {
  const path = join(dir, "crash.db");
  const setup = new SqliteStore({ path });
  setup.createRun({ id: "r1", tenant: "t", profile: { name: "p", version: "1" }, request: {}, createdAt: 1 });
  setup.close();

  const proc = spawn(process.execPath, ["--input-type=module", "-e", child, path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("effect")) resolve();
    });
    proc.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
  });
  proc.kill("SIGKILL");
  await new Promise((resolve) => proc.on("exit", resolve));

  const store = new SqliteStore({ path });
  const engine = new LocalDurableEngine({ store });
  try {
    const started = performance.now();
    assert.equal(
      engine.claim("r1"),
      true,
      "the dead holder's lease is taken over without waiting for it to lapse",
    );
    assert.ok(performance.now() - started < 1_000);
    const run = engine.open("r1");
    let lookups = 0;
    const lookup = await run.step("tool:t1/lookup/aa#0", async () => ++lookups, { idempotent: true });
    assert.deepEqual(lookup, { value: { balance: 120 }, replayed: true });
    assert.equal(lookups, 0);
    await assert.rejects(
      run.step("tool:t1/issue_credit/bb#0", async () => {
        store.sendSignal("effects", { idempotencyKey: "r1:t1/issue_credit/bb#0" }, Date.now());
      }),
      (e) => e instanceof InDoubtError,
    );
    const effects = [];
    for (
      let s = store.takeSignal("effects", "count", 0);
      s;
      s = store.takeSignal("effects", `count${effects.length}`, 0)
    )
      effects.push(s);
    assert.equal(effects.length, 1, "the credit was issued exactly once");
  } finally {
    engine.close();
    store.close();
  }
});
