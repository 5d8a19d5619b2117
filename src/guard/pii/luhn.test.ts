import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLuhnValid } from "./luhn.ts";

describe("isLuhnValid", () => {
  it("accepts valid numbers of any length", () => {
    for (const n of [
      "79927398713",
      "4111111111111111",
      "378282246310005",
      "6011111111111117",
      "18",
      "0000000000000000",
    ]) {
      assert.equal(isLuhnValid(n), true, n);
    }
  });

  it("rejects a single changed digit and transposed neighbours", () => {
    assert.equal(isLuhnValid("79927398710"), false);
    assert.equal(isLuhnValid("4111111111111112"), false);
    assert.equal(isLuhnValid("4111111111111121"), false);
  });

  it("handles doubled digits above 4 (digit sum, not the product)", () => {
    // 5 doubled is 10 → 1; 9 doubled is 18 → 9.
    assert.equal(isLuhnValid("59"), true);
    assert.equal(isLuhnValid("91"), true);
    assert.equal(isLuhnValid("95"), false);
  });

  it("rejects non-digits, separators and too-short input", () => {
    assert.equal(isLuhnValid(""), false);
    assert.equal(isLuhnValid("0"), false);
    assert.equal(isLuhnValid("4111 1111 1111 1111"), false);
    assert.equal(isLuhnValid("411111111111111a"), false);
    assert.equal(isLuhnValid("４１１１"), false);
  });
});
