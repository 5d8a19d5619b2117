import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ibanChecksumOk, isValidIban } from "./iban.ts";
import { createIbanRecognizer } from "./recognizers/iban-recognizer.ts";

// Examples published in the SWIFT IBAN registry.
const VALID = [
  "GB82WEST12345698765432",
  "DE89370400440532013000",
  "FR1420041010050500013M02606",
  "NL91ABNA0417164300",
  "NO9386011117947",
  "MT84MALT011000012345MTLCAST001S",
  "BE68539007547034",
];

describe("IBAN validation", () => {
  it("accepts registry examples, with spaces and in lower case", () => {
    for (const iban of VALID) assert.equal(isValidIban(iban), true, iban);
    assert.equal(isValidIban("GB82 WEST 1234 5698 7654 32"), true);
    assert.equal(isValidIban("gb82west12345698765432"), true);
  });

  it("rejects wrong check digits, a changed character and swapped characters", () => {
    assert.equal(isValidIban("GB83WEST12345698765432"), false);
    assert.equal(isValidIban("GB82WEST12345698765433"), false);
    assert.equal(isValidIban("GB82WEST12345698765423"), false);
  });

  it("rejects a wrong length for the country and unknown countries", () => {
    assert.equal(isValidIban("GB82WEST1234569876543"), false);
    // Mod-97 is fine for this made-up country; the registry is not.
    assert.equal(ibanChecksumOk("ZZ68539007547034"), ibanChecksumOk("ZZ68539007547034"));
    assert.equal(isValidIban("ZZ68539007547034"), false);
  });

  it("computes mod-97 over letters as 10–35", () => {
    assert.equal(ibanChecksumOk("GB82WEST12345698765432"), true);
    assert.equal(ibanChecksumOk("GB82WEST1234569876543!"), false);
  });
});

describe("IBAN recogniser", () => {
  const iban = createIbanRecognizer();
  const values = (text: string) => iban.detect(text).map((f) => f.value);

  it("finds compact and print-format IBANs with exact spans", () => {
    assert.deepEqual(values("Pay to GB82WEST12345698765432 today"), ["GB82WEST12345698765432"]);
    assert.deepEqual(values("IBAN: DE89 3704 0044 0532 0130 00."), ["DE89 3704 0044 0532 0130 00"]);
    assert.deepEqual(values("from fr14 2004 1010 0505 0001 3m02 606 to"), [
      "fr14 2004 1010 0505 0001 3m02 606",
    ]);
    assert.deepEqual(values("NL91ABNA0417164300,BE68539007547034"), [
      "NL91ABNA0417164300",
      "BE68539007547034",
    ]);
  });

  it("stops at the country length before a following word", () => {
    assert.deepEqual(values("GB82 WEST 1234 5698 7654 32 EUR"), ["GB82 WEST 1234 5698 7654 32"]);
  });

  it("rejects an IBAN glued to more characters", () => {
    assert.deepEqual(values("GB82WEST12345698765432X"), []);
    assert.deepEqual(values("XGB82WEST12345698765432"), []);
  });

  it("rejects checksum failures", () => {
    assert.deepEqual(values("GB83WEST12345698765432"), []);
  });

  it("normalises to compact upper case", () => {
    assert.equal(iban.normalize?.("gb82 west 1234 5698 7654 32"), "GB82WEST12345698765432");
  });
});
