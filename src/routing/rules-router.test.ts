import assert from "node:assert/strict";
import { test } from "node:test";
import { RulesRouter, splitClauses } from "./rules-router.ts";

const rules = (
  keywords: Array<string | { term: string; weight: number }>,
  patterns: string[] = [],
  exclude: string[] = [],
) => ({
  keywords,
  patterns,
  exclude,
});

const router = new RulesRouter([
  { name: "billing", routing: rules(["bill*", { term: "overcharg*", weight: 2 }, "refund"]) },
  { name: "tech", routing: rules(["internet", "slow*", "wifi"], ["keeps (dropping|disconnecting)"]) },
  { name: "account", routing: rules([{ term: "upgrad*", weight: 2 }, "plan"], [], ["cancel"]) },
]);

test("splitClauses cuts at sentence ends and connectives and keeps offsets", () => {
  const text = "I was overcharged. My internet is slow, and also I want to upgrade; thanks";
  const clauses = splitClauses(text);
  assert.deepEqual(
    clauses.map((c) => c.text),
    ["I was overcharged.", "My internet is slow", "I want to upgrade", "thanks"],
  );
  for (const c of clauses) assert.equal(text.slice(c.start, c.end), c.text);
});

test("three intents in one message are found with their spans, in order", () => {
  const message = "check my bill and also my internet is slow, and can I upgrade?";
  const r = router.route(message);
  assert.equal(r.confident, true);
  assert.deepEqual(
    r.intents.map((i) => i.worker),
    ["billing", "tech", "account"],
  );
  assert.equal(r.intents[1]!.text, "my internet is slow");
  assert.equal(message.slice(r.intents[2]!.start, r.intents[2]!.end), "can I upgrade?");
});

test("clauses of the same worker merge into one intent; a clause with no signal joins the one before", () => {
  const r = router.route("My wifi keeps dropping, it happens every evening. Refund my bill please");
  assert.deepEqual(
    r.intents.map((i) => [i.worker, i.text]),
    [
      ["tech", "My wifi keeps dropping; it happens every evening."],
      ["billing", "Refund my bill please"],
    ],
  );
});

test("keywords match whole words unless they end in *; exclusions veto a worker", () => {
  assert.equal(router.score("the planet is round").get("account"), 0);
  assert.equal(router.score("my plan").get("account"), 1);
  assert.equal(router.score("I was overcharged twice").get("billing"), 2);
  assert.equal(router.score("cancel my plan upgrade").get("account"), 0);
});

test("ties and nothing-matched are reported as unsure / empty", () => {
  const tied = new RulesRouter([
    { name: "a", routing: rules(["thing"]) },
    { name: "b", routing: rules(["thing"]) },
  ]).route("the thing");
  assert.equal(tied.confident, false);
  assert.equal(tied.unsure.length, 1);
  const none = router.route("what's the weather on Mars?");
  assert.deepEqual(none.intents, []);
  assert.equal(none.confident, false);
});

test("the threshold separates weak matches from confident ones", () => {
  const strict = new RulesRouter([{ name: "a", routing: rules(["plan"]) }], 2);
  assert.equal(strict.route("my plan").confident, false);
  assert.equal(strict.route("my plan").intents.length, 0);
});
