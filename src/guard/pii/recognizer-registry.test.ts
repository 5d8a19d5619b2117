import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import type { Finding, Recognizer } from "./finding.ts";
import { createRecognizerRegistry } from "./recognizer-registry.ts";
import { resolveOverlaps } from "./resolve-overlaps.ts";

const employeeIds: Recognizer = {
  type: "EMPLOYEE_ID",
  dataClass: "HR",
  detect: (text) =>
    [...text.matchAll(/\bEMP-\d{6}\b/g)].map((m) => ({
      type: "EMPLOYEE_ID",
      start: m.index,
      end: m.index + m[0].length,
      score: 0.9,
      value: m[0],
    })),
};

const f = (type: string, start: number, end: number, score: number): Finding => ({
  type,
  start,
  end,
  score,
  value: "x".repeat(end - start),
});

describe("resolveOverlaps", () => {
  it("keeps the higher score, then the longer span, and sorts by start", () => {
    const kept = resolveOverlaps([
      f("B", 20, 30, 0.5),
      f("A", 0, 10, 0.6),
      f("C", 5, 12, 0.9),
      f("D", 21, 35, 0.5),
    ]);
    assert.deepEqual(
      kept.map((k) => k.type),
      ["C", "D"],
    );
  });

  it("keeps adjacent findings", () => {
    assert.equal(resolveOverlaps([f("A", 0, 5, 0.5), f("B", 5, 9, 0.5)]).length, 2);
  });
});

describe("recogniser registry", () => {
  it("detects every built-in type in one text, without overlaps", () => {
    const registry = createRecognizerRegistry();
    const text =
      "Card 4111 1111 1111 1111, IBAN GB82WEST12345698765432, SSN 536-22-8726, " +
      "mail jane@example.com, call +44 20 7946 0958, from 203.0.113.7";
    assert.deepEqual(
      registry.detect(text).map((x) => [x.type, x.value]),
      [
        ["CARD", "4111 1111 1111 1111"],
        ["IBAN", "GB82WEST12345698765432"],
        ["SSN", "536-22-8726"],
        ["EMAIL", "jane@example.com"],
        ["PHONE", "+44 20 7946 0958"],
        ["IP", "203.0.113.7"],
      ],
    );
  });

  it("lets a card win over the phone-shaped reading of the same digits", () => {
    const registry = createRecognizerRegistry();
    assert.deepEqual(
      registry.detect("call 4111 1111 1111 1111").map((x) => x.type),
      ["CARD"],
    );
  });

  it("registers custom recognisers per instance, not globally", () => {
    const a = createRecognizerRegistry();
    const b = createRecognizerRegistry();
    a.registerRecognizer(employeeIds);
    assert.deepEqual(
      a.detect("badge EMP-123456").map((x) => x.value),
      ["EMP-123456"],
    );
    assert.deepEqual(b.detect("badge EMP-123456"), []);
    assert.equal(a.dataClassOf("EMPLOYEE_ID"), "HR");
    assert.ok(a.types().includes("EMPLOYEE_ID"));
    assert.equal(a.unregisterRecognizer("EMPLOYEE_ID"), 1);
    assert.deepEqual(a.detect("badge EMP-123456"), []);
  });

  it("applies the threshold per registry and per call", () => {
    const registry = createRecognizerRegistry({ builtins: false, minScore: 0.95 });
    registry.registerRecognizer(employeeIds);
    assert.deepEqual(registry.detect("EMP-123456"), []);
    assert.equal(registry.detect("EMP-123456", { minScore: 0.5 }).length, 1);
  });

  it("rejects recognisers whose type cannot be a token label", () => {
    const registry = createRecognizerRegistry({ builtins: false });
    for (const type of ["employee id", "", "1ABC", "emp"]) {
      assert.throws(
        () => registry.registerRecognizer({ type, detect: () => [] }),
        (e: unknown) => ArbiterError.is(e, "invalid-argument") && /token label/.test(e.message),
      );
    }
    assert.throws(() => createRecognizerRegistry({ minScore: 2 }), /minScore must be a number in \[0, 1\]/);
  });

  it("uses each recogniser's normaliser", () => {
    const registry = createRecognizerRegistry();
    assert.equal(registry.normalize("CARD", "4111-1111-1111-1111"), "4111111111111111");
    assert.equal(registry.normalize("UNKNOWN", "As Is"), "As Is");
  });
});
