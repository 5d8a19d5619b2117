import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSsnRecognizer, isValidSsn } from "./ssn-recognizer.ts";

describe("isValidSsn", () => {
  it("accepts areas 001–899 except 666, including post-2011 randomised areas", () => {
    for (const ssn of ["001010001", "123450001", "665991234", "667011234", "772221234", "899999999"]) {
      assert.equal(isValidSsn(ssn), true, ssn);
    }
  });

  it("rejects area 000, 666 and 9xx, group 00, serial 0000", () => {
    for (const ssn of ["000121234", "666121234", "900121234", "987654321", "123001234", "123450000"]) {
      assert.equal(isValidSsn(ssn), false, ssn);
    }
  });

  it("rejects published example numbers and repeated digits", () => {
    for (const ssn of ["078051120", "219099999", "123456789", "111111111"])
      assert.equal(isValidSsn(ssn), false, ssn);
  });
});

describe("SSN recogniser", () => {
  const ssn = createSsnRecognizer();
  const reported = (text: string) =>
    ssn
      .detect(text)
      .filter((f) => f.score >= 0.5)
      .map((f) => f.value);

  it("reports dashed SSNs on their own", () => {
    assert.deepEqual(reported("Employee 536-22-8726 joined"), ["536-22-8726"]);
  });

  it("reports spaced and unformatted SSNs only with SSN context", () => {
    assert.deepEqual(reported("ref 536 22 8726"), []);
    assert.deepEqual(reported("ref 536228726"), []);
    assert.deepEqual(reported("my SSN is 536 22 8726"), ["536 22 8726"]);
    assert.deepEqual(reported("Social Security Number: 536228726"), ["536228726"]);
  });

  it("lowers the score in phone or routing context", () => {
    assert.deepEqual(reported("routing number 536-22-8726"), []);
  });

  it("rejects invalid structures and mixed separators", () => {
    assert.deepEqual(reported("SSN 666-22-8726"), []);
    assert.deepEqual(reported("SSN 536-00-8726"), []);
    assert.deepEqual(reported("SSN 536-22-0000"), []);
    assert.deepEqual(reported("SSN 936-22-8726"), []);
    assert.deepEqual(reported("SSN 536-22 8726"), []);
  });

  it("does not match inside longer numbers", () => {
    assert.deepEqual(reported("SSN 1536-22-8726"), []);
    assert.deepEqual(reported("SSN 536-22-87260"), []);
    assert.deepEqual(reported("SSN 536-22-8726-1"), []);
  });
});
