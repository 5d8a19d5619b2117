import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cacheKey, codeFingerprint, describeDerivedCache, openDerivedCache } from "./derived-cache.ts";

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-cache-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("keeps values by kind and key in a folder of this user's alone", (t) => {
  const dir = join(scratch(t), "made");
  const cache = openDerivedCache({ ARBITER_CACHE_DIR: dir });
  assert.ok(cache !== undefined);
  assert.equal(cache.dir, dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const key = cacheKey(["a", "b"]);
  assert.equal(cache.get("router", key), undefined);
  cache.put("router", key, { weights: [1, 2] });
  assert.deepEqual(cache.get("router", key), { weights: [1, 2] });
  assert.equal(cache.get("cedar-bundle", key), undefined, "another kind is another entry");
  const [file] = readdirSync(dir);
  assert.equal(statSync(join(dir, file!)).mode & 0o777, 0o600);
  assert.equal(readdirSync(dir).length, 1, "no temporary file left behind");
  // A torn or edited entry is a miss, not an error.
  writeFileSync(join(dir, file!), '{"kind":"router","key":"');
  assert.equal(cache.get("router", key), undefined);
  writeFileSync(join(dir, file!), JSON.stringify({ kind: "router", key: "other", value: 1 }));
  assert.equal(cache.get("router", key), undefined);
});

test("the environment chooses the folder or turns the cache off; a folder others may write is not used", (t) => {
  const root = scratch(t);
  assert.equal(openDerivedCache({ ARBITER_CACHE_DIR: "off" }), undefined);
  assert.equal(openDerivedCache({ XDG_CACHE_HOME: join(root, "xdg") })?.dir, join(root, "xdg", "arbiter"));
  assert.equal(openDerivedCache({ HOME: join(root, "home") })?.dir, join(root, "home", ".cache", "arbiter"));
  const shared = join(root, "shared");
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  assert.equal(openDerivedCache({ ARBITER_CACHE_DIR: shared }), undefined);
  assert.match(
    describeDerivedCache({ ARBITER_CACHE_DIR: shared }),
    /not used: other users may write to .*shared/,
  );
  assert.match(describeDerivedCache({ ARBITER_CACHE_DIR: "off" }), /^off/);
  assert.equal(describeDerivedCache({ XDG_CACHE_HOME: join(root, "xdg") }), join(root, "xdg", "arbiter"));
  const file = join(root, "a-file");
  writeFileSync(file, "");
  assert.equal(openDerivedCache({ ARBITER_CACHE_DIR: file }), undefined, "a file is no folder");
});

test("a key changes with any part, and the code's fingerprint with any of its files", (t) => {
  assert.notEqual(cacheKey(["ab", "c"]), cacheKey(["a", "bc"]));
  assert.equal(cacheKey(["x"]), cacheKey(["x"]));
  const code = scratch(t);
  writeFileSync(join(code, "a.ts"), "export const a = 1;");
  writeFileSync(join(code, "a.test.ts"), "test");
  const before = codeFingerprint(code);
  assert.equal(codeFingerprint(code), before);
  const other = scratch(t);
  writeFileSync(join(other, "a.ts"), "export const a = 2;");
  writeFileSync(join(other, "a.test.ts"), "test");
  assert.notEqual(codeFingerprint(other), before);
});

test("past 256 entries, a write removes the least recently used down to 192", (t) => {
  const dir = join(scratch(t), "many");
  const cache = openDerivedCache({ ARBITER_CACHE_DIR: dir })!;
  for (let i = 0; i < 256; i++) cache.put("router", cacheKey([String(i)]), i);
  const old = new Date(Date.now() - 60_000);
  for (const name of readdirSync(dir)) utimesSync(join(dir, name), old, old);
  assert.equal(cache.get("router", cacheKey(["7"])), 7, "used just now");
  cache.put("router", cacheKey(["new"]), "new");
  assert.equal(readdirSync(dir).length, 192);
  assert.equal(cache.get("router", cacheKey(["7"])), 7, "the one used lately is kept");
  assert.equal(cache.get("router", cacheKey(["new"])), "new");
});
