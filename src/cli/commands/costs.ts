import { existsSync } from "node:fs";
import { importLegacyLedger, legacyLedgerPath } from "../../budget/sqlite/legacy-ledger.ts";
import { createSqliteLedger } from "../../budget/sqlite/sqlite-ledger.ts";
import { resolveDbPath } from "../../store/sqlite/resolve-db-path.ts";
import type { Command } from "../main.ts";
import { openStore } from "../open-store.ts";
import { oneOf, parse } from "../parse.ts";

const usage = "arbiter costs [--tenant T] [--by worker|model|day] [--json] [--db path]";

/** `arbiter costs`: the cost ledger, grouped. */
export const costsCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(
      args,
      {
        tenant: { type: "string" },
        by: { type: "string" },
        json: { type: "boolean" },
        db: { type: "string" },
      },
      usage,
    );
    const by = oneOf("by", values.by, ["worker", "model", "day"] as const, usage) ?? "model";
    const path = resolveDbPath(values.db as string | undefined, io.env);
    // The ledger is in the run database (older runtimes kept it beside it: that file is taken in
    // first, which needs write access; otherwise reading is enough).
    const store = openStore(values.db, io, existsSync(legacyLedgerPath(path)) ? "write" : "read");
    const ledger = createSqliteLedger({ database: store.database });
    try {
      importLegacyLedger(store.database, path);
      const rows = await ledger.totals({
        by,
        ...(typeof values.tenant === "string" ? { tenant: values.tenant } : {}),
      });
      if (values.json) {
        io.out(`${JSON.stringify({ by, tenant: values.tenant ?? null, rows })}\n`);
        return 0;
      }
      if (rows.length === 0) {
        io.out("no model calls recorded\n");
        return 0;
      }
      const width = Math.max(by.length, ...rows.map((r) => (r.key || "(supervisor)").length));
      io.out(`${by.padEnd(width)}  calls  input tok  output tok   cost USD\n`);
      for (const r of rows) {
        io.out(
          `${(r.key || "(supervisor)").padEnd(width)}  ${String(r.calls).padStart(5)}  ${String(r.inputTokens).padStart(9)}  ${String(r.outputTokens).padStart(10)}  ${r.costUsd.toFixed(6).padStart(9)}\n`,
        );
      }
      return 0;
    } finally {
      await ledger.close();
      store.close();
    }
  },
};
