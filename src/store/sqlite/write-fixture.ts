/**
 * Writes the fixture database a schema version leaves behind for later versions' tests:
 * `node src/store/sqlite/write-fixture.ts test/fixtures/store/v<N>.db`. Run once per schema version;
 * never regenerate an old version's fixture.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadCheckpointSigner } from "../../journal/audit/checkpoint-key.ts";
import { LATEST_SCHEMA_VERSION } from "./migrations.ts";
import { SqliteStore } from "./sqlite-store.ts";

export const FIXTURE_RUN_ID = "run_fixture_v1";

export function writeFixture(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(path + suffix)) rmSync(path + suffix);
  // From schema version 2 on, the fixture's audit chain also carries a signed checkpoint (the public key
  // is in the row; the private key is thrown away).
  const signer =
    LATEST_SCHEMA_VERSION >= 2
      ? loadCheckpointSigner({ file: join(mkdtempSync(join(tmpdir(), "arbiter-fixture-")), "key.pem") })
      : undefined;
  // From schema version 5 on, writes go through commit groups as the runtime makes them: the journal
  // entries of a group are one batch row, the step writes one row of the step log.
  const store = new SqliteStore({
    path,
    clock: () => 1_700_000_000_000,
    ...(signer ? { signer } : {}),
    ...(LATEST_SCHEMA_VERSION >= 5 ? { commit: "grouped" as const } : {}),
  });
  const t = 1_700_000_000_000;
  store.createRun({
    id: FIXTURE_RUN_ID,
    tenant: "acme",
    profile: { name: "telecom-support", version: "v1fixture" },
    request: { message: "I want a credit for the outage", context: { customerId: "C-1001" } },
    createdAt: t,
  });
  store.setRunStatus(FIXTURE_RUN_ID, "waiting", t + 10);
  store.recordStep(
    { runId: FIXTURE_RUN_ID, name: "$now#0", attempt: 0, idempotent: true, startedAt: t + 1 },
    { state: "completed", result: String(t + 1), endedAt: t + 1 },
  );
  store.recordStep(
    {
      runId: FIXTURE_RUN_ID,
      name: "tool:t1/lookup_account/0123456789abcdef#0",
      attempt: 0,
      idempotent: true,
      startedAt: t + 2,
    },
    { state: "failed", error: { name: "ArbiterError", message: "timeout", code: "timeout" }, endedAt: t + 3 },
  );
  store.recordStep(
    {
      runId: FIXTURE_RUN_ID,
      name: "tool:t1/lookup_account/0123456789abcdef#0",
      attempt: 1,
      idempotent: true,
      startedAt: t + 4,
    },
    { state: "completed", result: '{"plan":"fiber-100","balance":42.5}', endedAt: t + 5 },
  );
  store.startStep({
    runId: FIXTURE_RUN_ID,
    name: "tool:t1/issue_credit/fedcba9876543210#0",
    attempt: 0,
    idempotent: false,
    startedAt: t + 6,
  });
  store.appendEvent({
    type: "run-start",
    runId: FIXTURE_RUN_ID,
    at: t,
    tenant: "acme",
    profile: { name: "telecom-support", version: "v1fixture" },
    message: "I want a credit for the outage",
    context: { customerId: "C-1001" },
  });
  store.appendEvent(
    {
      type: "escalation-pending",
      runId: FIXTURE_RUN_ID,
      at: t + 7,
      taskId: "t1",
      worker: "billing",
      reason: "credit above $50",
    },
    "escalation:t1",
  );
  store.createApproval({
    id: "ap_fixture_v1",
    runId: FIXTURE_RUN_ID,
    taskId: "t1",
    worker: "billing",
    reason: "credit of $80 is above $50",
    createdAt: t + 8,
    expiresAt: t + 86_400_000,
  });
  store.sendSignal("unrelated-topic", { hello: "world" }, t + 9);
  store.checkpoint();
  store.close();
  // One self-contained file: fold the WAL back in and drop free pages.
  const db = new DatabaseSync(path);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM;");
  db.close();
  console.log(`wrote ${path} (schema version ${LATEST_SCHEMA_VERSION})`);
}

if (import.meta.main) {
  const path = process.argv[2];
  if (path === undefined) {
    console.error("usage: node src/store/sqlite/write-fixture.ts <path.db>");
    process.exit(2);
  }
  writeFixture(path);
}
