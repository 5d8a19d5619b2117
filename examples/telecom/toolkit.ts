import { resolve } from "node:path";
import { WalCheckpointer } from "../../src/store/sqlite/wal-checkpointer.ts";
import { defineToolkit } from "../../src/tools/toolkit.ts";
import { type DemoDb, openDemoDb } from "./demo-db.ts";
import { account, billing, generalist, techSupport } from "./handlers.ts";
import { createTelecomTools } from "./tools.ts";

/**
 * Uses of the database after which a process is taken to be long-lived (`arbiter serve`, a benchmark):
 * from then on a thread of its own copies the write-ahead log into the file, instead of the commit that
 * crosses SQLite's threshold doing it on the event loop (a checkpoint and its fsyncs: milliseconds). A
 * one-run command never starts that thread.
 */
const LONG_LIVED_AFTER = 500;

/**
 * The telecom demo toolkit: seven tools over a small SQLite data set (TELECOM_DB, default
 * .arbiter/telecom-demo.db, created and seeded on first use) and code handlers for the embedded default.
 */
export default defineToolkit(({ env }) => {
  let db: DemoDb | undefined;
  let uses = 0;
  let checkpointer: WalCheckpointer | undefined;
  const file = resolve(env.TELECOM_DB ?? ".arbiter/telecom-demo.db");
  return {
    tools: createTelecomTools(() => {
      db ??= openDemoDb(file);
      if (++uses === LONG_LIVED_AFTER) {
        // The connection's own checkpoint stays as a safety net (past ~40 MiB of log), should the thread die.
        db.exec("PRAGMA wal_autocheckpoint = 10000");
        checkpointer = WalCheckpointer.start([file]);
      }
      return db;
    }),
    handlers: { billing, tech_support: techSupport, account, generalist },
    async close() {
      await checkpointer?.stop();
      checkpointer = undefined;
      db?.close();
      db = undefined;
      uses = 0;
    },
  };
});
