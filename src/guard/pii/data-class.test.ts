import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DataClass, dataClassesOf, dataClassOf } from "./data-class.ts";

describe("data classes", () => {
  it("maps cards to PCI, IBANs to BANK and the rest to PII", () => {
    assert.equal(dataClassOf("CARD"), DataClass.Pci);
    assert.equal(dataClassOf("IBAN"), DataClass.Bank);
    for (const type of ["SSN", "EMAIL", "PHONE", "IP", "SOMETHING_NEW"])
      assert.equal(dataClassOf(type), DataClass.Pii);
  });

  it("lists the distinct classes of findings or tokens", () => {
    assert.deepEqual(
      dataClassesOf([{ type: "EMAIL" }, { type: "CARD" }, { type: "PHONE" }, { type: "CARD" }]),
      ["PCI", "PII"],
    );
    assert.deepEqual(dataClassesOf([]), []);
  });
});
