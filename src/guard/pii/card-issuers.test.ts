import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cardIssuerOf } from "./card-issuers.ts";

const pad = (prefix: string, length: number): string => prefix + "0".repeat(length - prefix.length);

describe("cardIssuerOf", () => {
  const cases: Array<[prefix: string, length: number, issuer: string | undefined]> = [
    ["4", 13, "visa"],
    ["4", 16, "visa"],
    ["4", 19, "visa"],
    ["4", 15, undefined],
    ["51", 16, "mastercard"],
    ["55", 16, "mastercard"],
    ["2221", 16, "mastercard"],
    ["2720", 16, "mastercard"],
    ["2220", 16, undefined],
    ["2721", 16, undefined],
    ["55", 15, undefined],
    ["34", 15, "amex"],
    ["37", 15, "amex"],
    ["37", 16, undefined],
    ["6011", 16, "discover"],
    ["644", 16, "discover"],
    ["649", 19, "discover"],
    ["65", 16, "discover"],
    ["622126", 16, "discover"],
    ["622925", 16, "discover"],
    ["622125", 16, "unionpay"],
    ["62", 19, "unionpay"],
    ["3528", 16, "jcb"],
    ["3589", 19, "jcb"],
    ["3527", 16, undefined],
    ["3590", 16, undefined],
    ["1800", 15, "jcb"],
    ["2131", 15, "jcb"],
    ["300", 14, "diners"],
    ["305", 14, "diners"],
    ["306", 14, undefined],
    ["3095", 14, "diners"],
    ["36", 14, "diners"],
    ["38", 16, "diners"],
    ["2200", 16, "mir"],
    ["5018", 12, "maestro"],
    ["6759", 19, "maestro"],
    ["0604", 12, "maestro"],
    ["56", 16, "maestro"],
    ["6011", 12, "maestro"],
    ["4", 12, undefined],
    ["7", 16, undefined],
  ];
  for (const [prefix, length, issuer] of cases) {
    it(`${prefix}… (${length} digits) → ${issuer ?? "none"}`, () => {
      assert.equal(cardIssuerOf(pad(prefix, length)), issuer);
    });
  }
});
