import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import { runDurableConformance } from "../durable-conformance.ts";
import { LocalDurableEngine } from "./local-durable.ts";

runDurableConformance("local engine on SQLite", () => {
  const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), "arbiter-conf-")), "a.db") });
  for (const id of ["run-a", "run-b", "run-c", "run-d"]) {
    store.createRun({
      id,
      tenant: "t",
      profile: { name: "p", version: "v" },
      request: {},
      createdAt: Date.now(),
    });
  }
  const engine = new LocalDurableEngine({ store });
  return {
    engine,
    close: () => {
      engine.close();
      store.close();
    },
  };
});
