import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadProfile } from "../profile/load-profile.ts";
import { buildLocalRouter } from "./local-router.ts";

const TELECOM = join(import.meta.dirname, "../../examples/telecom/profile.yaml");

test("a profile loaded again takes its trained router and validated policies from the derived cache", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-router-cache-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { TELECOM_DB: join(dir, "telecom.db"), ARBITER_CACHE_DIR: join(dir, "cache") };
  const load = async () => {
    const profile = await loadProfile(TELECOM, { env });
    t.after(() => profile.close());
    return { profile, router: buildLocalRouter(profile) };
  };
  const first = await load();
  assert.equal(first.router.classifier?.stats.cached, undefined, "trained the first time");
  assert.deepEqual(
    readdirSync(join(dir, "cache"))
      .map((name) => name.split("-").slice(0, -1).join("-"))
      .sort(),
    ["cedar-bundle", "router"],
  );
  const second = await load();
  assert.equal(second.router.classifier?.stats.cached, true);
  assert.equal(second.profile.version, first.profile.version);
  assert.deepEqual(second.router.warnings, first.router.warnings);
  for (const text of [
    "I was overcharged on my last bill",
    "my internet has been really slow for days",
    "I'd like to upgrade to a faster plan",
    "what's the weather in Lisbon",
  ]) {
    assert.deepEqual(second.router.classifier?.classify(text), first.router.classifier?.classify(text), text);
  }
  // Turned off: trained afresh, nothing read.
  const off = await loadProfile(TELECOM, { env: { ...env, ARBITER_CACHE_DIR: "off" } });
  t.after(() => off.close());
  assert.equal(off.cache, undefined);
  assert.equal(buildLocalRouter(off).classifier?.stats.cached, undefined);
});
