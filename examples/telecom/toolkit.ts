import { resolve } from "node:path";
import { defineToolkit } from "../../src/tools/toolkit.ts";
import { type DemoDb, openDemoDb } from "./demo-db.ts";
import { account, billing, generalist, techSupport } from "./handlers.ts";
import { createTelecomTools } from "./tools.ts";

/**
 * The telecom demo toolkit: seven tools over a small SQLite data set (TELECOM_DB, default
 * .arbiter/telecom-demo.db, created and seeded on first use) and code handlers for the embedded default.
 */
export default defineToolkit(({ env }) => {
  let db: DemoDb | undefined;
  return {
    tools: createTelecomTools(() => {
      db ??= openDemoDb(resolve(env.TELECOM_DB ?? ".arbiter/telecom-demo.db"));
      return db;
    }),
    handlers: { billing, tech_support: techSupport, account, generalist },
    close() {
      db?.close();
      db = undefined;
    },
  };
});
