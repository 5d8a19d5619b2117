import assert from "node:assert/strict";
import { test } from "node:test";
import { LinearRouter } from "./linear-router.ts";
import { restoreRouter, snapshotRouter } from "./router-snapshot.ts";
import { TELECOM_EXAMPLES, TELECOM_OUT_OF_SCOPE } from "./test-examples.ts";
import { trainClassifier } from "./train-classifier.ts";

const PROBES = [
  "I was charged twice on my invoice",
  "my wifi connection is really slow",
  "I want to upgrade to a faster plan",
  "what is the weather like in paris tomorrow",
  "refund the extra fee and fix my router please",
  "",
  "zzzz qqqq",
];

function trained(): LinearRouter {
  const router = trainClassifier(TELECOM_EXAMPLES, { outOfScope: TELECOM_OUT_OF_SCOPE });
  assert.ok(router instanceof LinearRouter);
  return router;
}

test("a router taken up from its snapshot (through JSON) answers exactly as the trained one", () => {
  const router = trained();
  const snapshot = snapshotRouter(router);
  assert.ok(snapshot !== undefined);
  const restored = restoreRouter(JSON.parse(JSON.stringify(snapshot)));
  assert.ok(restored !== undefined);
  for (const text of PROBES) assert.deepEqual(restored.classify(text), router.classify(text), text);
  assert.deepEqual(restored.workers, router.workers);
  assert.deepEqual(restored.intentLabels, router.intentLabels);
  assert.equal(restored.stats.cached, true);
  assert.equal(restored.stats.oosThreshold, router.stats.oosThreshold);
  assert.deepEqual(restored.stats.warnings, router.stats.warnings);
  assert.equal(restored.stats.trainMs, router.stats.trainMs, "the time it took to train, not zero");
});

test("a damaged or inconsistent snapshot is refused, never half used", () => {
  const snapshot = JSON.parse(JSON.stringify(snapshotRouter(trained())));
  const broken = [
    null,
    "text",
    {},
    { ...snapshot, hashes: snapshot.hashes.slice(0, -8) },
    { ...snapshot, hashes: "%%%" },
    { ...snapshot, columnWeights: snapshot.columnWeights.slice(0, 8) },
    { ...snapshot, intents: "billing" },
    { ...snapshot, intentModel: { ...snapshot.intentModel, classes: 1 } },
    { ...snapshot, intentModel: { ...snapshot.intentModel, level: "" } },
    { ...snapshot, workerModel: { ...snapshot.workerModel, rowStart: snapshot.intentModel.bias } },
    { ...snapshot, threshold: "0.2" },
  ];
  for (const [i, value] of broken.entries()) assert.equal(restoreRouter(value), undefined, `case ${i}`);
  // A repeated feature hash cannot index two columns.
  const hashes = Buffer.from(snapshot.hashes, "base64");
  hashes.copy(hashes, 4, 0, 4);
  assert.equal(restoreRouter({ ...snapshot, hashes: hashes.toString("base64") }), undefined);
});
