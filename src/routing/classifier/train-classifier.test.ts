import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { TrainingExample } from "./classification.ts";
import { TELECOM_EXAMPLES, TELECOM_OUT_OF_SCOPE } from "./test-examples.ts";
import { trainClassifier } from "./train-classifier.ts";

const CLINC = new URL("../../../../shared/data/clinc150/dev.json", import.meta.url);
const DOMAINS = new URL("../../../../shared/data/clinc150/domains.json", import.meta.url);

test("routes clear requests to the right worker with calibrated confidence", () => {
  const router = trainClassifier(TELECOM_EXAMPLES, { outOfScope: TELECOM_OUT_OF_SCOPE });
  for (const [text, worker] of [
    ["I was charged twice on my invoice", "billing"],
    ["my wifi connection is really slow", "network"],
    ["I want to upgrade to a faster plan", "sales"],
  ] as const) {
    const c = router.classify(text);
    assert.equal(c.worker, worker, text);
    assert.ok(c.confidence > 0 && c.confidence <= 1);
    assert.equal(c.ranking[0]?.worker, worker);
    assert.equal(c.candidate?.worker, worker);
    const total = c.ranking.reduce((sum, r) => sum + r.score, 0) + c.outOfScope;
    assert.ok(Math.abs(total - 1) < 1e-6, `probabilities sum to 1, got ${total}`);
    for (let i = 1; i < c.ranking.length; i++) assert.ok(c.ranking[i - 1]!.score >= c.ranking[i]!.score);
  }
  assert.deepEqual([...router.workers], ["billing", "network", "sales"]);
});

test("sends out-of-scope requests to the fallback (worker null) and keeps a candidate", () => {
  const router = trainClassifier(TELECOM_EXAMPLES, { outOfScope: TELECOM_OUT_OF_SCOPE });
  const c = router.classify("what is the weather like in paris tomorrow");
  assert.equal(c.worker, null);
  assert.equal(c.intent, null);
  assert.ok(c.candidate !== null);
});

test("is deterministic: same examples and options give identical answers", () => {
  const a = trainClassifier(TELECOM_EXAMPLES, { seed: 7 });
  const b = trainClassifier(TELECOM_EXAMPLES, { seed: 7 });
  for (const text of ["my bill is too high", "slow internet", "upgrade please", "hello there"]) {
    assert.deepEqual(a.classify(text), b.classify(text));
  }
  assert.equal(a.stats.oosThreshold, b.stats.oosThreshold);
  assert.deepEqual(a.stats.temperatures, b.stats.temperatures);
});

test("an explicit threshold wins and tuneThreshold moves it from validation data", () => {
  const router = trainClassifier(TELECOM_EXAMPLES, { oosThreshold: 0.99 });
  assert.equal(router.stats.thresholdSource, "option");
  assert.equal(
    router.classify("can you help me with my account").worker,
    null,
    "0.99 sends nearly everything to the fallback",
  );
  const threshold = router.tuneThreshold(
    [
      ...TELECOM_EXAMPLES.map((e) => ({ text: e.text, worker: e.worker })),
      ...TELECOM_OUT_OF_SCOPE.map((text) => ({ text, worker: null })),
    ],
    0.05,
  );
  assert.ok(threshold <= router.classify("my internet is slow").confidence);
  assert.equal(router.stats.thresholdSource, "validation");
  assert.equal(router.classify("my internet is slow").worker, "network");
});

test("warns with numbers instead of crashing when examples are missing or too few", () => {
  const examples: TrainingExample[] = [
    ...TELECOM_EXAMPLES.filter((e) => e.worker !== "sales"),
    { text: "upgrade my plan", worker: "sales" },
    { text: "better package", worker: "sales" },
  ];
  const router = trainClassifier(examples, {
    workers: ["billing", "network", "sales", "retention", "generalist"],
    descriptions: { retention: "Handles cancellations, contract ends and win-back offers." },
  });
  const warnings = router.stats.warnings.join("\n");
  assert.match(warnings, /worker "sales" has 2 examples; at least 5/);
  assert.match(
    warnings,
    /worker "retention" has no examples: it is routed from its description only \(7 words\)/,
  );
  assert.match(warnings, /worker "generalist" has no examples and no description/);
  assert.ok(router.workers.includes("retention"));
  assert.equal(router.classify("I want to cancel my contract").candidate?.worker, "retention");

  const empty = trainClassifier([]);
  assert.match(empty.stats.warnings.join("\n"), /no worker has examples/);
  assert.equal(empty.classify("anything").worker, null);

  const single = trainClassifier([{ text: "pay my bill", worker: "billing" }]);
  assert.match(single.stats.warnings.join("\n"), /only one worker \("billing"\)/);
  assert.equal(single.classify("pay my bill").candidate?.worker, "billing");
});

test("rejects malformed examples with an error naming the entry", () => {
  assert.throws(
    () => trainClassifier([{ text: "ok", worker: "billing" }, { text: "x" } as unknown as TrainingExample]),
    (error: unknown) =>
      ArbiterError.is(error, ErrorCode.InvalidArgument) &&
      /examples\[1\]\.worker/.test((error as Error).message),
  );
  assert.throws(
    () => trainClassifier(TELECOM_EXAMPLES, { oosThreshold: 2 }),
    /oosThreshold must be between 0 and 1/,
  );
});

test("CLINC150 sample: worker accuracy floor with 30 examples per intent", {
  skip: !existsSync(CLINC),
}, () => {
  const data = JSON.parse(readFileSync(CLINC, "utf8")) as {
    train: [string, string][];
    val: [string, string][];
  };
  const domains = JSON.parse(readFileSync(DOMAINS, "utf8")) as Record<string, string[]>;
  const keep = ["banking", "travel", "home", "utility"];
  const workerOf = new Map<string, string>();
  for (const d of keep) for (const i of domains[d]!) workerOf.set(i, d);
  const seen = new Map<string, number>();
  const examples: TrainingExample[] = [];
  for (const [text, intent] of data.train) {
    const worker = workerOf.get(intent);
    const n = seen.get(intent) ?? 0;
    if (!worker || n >= 30) continue;
    seen.set(intent, n + 1);
    examples.push({ text, worker, intent });
  }
  const router = trainClassifier(examples);
  const val = data.val.filter(([, intent]) => workerOf.has(intent));
  const right = val.filter(
    ([text, intent]) => router.classify(text).candidate?.worker === workerOf.get(intent),
  ).length;
  assert.ok(right / val.length >= 0.93, `worker accuracy ${right / val.length}`);
  assert.ok(router.stats.trainMs < 15_000);
});
