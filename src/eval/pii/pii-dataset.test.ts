import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { loadPiiDataset, parsePiiDataset } from "./pii-dataset.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-pii-dataset-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  full_text: "mail a@b.co now",
  spans: [{ entity_type: "EMAIL_ADDRESS", entity_value: "a@b.co", start_position: 5, end_position: 11 }],
};

describe("PII dataset", () => {
  it("reads the Presidio layout", () => {
    const dataset = parsePiiDataset([good, { full_text: "nothing", spans: [] }], "x.json");
    assert.deepEqual(dataset.samples[0], {
      text: "mail a@b.co now",
      spans: [{ entityType: "EMAIL_ADDRESS", start: 5, end: 11, value: "a@b.co" }],
    });
    assert.equal(dataset.valueMismatches, 0);
  });

  it("trusts positions over a differing entity_value, and counts it", () => {
    const odd = { ...good, spans: [{ ...good.spans[0], entity_value: "A@B.CO" }] };
    const dataset = parsePiiDataset([odd], "x.json");
    assert.equal(dataset.samples[0]!.spans[0]!.value, "a@b.co");
    assert.equal(dataset.valueMismatches, 1);
  });

  it("names the file and the first bad entry", () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ rows: [] }, /bad\.json: the top level is not an array/],
      [[good, { text: "x", spans: [] }], /bad\.json: entry 1 has no string "full_text"/],
      [[good, good, { full_text: "x" }], /bad\.json: entry 2 has no "spans" array/],
      [[{ ...good, spans: [good.spans[0], { entity_type: "X" }] }], /entry 0, span 1 has no integer/],
      [
        [{ ...good, spans: [{ ...good.spans[0], end_position: 99 }] }],
        /entry 0, span 0 has positions \[5, 99\) outside its text of 15 characters/,
      ],
    ];
    for (const [raw, message] of cases) {
      assert.throws(
        () => parsePiiDataset(raw, "bad.json"),
        (e: unknown) =>
          ArbiterError.is(e, "invalid-data") && message.test(e.message) && e.details.file === "bad.json",
      );
    }
  });

  it("reports unreadable and non-JSON files by path", () => {
    const path = join(dir, "broken.json");
    writeFileSync(path, "[{");
    assert.throws(
      () => loadPiiDataset(path),
      (e: unknown) => ArbiterError.is(e, "invalid-data") && e.message.startsWith(path),
    );
    assert.throws(
      () => loadPiiDataset(join(dir, "missing.json")),
      /Cannot read the PII dataset .*missing\.json/,
    );
  });
});
