import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { companionFiles } from "./companion-files.ts";

describe("companionFiles", () => {
  const root = mkdtempSync(join(tmpdir(), "arbiter-companions-"));
  const cwd = join(root, "work");
  const data = join(root, "data");
  mkdirSync(cwd);
  mkdirSync(data);

  test("the vault and both keys sit beside the database, whatever the working directory", () => {
    const files = companionFiles(join(data, "arbiter.db"), { env: {}, cwd });
    assert.deepEqual(
      { vault: files.vault, vaultKeyFile: files.vaultKeyFile, auditKeyFile: files.auditKeyFile },
      {
        vault: join(data, "pii-vault.db"),
        vaultKeyFile: join(data, "vault.key"),
        auditKeyFile: join(data, "audit-key.pem"),
      },
    );
    assert.deepEqual(files.notes, {});
    // A relative --db is taken against the working directory; the default is .arbiter/ as before.
    assert.equal(companionFiles("db/x.db", { env: {}, cwd }).vault, join(cwd, "db", "pii-vault.db"));
    assert.equal(
      companionFiles("./.arbiter/arbiter.db", { env: {}, cwd }).auditKeyFile,
      join(cwd, ".arbiter", "audit-key.pem"),
    );
  });

  test("their variables win (relative to the working directory)", () => {
    const env = {
      ARBITER_VAULT: "v/vault.db",
      ARBITER_VAULT_KEY_FILE: "/keys/vault.key",
      ARBITER_AUDIT_KEY_FILE: "audit.pem",
    };
    const files = companionFiles(join(data, "arbiter.db"), { env, cwd });
    assert.equal(files.vault, join(cwd, "v/vault.db"));
    assert.equal(files.vaultKeyFile, "/keys/vault.key");
    assert.equal(files.auditKeyFile, join(cwd, "audit.pem"));
    // Blank counts as unset.
    assert.equal(
      companionFiles(join(data, "arbiter.db"), { env: { ARBITER_VAULT: " " }, cwd }).vault,
      join(data, "pii-vault.db"),
    );
  });

  test("an older database whose files are under the working directory's .arbiter/ keeps them, with a note", () => {
    const old = join(root, "old");
    mkdirSync(join(old, ".arbiter"), { recursive: true });
    writeFileSync(join(old, ".arbiter", "vault.key"), "k");
    writeFileSync(join(old, ".arbiter", "audit-key.pem"), "k");
    const other = join(root, "other");
    mkdirSync(other);
    const dbPath = join(other, "arbiter.db");
    const files = companionFiles(dbPath, { env: {}, cwd: old, databaseExisted: true });
    assert.equal(files.vaultKeyFile, join(old, ".arbiter", "vault.key"));
    assert.equal(files.auditKeyFile, join(old, ".arbiter", "audit-key.pem"));
    assert.equal(files.vault, join(other, "pii-vault.db"), "no old vault there: beside the database");
    assert.match(
      files.notes.vaultKeyFile ?? "",
      /move it to .*other\/vault\.key, or set ARBITER_VAULT_KEY_FILE=/,
    );
    assert.equal(files.notes.vault, undefined);
    // A new database starts beside itself, whatever the working directory holds.
    const fresh = companionFiles(dbPath, { env: {}, cwd: old, databaseExisted: false });
    assert.equal(fresh.vaultKeyFile, join(other, "vault.key"));
    assert.deepEqual(fresh.notes, {});
    // Once the file is beside the database, that one is used.
    writeFileSync(join(other, "vault.key"), "k");
    assert.equal(
      companionFiles(dbPath, { env: {}, cwd: old, databaseExisted: true }).vaultKeyFile,
      join(other, "vault.key"),
    );
    // The key itself in ARBITER_VAULT_KEY: no key file is read, so nothing to say about one.
    const keyed = companionFiles(join(root, "third.db"), {
      env: { ARBITER_VAULT_KEY: "x" },
      cwd: old,
      databaseExisted: true,
    });
    assert.equal(keyed.notes.vaultKeyFile, undefined);
  });

  test("an in-memory database keeps the working directory's .arbiter/", () => {
    assert.equal(companionFiles(":memory:", { env: {}, cwd }).vault, join(cwd, ".arbiter", "pii-vault.db"));
  });
});
