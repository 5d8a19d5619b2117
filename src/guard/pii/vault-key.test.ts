import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { parseVaultKey, resolveVaultKey } from "./vault-key.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-vault-key-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("vault key", () => {
  const raw = randomBytes(32);

  it("a key file it cannot read is an input error naming the file and what to do", () => {
    const unreadable = join(dir, "not-a-file");
    mkdirSync(unreadable, { mode: 0o700 });
    assert.throws(
      () => resolveVaultKey({ keyFile: unreadable, env: {} }),
      (e: unknown) =>
        ArbiterError.is(e, "invalid-argument") &&
        e.message.includes(`Cannot read the PII vault key file ${unreadable} (EISDIR)`) &&
        e.message.includes("ARBITER_VAULT_KEY"),
    );
  });

  it("a key file it cannot create is an input error naming the file and what to do", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const keyFile = join(file, "vault.key"); // its folder is a file (a read-only folder does the same)
    assert.throws(
      () => resolveVaultKey({ keyFile, env: {} }),
      (e: unknown) =>
        ArbiterError.is(e, "invalid-argument") &&
        e.message.includes(`cannot create the PII vault key ${keyFile} (`) &&
        e.message.includes("ARBITER_VAULT_KEY"),
    );
  });

  it("parses 32 bytes as hex, base64 and base64url", () => {
    assert.deepEqual(Buffer.from(parseVaultKey(raw.toString("hex"), "test")), raw);
    assert.deepEqual(Buffer.from(parseVaultKey(raw.toString("base64"), "test")), raw);
    assert.deepEqual(Buffer.from(parseVaultKey(` ${raw.toString("base64url")}\n`, "test")), raw);
  });

  it("rejects other lengths with an error naming the source, not the key", () => {
    const short = randomBytes(16).toString("base64");
    assert.throws(
      () => parseVaultKey(short, "ARBITER_VAULT_KEY"),
      (e: unknown) =>
        ArbiterError.is(e, "invalid-argument") &&
        e.message.includes("ARBITER_VAULT_KEY") &&
        !e.message.includes(short),
    );
  });

  it("prefers the option, then the environment variable", () => {
    const fromOption = resolveVaultKey({ key: raw.toString("hex"), env: { ARBITER_VAULT_KEY: "junk" } });
    assert.equal(fromOption.source, "option");
    const fromEnv = resolveVaultKey({ env: { ARBITER_VAULT_KEY: raw.toString("base64") } });
    assert.deepEqual([Buffer.from(fromEnv.key), fromEnv.source], [raw, "ARBITER_VAULT_KEY"]);
  });

  it("generates a key file with mode 0600 on first run and reads it afterwards", () => {
    const keyFile = join(dir, "nested", "vault.key");
    const first = resolveVaultKey({ keyFile, env: {} });
    assert.equal(first.generated, true);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const second = resolveVaultKey({ env: { ARBITER_VAULT_KEY_FILE: keyFile } });
    assert.equal(second.generated, false);
    assert.deepEqual(Buffer.from(second.key), Buffer.from(first.key));
    assert.equal(readFileSync(keyFile, "utf8").trim(), Buffer.from(first.key).toString("base64"));
  });

  it("refuses a key file readable by others, and a missing one when generation is off", () => {
    const keyFile = join(dir, "open.key");
    writeFileSync(keyFile, raw.toString("base64"));
    chmodSync(keyFile, 0o644);
    assert.throws(() => resolveVaultKey({ keyFile, env: {} }), /chmod 600/);
    assert.throws(
      () => resolveVaultKey({ keyFile: join(dir, "missing.key"), generate: false, env: {} }),
      (e: unknown) => ArbiterError.is(e, "missing-credentials"),
    );
  });
});
