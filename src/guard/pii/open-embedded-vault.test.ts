import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openEmbeddedVault } from "./open-embedded-vault.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-embedded-vault-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("openEmbeddedVault", () => {
  it("generates its key on first run and reopens the same vault with it", async () => {
    const options = { path: join(dir, "vault.db"), keyFile: join(dir, "vault.key"), env: {} };
    const first = await openEmbeddedVault(options);
    assert.equal(first.keyGenerated, true);
    assert.equal(await first.tokenFor("acme", "EMAIL", "a@example.com"), "<EMAIL_1>");
    await first.close();
    const second = await openEmbeddedVault(options);
    assert.equal(second.keyGenerated, false);
    assert.equal(second.keySource, options.keyFile);
    assert.deepEqual(await second.reveal("acme", "<EMAIL_1>"), { type: "EMAIL", value: "a@example.com" });
    await second.close();
  });

  it("fails with the key-mismatch error when the key file was replaced", async () => {
    const path = join(dir, "other.db");
    const first = await openEmbeddedVault({ path, keyFile: join(dir, "k1.key"), env: {} });
    await first.close();
    writeFileSync(join(dir, "k2.key"), `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    await assert.rejects(
      openEmbeddedVault({ path, keyFile: join(dir, "k2.key"), env: {} }),
      /does not match the key this vault was created with/,
    );
  });

  it("never makes a new key for a vault already on disk: it says the key is missing", async () => {
    const path = join(dir, "lost.db");
    const keyFile = join(dir, "lost.key");
    const first = await openEmbeddedVault({ path, keyFile, env: {} });
    await first.close();
    rmSync(keyFile);
    await assert.rejects(
      openEmbeddedVault({ path, keyFile, env: {} }),
      (error: Error) =>
        /the PII vault .*lost\.db exists but its key is not found/.test(error.message) &&
        /Restore the key it was made with/.test(error.message),
    );
    assert.equal(existsSync(keyFile), false, "no new key left behind");
  });
});
