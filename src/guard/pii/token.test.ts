import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findTokens, formatToken, parseToken } from "./token.ts";

describe("tokens", () => {
  it("formats and parses typed tokens, including types with underscores", () => {
    assert.equal(formatToken("CARD", 1), "<CARD_1>");
    assert.deepEqual(parseToken("<US_PASSPORT_12>"), {
      token: "<US_PASSPORT_12>",
      type: "US_PASSPORT",
      number: 12,
    });
    for (const bad of ["<CARD_0>", "<CARD_01>", "<card_1>", "CARD_1", "<CARD_>", "<_1>"]) {
      assert.equal(parseToken(bad), undefined, bad);
    }
  });

  it("finds tokens with their spans", () => {
    const text = "pay <CARD_1> from <IBAN_2>, not <card_3>";
    assert.deepEqual(
      findTokens(text).map((t) => [t.token, text.slice(t.start, t.end)]),
      [
        ["<CARD_1>", "<CARD_1>"],
        ["<IBAN_2>", "<IBAN_2>"],
      ],
    );
  });
});
