import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { runStoreContract } from "../store-contract.ts";
import { SqliteStore } from "./sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract("sqlite", () => new SqliteStore({ path: join(dir, `contract-${n++}.db`) }));

runStoreContract(
  "sqlite, grouped commits",
  () => new SqliteStore({ path: join(dir, `contract-${n++}.db`), commit: "grouped" }),
);
