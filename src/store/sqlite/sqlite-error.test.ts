import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { storeError } from "./sqlite-error.ts";

test("a damaged database file is named as damaged, with how to check and recover it", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-corrupt-"));
  const path = join(dir, "a.db");
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x);");
  const insert = db.prepare("INSERT INTO t VALUES (?)");
  db.exec("BEGIN");
  for (let i = 0; i < 2_000; i++) insert.run(`value ${i}`.repeat(4));
  db.exec("COMMIT");
  db.close();
  // Garbage over the middle of the file: pages of the table and its index.
  const bytes = Buffer.alloc(4096 * 4, 0xff);
  const fd = openSync(path, "r+");
  writeSync(fd, bytes, 0, bytes.length, 4096 * 8);
  closeSync(fd);
  let caught: unknown;
  try {
    const damaged = new DatabaseSync(path);
    damaged.prepare("SELECT COUNT(*) FROM t WHERE x > ''").all();
    damaged.prepare("SELECT * FROM t").all();
    damaged.close();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, "reading the damaged pages fails");
  const error = storeError(caught, path, "reading runs");
  assert.match(error.message, /^reading runs: .*a\.db is damaged \(database disk image is malformed\)/);
  assert.match(error.message, /PRAGMA integrity_check/);
  assert.match(error.message, /\.recover \| sqlite3 recovered\.db/);
});

test("a file that is not a database is said to be one, with what to do", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-notadb-"));
  const path = join(dir, "b.db");
  writeFileSync(path, "not a database at all, but long enough to have a header of sorts....".repeat(100));
  let caught: unknown;
  try {
    new DatabaseSync(path).prepare("SELECT 1 FROM sqlite_master").all();
  } catch (error) {
    caught = error;
  }
  const error = storeError(caught, path, "opening the database");
  assert.match(error.message, /b\.db is not a readable Arbiter database \(file is not a database\)/);
  assert.match(error.message, /Point --db \/ ARBITER_DB at the right file/);
});
