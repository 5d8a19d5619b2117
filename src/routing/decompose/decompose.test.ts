import assert from "node:assert/strict";
import { test } from "node:test";
import { TELECOM_EXAMPLES, TELECOM_OUT_OF_SCOPE } from "../classifier/test-examples.ts";
import { trainClassifier } from "../classifier/train-classifier.ts";
import { BoundaryStrength, findBoundaries } from "./boundaries.ts";
import { decompose } from "./decompose.ts";

const router = trainClassifier(TELECOM_EXAMPLES, { outOfScope: TELECOM_OUT_OF_SCOPE });

test("splits a three-part message into spans routed to three workers", () => {
  const text = "check my bill and also my internet is slow, and can I upgrade?";
  const segments = decompose(text, router);
  assert.deepEqual(
    segments.map((s) => [s.text, s.worker]),
    [
      ["check my bill", "billing"],
      ["my internet is slow", "network"],
      ["can I upgrade", "sales"],
    ],
  );
  for (const s of segments) assert.equal(text.slice(s.start, s.end), s.text);
});

test("handles sentences, 'plus' and a longer real-world message", () => {
  const text =
    "I was overcharged on my last bill, my internet has been really slow for days, and I'd like to upgrade to a faster plan.";
  assert.deepEqual(
    decompose(text, router).map((s) => s.worker),
    ["billing", "network", "sales"],
  );
  assert.deepEqual(
    decompose("My wifi keeps dropping. Plus, why is my invoice so high?", router).map((s) => s.worker),
    ["network", "billing"],
  );
});

test("keeps a single request with an inner 'and' whole", () => {
  const segments = decompose("there is a charge and a fee on my invoice i don't recognise", router);
  assert.equal(segments.length, 1);
  assert.equal(segments[0]!.worker, "billing");
});

test("merges adjacent same-worker parts unless told to keep intents apart", () => {
  const text = "why is my bill so high and can i get a refund for the double charge";
  const merged = decompose(text, router);
  assert.equal(merged.length, 1);
  assert.equal(merged[0]!.worker, "billing");
  assert.equal(merged[0]!.text, text);
  const perWorker = decompose(text, router, { merge: () => false });
  assert.ok(perWorker.every((s) => s.worker === "billing"));
});

test("filler pieces ('please', 'thanks') attach to a neighbour instead of becoming tasks", () => {
  const segments = decompose("my internet is slow, please", router);
  assert.equal(segments.length, 1);
  assert.equal(segments[0]!.worker, "network");
});

test("an empty message has no segments", () => {
  assert.deepEqual(decompose("   ", router), []);
});

test("boundaries: punctuation, connectives, case breaks; not commas inside numbers", () => {
  const text = "pay $1,000 now and also check signal. Then call me";
  const found = findBoundaries(text).map((b) => [text.slice(b.start, b.end), b.strength]);
  assert.deepEqual(found, [
    [" and also ", BoundaryStrength.Connective],
    [". Then ", BoundaryStrength.Sentence],
  ]);
  const cased = "what is my balance Ignore this";
  assert.deepEqual(
    findBoundaries(cased).map((b) => b.strength),
    [BoundaryStrength.Comma],
  );
});
