import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { openDatabase } from "./open-database.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

describe("WalCheckpointer", () => {
  it("copies committed log pages into the database file from its own thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "arbiter-ckpt-"));
    const path = join(dir, "a.db");
    const db = openDatabase({ path, synchronous: "normal", walAutocheckpoint: 100_000 });
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
    const write = (rows: number) => {
      db.exec("BEGIN");
      for (let i = 0; i < rows; i++) insert.run("x".repeat(500));
      db.exec("COMMIT");
    };
    write(3000);
    // Below this connection's own checkpoint threshold: the rows are only in the log so far.
    const copy = (name: string) => {
      copyFileSync(path, join(dir, name));
      const read = new DatabaseSync(join(dir, name), { readOnly: true });
      try {
        return (read.prepare("SELECT count(*) AS n FROM t").get() as { n: number } | undefined)?.n ?? 0;
      } catch {
        return 0; // the table itself is not in the file yet
      } finally {
        read.close();
      }
    };
    assert.equal(copy("before.db"), 0);
    assert.ok(statSync(`${path}-wal`).size > 1_000_000);

    const checkpointer = WalCheckpointer.start([path], { intervalMs: 10 });
    for (let i = 0; i < 100 && copy("during.db") < 3000; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(copy("during.db"), 3000, "the thread checkpointed while the writer kept its connection");
    write(10);
    await checkpointer.stop();
    assert.equal(copy("after.db"), 3010, "stopping makes a last checkpoint");
    db.close();
  });

  it("reports why it could not start, and stops all the same", async () => {
    const checkpointer = WalCheckpointer.start([join(tmpdir(), "no-such-dir-arbiter", "x", "a.db")]);
    assert.match(String(await checkpointer.failure()), /unable to open|cannot open|no such/i);
    await checkpointer.stop();
  });
});
