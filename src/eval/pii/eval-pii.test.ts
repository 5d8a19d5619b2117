import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { createRecognizerRegistry } from "../../guard/pii/recognizer-registry.ts";
import { evalPii } from "./eval-pii.ts";
import { formatPiiReport } from "./format-pii-report.ts";
import type { PiiSample } from "./pii-dataset.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-eval-pii-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const sample = (text: string, spans: Array<[label: string, value: string]>): PiiSample => ({
  text,
  spans: spans.map(([entityType, value]) => {
    const start = text.indexOf(value);
    return { entityType, start, end: start + value.length, value };
  }),
});

const data: PiiSample[] = [
  sample("My card 4111 1111 1111 1111 was charged", [["CREDIT_CARD", "4111 1111 1111 1111"]]),
  sample("Mail jane@example.com or call 212-456-7890", [
    ["EMAIL_ADDRESS", "jane@example.com"],
    ["PHONE_NUMBER", "212-456-7890"],
  ]),
  // A phone number the recognisers miss (no context, not valid in the US) → one leak.
  sample("They are not answering at 78 651 450", [["PHONE_NUMBER", "78 651 450"]]),
  // An SSN-shaped value nobody labelled → one false positive; PERSON is not scored.
  sample("Ref 536-22-8726 for John", [["PERSON", "John"]]),
];

describe("evalPii", () => {
  it("computes precision, recall, F2, exact matches and leaks per supported type", async () => {
    const progress: number[] = [];
    let clock = 0;
    const report = await evalPii({
      data,
      onProgress: ({ done }) => progress.push(done),
      now: () => (clock += 10),
    });
    const by = Object.fromEntries(report.types.map((m) => [m.type, m]));
    assert.deepEqual(Object.keys(by), ["CARD", "IBAN", "SSN", "EMAIL", "PHONE", "IP"]);
    assert.deepEqual(
      [by.CARD!.support, by.CARD!.precision, by.CARD!.recall, by.CARD!.f2, by.CARD!.exact],
      [1, 1, 1, 1, 1],
    );
    assert.deepEqual(
      [by.PHONE!.support, by.PHONE!.predicted, by.PHONE!.recall, by.PHONE!.leaked],
      [2, 1, 0.5, 1],
    );
    assert.ok(Math.abs(by.PHONE!.f2! - (5 * 1 * 0.5) / (4 * 1 + 0.5)) < 1e-12);
    assert.deepEqual(
      [by.SSN!.support, by.SSN!.predicted, by.SSN!.precision, by.SSN!.recall],
      [0, 1, 0, null],
    );
    assert.deepEqual([by.IBAN!.precision, by.IBAN!.recall, by.IBAN!.f2], [null, null, null]);
    assert.equal(report.leaked, 1);
    assert.equal(report.samples, 4);
    assert.equal(report.durationMs, 10);
    assert.deepEqual(progress, [4]);
  });

  it("matches by overlap covering half the gold span, not by any overlap", async () => {
    const registry = createRecognizerRegistry({ builtins: false });
    registry.registerRecognizer({
      type: "EMAIL",
      detect: (text) => [{ type: "EMAIL", start: 0, end: 3, score: 1, value: text.slice(0, 3) }],
    });
    const report = await evalPii({
      data: [
        sample("abcdefgh", [["EMAIL_ADDRESS", "abcdefgh"]]),
        sample("abcd", [["EMAIL_ADDRESS", "abcd"]]),
      ],
      registry,
    });
    const email = report.types.find((m) => m.type === "EMAIL")!;
    assert.deepEqual([email.matchedGold, email.correctPredictions, email.exact], [1, 1, 0]);
  });

  it("formats a table with undefined metrics as a dash", async () => {
    const table = formatPiiReport(await evalPii({ data }));
    assert.match(table, /^CARD\s+1\s+1\s+1\.000\s+1\.000\s+1\.000\s+1\s+0$/m);
    assert.match(table, /^IBAN\s+0\s+0\s+—\s+—\s+—/m);
    assert.match(table, /leaked values: 1/);
  });

  it("runs as a script on a data file and prints JSON", async () => {
    const path = join(dir, "tiny.json");
    writeFileSync(
      path,
      JSON.stringify([
        {
          full_text: data[1]!.text,
          spans: data[1]!.spans.map((s) => ({
            entity_type: s.entityType,
            entity_value: s.value,
            start_position: s.start,
            end_position: s.end,
          })),
        },
      ]),
    );
    const script = new URL("./measure.ts", import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(process.execPath, [
      script,
      "--data",
      path,
      "--json",
      "--no-bench",
    ]);
    const out = JSON.parse(stdout) as { report: { samples: number; leaked: number } };
    assert.deepEqual([out.report.samples, out.report.leaked], [1, 0]);
    await assert.rejects(
      promisify(execFile)(process.execPath, [script, "--data", join(dir, "nope.json"), "--no-bench"]),
      (e: unknown) => /Cannot read the PII dataset/.test((e as { stderr: string }).stderr),
    );
  });
});
