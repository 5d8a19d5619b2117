/**
 * Audit verify throughput: `node src/journal/audit/measure.ts [entries]` appends N journal entries
 * (hash-chained, checkpointed every 256) to a fresh SQLite file and times `verifyAudit` over them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import type { RunEvent } from "../events.ts";
import { loadCheckpointSigner } from "./checkpoint-key.ts";
import { verifyAudit } from "./verify-audit.ts";

const n = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), "arbiter-audit-measure-"));
try {
  const store = new SqliteStore({
    path: join(dir, "a.db"),
    synchronous: "normal",
    signer: loadCheckpointSigner({ file: join(dir, "k.pem") }),
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const runId = `run_${i % 500}`;
    store.appendEvent({
      type: "warning",
      runId,
      at: 1_700_000_000_000 + i,
      message: `entry ${i} of ${runId}`,
    } as RunEvent);
  }
  const append = performance.now() - t0;
  const report = verifyAudit(store.database);
  store.close();
  console.log(
    `appended ${n} entries in ${Math.round(append)} ms; verify: ${report.ok ? "ok" : "FAILED"}, ` +
      `${report.checkpoints} checkpoints, ${Math.round(report.durationMs)} ms = ${Math.round(n / (report.durationMs / 1000))} entries/s`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
