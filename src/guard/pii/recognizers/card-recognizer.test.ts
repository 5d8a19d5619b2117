import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCardRecognizer } from "./card-recognizer.ts";

const card = createCardRecognizer();
const detect = (text: string) => card.detect(text).map((f) => ({ value: f.value, score: f.score }));
const values = (text: string, min = 0.5) =>
  card
    .detect(text)
    .filter((f) => f.score >= min)
    .map((f) => f.value);

describe("card recogniser", () => {
  it("finds test cards of every network, contiguous and grouped", () => {
    const cards = [
      "4111111111111111",
      "4111 1111 1111 1111",
      "4111-1111-1111-1111",
      "5555 5555 5555 4444",
      "2223 0031 2200 3222",
      "3782 822463 10005",
      "6011 1111 1111 1117",
      "3530 1113 3330 0000",
      "3056 930902 5904",
      "6200000000000005",
      "6759649826438453",
    ];
    for (const c of cards) assert.deepEqual(values(`number ${c} here`), [c], c);
  });

  it("reports the exact span", () => {
    const text = "Charge 4111 1111 1111 1111, thanks";
    const [f] = card.detect(text);
    assert.equal(text.slice(f!.start, f!.end), "4111 1111 1111 1111");
  });

  it("rejects Luhn failures, placeholders and mixed separators", () => {
    assert.deepEqual(detect("card 4111111111111112"), []);
    assert.deepEqual(detect("card 0000 0000 0000 0000"), []);
    assert.deepEqual(detect("card 4111 1111-1111 1111"), []);
  });

  it("raises the score with card context and lowers it with other-number context", () => {
    const [plain] = detect("4111111111111111");
    const [withContext] = detect("my visa is 4111111111111111");
    const [tracking] = detect("tracking 4111111111111111");
    assert.ok(withContext!.score > plain!.score);
    assert.ok(tracking!.score < plain!.score);
  });

  it("needs card context for a Luhn-valid number of no known issuer", () => {
    // 3590… is outside JCB's 3528–3589; Luhn-valid.
    assert.deepEqual(values("ticket 3590123456789015"), []);
    assert.deepEqual(values("my card 3590123456789015 is lost"), ["3590123456789015"]);
  });

  it("needs card context for 12-digit Maestro numbers", () => {
    assert.deepEqual(values("id 501800123454"), []);
    assert.deepEqual(values("maestro card 501800123454"), ["501800123454"]);
    // Twelve digits of no Maestro range never count, whatever the context.
    assert.deepEqual(values("card 411100000123"), []);
  });

  it("does not cut a card out of a longer number, a decimal or a word", () => {
    assert.deepEqual(detect("41111111111111110"), []);
    assert.deepEqual(detect("x4111111111111111"), []);
    assert.deepEqual(detect("4111111111111111.25"), []);
    assert.deepEqual(detect("v1.4111111111111111"), []);
  });

  it("finds a grouped card followed by other digits", () => {
    assert.deepEqual(values("card 4111 1111 1111 1111 12 25"), ["4111 1111 1111 1111"]);
  });

  it("normalises spellings to digits", () => {
    assert.equal(card.normalize?.("4111-1111 1111-1111"), "4111111111111111");
  });
});
