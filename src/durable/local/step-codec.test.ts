import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeStepValue, encodeStepValue } from "./step-codec.ts";

/** The encoder as first written (a JSON.stringify replacer): records must stay byte-identical to it. */
function referenceEncode(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, member: unknown) {
    const raw = this[key];
    if (raw instanceof Date)
      return { $arbiter: "date", value: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
    if (raw instanceof Uint8Array) return { $arbiter: "bytes", value: Buffer.from(raw).toString("base64") };
    return member;
  });
}

class Point {
  readonly x: number;
  readonly at: Date;
  constructor(x: number, at: Date) {
    this.x = x;
    this.at = at;
  }
}

const at = new Date("2026-11-21T10:00:00.000Z");
const samples: unknown[] = [
  null,
  0,
  "text",
  [1, undefined, 3],
  Array.from({ length: 3 }),
  at,
  new Date(Number.NaN),
  new Uint8Array([1, 2, 3]),
  Buffer.from("hi"),
  { a: 1, b: undefined, c: () => 1, d: Number.NaN, e: Number.POSITIVE_INFINITY },
  { response: { id: "r1", timestamp: at, modelId: "m" }, content: [{ type: "text", text: "hello" }] },
  [{ when: at }, [new Uint8Array([9])], "x"],
  new Point(1, at),
  new Map([["k", at]]),
  { toJSON: () => ({ replaced: true }) },
  { nested: { deeper: { bytes: Buffer.from([0, 255]), list: [at, at] } } },
];

test("encodes like the replacer it replaced, byte for byte", () => {
  for (const value of samples) assert.equal(encodeStepValue(value), referenceEncode(value), String(value));
  assert.equal(encodeStepValue(undefined), null);
});

test("dates and bytes come back as dates and bytes; the value encoded is not changed", () => {
  const value = { response: { timestamp: at }, data: new Uint8Array([1, 2]), list: [at] };
  const decoded = decodeStepValue(encodeStepValue(value)) as typeof value;
  assert.ok(decoded.response.timestamp instanceof Date);
  assert.equal(decoded.response.timestamp.getTime(), at.getTime());
  assert.deepEqual([...decoded.data], [1, 2]);
  assert.ok(decoded.list[0] instanceof Date);
  assert.ok(value.response.timestamp instanceof Date, "the caller's object keeps its Date");
  assert.equal(decodeStepValue(null), undefined);
});

test("a cycle cannot be recorded; shared (non-cyclic) objects can", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.throws(() => encodeStepValue(cyclic), TypeError);
  const shared = { at };
  assert.equal(encodeStepValue({ x: shared, y: shared }), referenceEncode({ x: shared, y: shared }));
});
