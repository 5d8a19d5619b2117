import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { dataClassesOf } from "./data-class.ts";
import { createRecognizerRegistry } from "./recognizer-registry.ts";
import { createTokenizer } from "./tokenizer.ts";
import { openVault } from "./vault.ts";
import { createMemoryVaultStore } from "./vault-store/memory/memory-vault-store.ts";
import { createSqliteVaultStore } from "./vault-store/sqlite/sqlite-vault-store.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-tokenizer-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const registry = createRecognizerRegistry();
const memoryTokenizer = async () =>
  createTokenizer({
    registry,
    vault: await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) }),
  });

describe("tokenizer", () => {
  it("replaces values with typed tokens and reports findings without the values", async () => {
    const tokenizer = await memoryTokenizer();
    const input = "Card 4111 1111 1111 1111, mail jane@example.com, IBAN GB82WEST12345698765432.";
    const result = await tokenizer.tokenize(input, { tenant: "acme" });
    assert.equal(result.text, "Card <CARD_1>, mail <EMAIL_1>, IBAN <IBAN_1>.");
    assert.deepEqual(result.tokens, ["<CARD_1>", "<EMAIL_1>", "<IBAN_1>"]);
    assert.deepEqual(result.findings[0], { type: "CARD", start: 5, end: 24, score: 1, token: "<CARD_1>" });
    assert.equal(JSON.stringify(result).includes("jane@example.com"), false);
    assert.deepEqual(dataClassesOf(result.findings), ["BANK", "PCI", "PII"]);
  });

  it("gives the same value the same token across calls and spellings, others the next number", async () => {
    const tokenizer = await memoryTokenizer();
    const a = await tokenizer.tokenize("a@x.com and b@x.com", { tenant: "acme" });
    const b = await tokenizer.tokenize("B@X.com, then c@x.com, then a@x.com", { tenant: "acme" });
    assert.equal(a.text, "<EMAIL_1> and <EMAIL_2>");
    assert.equal(b.text, "<EMAIL_2>, then <EMAIL_3>, then <EMAIL_1>");
    const cards = await tokenizer.tokenize("4111111111111111 = 4111-1111-1111-1111", { tenant: "acme" });
    assert.equal(cards.text, "<CARD_1> = <CARD_1>");
    assert.deepEqual(cards.tokens, ["<CARD_1>"]);
    const phones = await tokenizer.tokenize("call +1 212 456 7890 or (212) 456-7890", { tenant: "acme" });
    assert.equal(phones.text, "call <PHONE_1> or <PHONE_1>");
  });

  it("numbers tokens per tenant", async () => {
    const tokenizer = await memoryTokenizer();
    await tokenizer.tokenize("a@x.com", { tenant: "acme" });
    const other = await tokenizer.tokenize("z@x.com", { tenant: "globex" });
    assert.equal(other.text, "<EMAIL_1>");
    assert.equal(await tokenizer.detokenize("<EMAIL_1>", { tenant: "acme" }), "a@x.com");
    assert.equal(await tokenizer.detokenize("<EMAIL_1>", { tenant: "globex" }), "z@x.com");
  });

  it("returns text without PII unchanged", async () => {
    const tokenizer = await memoryTokenizer();
    const text = "Please upgrade my plan to the 500 Mbit/s tier from next month.";
    assert.deepEqual(await tokenizer.tokenize(text, { tenant: "acme" }), { text, findings: [], tokens: [] });
  });

  it("is idempotent: tokenised text tokenises to itself", async () => {
    const tokenizer = await memoryTokenizer();
    const once = await tokenizer.tokenize("SSN 536-22-8726, phone +44 20 7946 0958", { tenant: "acme" });
    const twice = await tokenizer.tokenize(once.text, { tenant: "acme" });
    assert.equal(twice.text, once.text);
    assert.deepEqual(twice.findings, []);
  });

  it("detokenises only permitted types and listed tokens, leaving others in place", async () => {
    const tokenizer = await memoryTokenizer();
    const { text, tokens } = await tokenizer.tokenize("card 4111111111111111, mail jane@example.com", {
      tenant: "acme",
    });
    assert.equal(
      await tokenizer.detokenize(text, { tenant: "acme" }),
      "card 4111111111111111, mail jane@example.com",
    );
    assert.equal(
      await tokenizer.detokenize(text, { tenant: "acme", allow: (type) => type !== "CARD" }),
      "card <CARD_1>, mail jane@example.com",
    );
    await tokenizer.tokenize("other customer other@example.com", { tenant: "acme" });
    assert.equal(
      await tokenizer.detokenize("<EMAIL_1> <EMAIL_2> <PHONE_9>", { tenant: "acme", tokens }),
      "jane@example.com <EMAIL_2> <PHONE_9>",
    );
  });

  it("tokenises and restores JSON values deeply: strings, keys and numeric card numbers", async () => {
    const tokenizer = await memoryTokenizer();
    const args = {
      customer: { email: "jane@example.com", phones: ["+44 20 7946 0958", "n/a"] },
      amount: 80,
      card: 4111111111111111,
      notes: [{ "jane@example.com": true }, null, "IBAN GB82WEST12345698765432"],
    };
    const { value, tokens, findings } = await tokenizer.tokenizeValue(args, { tenant: "acme" });
    assert.deepEqual(value, {
      customer: { email: "<EMAIL_1>", phones: ["<PHONE_1>", "n/a"] },
      amount: 80,
      card: "<CARD_1>",
      notes: [{ "<EMAIL_1>": true }, null, "IBAN <IBAN_1>"],
    });
    assert.deepEqual(tokens, ["<EMAIL_1>", "<PHONE_1>", "<CARD_1>", "<IBAN_1>"]);
    assert.deepEqual(findings[0]?.path, ["customer", "email"]);
    assert.deepEqual(findings[1]?.path, ["customer", "phones", 0]);
    assert.ok(findings.some((f) => f.inKey === true));
    assert.equal(JSON.stringify({ value, findings }).includes("jane"), false);
    const restored = await tokenizer.detokenizeValue(value, { tenant: "acme" });
    assert.deepEqual(restored, { ...args, card: "4111111111111111" });
  });

  it("hands back a value with no PII as it is, and scans repeated text once", async () => {
    let scans = 0;
    const counting = {
      ...registry,
      detect: (text: string, options?: { minScore?: number }) => {
        scans++;
        return registry.detect(text, options);
      },
    };
    const tokenizer = createTokenizer({
      registry: counting,
      vault: await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) }),
    });
    const prompt = [{ role: "user", content: [{ type: "text", text: "my line is slow since Monday" }] }];
    const first = await tokenizer.tokenizeValue(prompt, { tenant: "acme" });
    assert.equal(first.value, prompt, "no copy when nothing is replaced");
    assert.deepEqual(first.findings, []);
    const afterFirst = scans;
    await tokenizer.tokenizeValue(prompt, { tenant: "acme" });
    assert.equal(scans, afterFirst, "the same strings are not scanned again");
    // A value that gains PII is still caught, next to text seen before.
    const withEmail = [
      ...prompt,
      { role: "user", content: [{ type: "text", text: "mail jane@example.com" }] },
    ];
    const { value } = await tokenizer.tokenizeValue(withEmail, { tenant: "acme" });
    assert.equal(JSON.stringify(value).includes("jane@"), false);
    // A stricter threshold is never answered from the cache.
    const strict = await tokenizer.tokenizeValue(prompt, { tenant: "acme", minScore: 0.1 });
    assert.ok(scans > afterFirst + 2);
    assert.deepEqual(strict.value, prompt);
  });

  it("refuses cyclic values", async () => {
    const tokenizer = await memoryTokenizer();
    const cyclic: Record<string, unknown> = { a: "x" };
    cyclic.self = cyclic;
    await assert.rejects(tokenizer.tokenizeValue(cyclic, { tenant: "acme" }), /cyclic/);
  });

  it("keeps tokens stable across process restarts with a persisted vault", async () => {
    const path = join(dir, "restart.db");
    const key = randomBytes(32);
    const firstVault = await openVault({ store: createSqliteVaultStore({ path }), key });
    const first = createTokenizer({ registry, vault: firstVault });
    const a = await first.tokenize("cards 4111111111111111 and 5555555555554444", { tenant: "acme" });
    assert.equal(a.text, "cards <CARD_1> and <CARD_2>");
    await firstVault.close();
    // A fresh registry, vault and store, as after a restart.
    const secondVault = await openVault({ store: createSqliteVaultStore({ path }), key });
    const second = createTokenizer({ registry: createRecognizerRegistry(), vault: secondVault });
    const b = await second.tokenize("again 5555 5555 5555 4444, new 378282246310005", { tenant: "acme" });
    assert.equal(b.text, "again <CARD_2>, new <CARD_3>");
    assert.equal(await second.detokenize("<CARD_1>", { tenant: "acme" }), "4111111111111111");
    await secondVault.close();
  });
});
