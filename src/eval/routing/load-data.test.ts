import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import {
  checkIntentsCovered,
  loadClincLayout,
  loadDomains,
  loadInjectionRows,
  loadMultiIntent,
} from "./load-data.ts";

const dir = mkdtempSync(join(tmpdir(), "arbiter-eval-"));
const write = (name: string, content: string): string => {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
};
const invalidData = (pattern: RegExp) => (error: unknown) =>
  ArbiterError.is(error, ErrorCode.InvalidData) && pattern.test((error as Error).message);

test("loads a CLINC-layout file and accepts 'valid' for 'val'", () => {
  const file = write(
    "ok.json",
    JSON.stringify({ train: [["hi", "greet"]], valid: [["hello", "greet"]], oos_val: [["x", "oos"]] }),
  );
  const data = loadClincLayout(file);
  assert.equal(data.train.length, 1);
  assert.deepEqual(data.val, [["hello", "greet"]]);
  assert.equal(data.test, undefined);
});

test("a CLINC-layout error names the file and the first bad entry", () => {
  const file = write("bad.json", JSON.stringify({ train: [["ok", "greet"], ["no intent"], ["x", 3]] }));
  assert.throws(() => loadClincLayout(file), invalidData(/bad\.json: train\[1\] must be \[text, intent\]/));
  assert.throws(
    () => loadClincLayout(write("nojson.json", "{train:")),
    invalidData(/nojson\.json: not valid JSON/),
  );
  assert.throws(
    () => loadClincLayout(write("arr.json", "[]")),
    invalidData(/expected an object with "train"/),
  );
  assert.throws(() => loadClincLayout(join(dir, "missing.json")), invalidData(/cannot read .*missing\.json/));
});

test("domains: each worker maps to intents; duplicates and unknown intents are named", () => {
  const domains = loadDomains(write("d.json", JSON.stringify({ billing: ["pay_bill"], network: ["slow"] })));
  assert.deepEqual(domains.workers, ["billing", "network"]);
  assert.equal(domains.workerOf.get("slow"), "network");
  assert.throws(
    () => loadDomains(write("dup.json", JSON.stringify({ a: ["x"], b: ["y", "x"] }))),
    invalidData(/b\[1\]: intent "x" already belongs to "a"/),
  );
  assert.throws(
    () => loadDomains(write("e.json", JSON.stringify({ a: [] }))),
    invalidData(/"a" must be a non-empty array/),
  );
  assert.throws(
    () =>
      checkIntentsCovered(
        {
          train: [
            ["a", "pay_bill"],
            ["b", "upgrade"],
          ],
        },
        domains,
        "data.json",
      ),
    invalidData(/data\.json: train\[1\] has intent "upgrade", which no worker/),
  );
});

test("multi-intent and injection files: errors name the entry or line", () => {
  const domains = loadDomains(write("d2.json", JSON.stringify({ billing: ["pay_bill"], network: ["slow"] })));
  const ok = loadMultiIntent(
    write("m.json", JSON.stringify({ train: [], valid: [], test: [["pay and fix", "pay_bill,slow", null]] })),
    domains,
  );
  assert.equal(ok.test.length, 1);
  assert.throws(
    () =>
      loadMultiIntent(
        write(
          "m2.json",
          JSON.stringify({
            test: [
              ["x", "pay_bill", null],
              ["y", "", null],
            ],
          }),
        ),
      ),
    invalidData(/m2\.json: test\[1\] must be \[text, "intent_a,intent_b", phenomenon or null\]/),
  );
  assert.throws(
    () =>
      loadMultiIntent(write("m3.json", JSON.stringify({ test: [["x", "pay_bill,upgrade", null]] })), domains),
    invalidData(/test\[0\] has intent "upgrade"/),
  );
  const rows = loadInjectionRows(write("i.jsonl", '{"text":"a","label":0}\n\n{"text":"b","label":1}\n'));
  assert.equal(rows.length, 2);
  assert.throws(
    () => loadInjectionRows(write("i2.jsonl", '{"text":"a","label":0}\n{"text":"b","label":"yes"}\n')),
    invalidData(/i2\.jsonl: line 2 must be \{"text": string, "label": 0 or 1\}/),
  );
});
