import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { openVault } from "./vault.ts";
import { createMemoryVaultStore } from "./vault-store/memory/memory-vault-store.ts";
import { createSqliteVaultStore } from "./vault-store/sqlite/sqlite-vault-store.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-vault-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const fileBytes = (path: string): Buffer =>
  Buffer.concat([path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));

describe("vault", () => {
  it("issues stable per-tenant tokens and reveals them", async () => {
    const vault = await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) });
    const a = await vault.tokenFor("acme", "CARD", "4111 1111 1111 1111", "4111111111111111");
    const b = await vault.tokenFor("acme", "CARD", "4111-1111-1111-1111", "4111111111111111");
    const c = await vault.tokenFor("acme", "CARD", "5555555555554444");
    const d = await vault.tokenFor("globex", "CARD", "5555555555554444");
    assert.deepEqual([a, b, c, d], ["<CARD_1>", "<CARD_1>", "<CARD_2>", "<CARD_1>"]);
    assert.deepEqual(await vault.reveal("acme", "<CARD_1>"), { type: "CARD", value: "4111 1111 1111 1111" });
    assert.deepEqual(await vault.reveal("globex", "<CARD_1>"), { type: "CARD", value: "5555555555554444" });
    assert.equal(await vault.reveal("globex", "<CARD_2>"), undefined);
    assert.equal(await vault.reveal("acme", "not a token"), undefined);
  });

  it("encrypts at rest: the raw value never appears in the SQLite file", async () => {
    const path = join(dir, "at-rest.db");
    const secret = "4111111111111111";
    const email = "very.secret.person@example.com";
    const vault = await openVault({ store: createSqliteVaultStore({ path }), key: randomBytes(32) });
    await vault.tokenFor("acme", "CARD", secret);
    await vault.tokenFor("acme", "EMAIL", email);
    await vault.close();
    const bytes = fileBytes(path);
    assert.ok(bytes.length > 0);
    for (const needle of [secret, email, "4111 1111", "very.secret"]) {
      assert.equal(bytes.includes(Buffer.from(needle)), false, needle);
      assert.equal(bytes.includes(Buffer.from(needle, "utf16le")), false, needle);
    }
  });

  it("seals records under its key, bound to tenant and context; they open nowhere else", async () => {
    const key = randomBytes(32);
    const vault = await openVault({ store: createMemoryVaultStore(), key });
    const text = '{"email":"ann@example.com"}';
    const sealed = vault.sealRecord("acme", text, "run_1\u0000tool:t1/lookup#0");
    assert.match(sealed, /^[A-Za-z0-9_-]+$/);
    assert.equal(Buffer.from(sealed, "base64url").includes(Buffer.from("ann@example.com")), false);
    assert.equal(vault.openRecord("acme", sealed, "run_1\u0000tool:t1/lookup#0"), text);
    // Same key after a restart: it opens.
    const again = await openVault({ store: createMemoryVaultStore(), key });
    assert.equal(again.openRecord("acme", sealed, "run_1\u0000tool:t1/lookup#0"), text);
    for (const [tenant, context] of [
      ["globex", "run_1\u0000tool:t1/lookup#0"],
      ["acme", "run_2\u0000tool:t1/lookup#0"],
    ] as const) {
      assert.throws(
        () => vault.openRecord(tenant, sealed, context),
        (e) => ArbiterError.is(e, "invalid-data"),
      );
    }
    const other = await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) });
    assert.throws(() => other.openRecord("acme", sealed, "run_1\u0000tool:t1/lookup#0"), /authentication/);
  });

  it("keeps tokens across a restart with the same key", async () => {
    const path = join(dir, "restart.db");
    const key = randomBytes(32);
    const first = await openVault({ store: createSqliteVaultStore({ path }), key });
    assert.equal(await first.tokenFor("acme", "EMAIL", "a@example.com"), "<EMAIL_1>");
    assert.equal(await first.tokenFor("acme", "EMAIL", "b@example.com"), "<EMAIL_2>");
    await first.close();
    const second = await openVault({ store: createSqliteVaultStore({ path }), key });
    assert.equal(await second.tokenFor("acme", "EMAIL", "b@example.com"), "<EMAIL_2>");
    assert.equal(await second.tokenFor("acme", "EMAIL", "c@example.com"), "<EMAIL_3>");
    assert.deepEqual(await second.reveal("acme", "<EMAIL_1>"), { type: "EMAIL", value: "a@example.com" });
    await second.close();
  });

  it("refuses to open with a wrong key, naming the problem", async () => {
    const path = join(dir, "wrong-key.db");
    const vault = await openVault({ store: createSqliteVaultStore({ path }), key: randomBytes(32) });
    await vault.tokenFor("acme", "CARD", "4111111111111111");
    await vault.close();
    const store = createSqliteVaultStore({ path });
    await assert.rejects(openVault({ store, key: randomBytes(32) }), (e: unknown) => {
      assert.ok(ArbiterError.is(e, "invalid-argument"));
      assert.equal(e.details.reason, "vault-key-mismatch");
      assert.match(e.message, /does not match the key this vault was created with/);
      return true;
    });
    await store.close();
  });

  it("fails loudly, never with garbage, when a record was tampered with or moved", async () => {
    const path = join(dir, "tamper.db");
    const key = randomBytes(32);
    const vault = await openVault({ store: createSqliteVaultStore({ path }), key });
    await vault.tokenFor("acme", "CARD", "4111111111111111");
    await vault.tokenFor("acme", "CARD", "5555555555554444");
    await vault.close();
    const db = new DatabaseSync(path);
    // Flip one ciphertext byte of CARD_1; give CARD_2 the envelope of another record.
    const row = db.prepare("SELECT sealed FROM pii_vault WHERE number = 1").get() as { sealed: Uint8Array };
    const flipped = Buffer.from(row.sealed);
    flipped[flipped.length - 1]! ^= 1;
    db.prepare("UPDATE pii_vault SET sealed = ? WHERE number = 1").run(flipped);
    db.prepare("UPDATE pii_vault SET sealed = ? WHERE number = 2").run(row.sealed);
    db.close();
    const reopened = await openVault({ store: createSqliteVaultStore({ path }), key });
    for (const token of ["<CARD_1>", "<CARD_2>"]) {
      await assert.rejects(
        reopened.reveal("acme", token),
        (e: unknown) => ArbiterError.is(e, "invalid-data") && /failed authentication/.test(e.message),
      );
    }
    await reopened.close();
  });

  it("validates tenant and type", async () => {
    const vault = await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) });
    await assert.rejects(vault.tokenFor("", "CARD", "x"), /tenant must be a non-empty string/);
    await assert.rejects(vault.tokenFor("acme", "card", "x"), /Invalid PII type/);
  });
});
