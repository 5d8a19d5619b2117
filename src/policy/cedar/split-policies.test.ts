import assert from "node:assert/strict";
import { test } from "node:test";
import { splitPolicies } from "./split-policies.ts";

test("splits at top-level semicolons only", () => {
  const text = [
    "// a comment; with a semicolon",
    '@id("a;b") permit (principal, action, resource) when { "x;\\";" == "y" };',
    "",
    "  forbid (principal, action, resource); // trailing; comment",
    "// only a comment at the end;",
  ].join("\n");
  const spans = splitPolicies(text);
  assert.equal(spans.length, 2);
  const [a, b] = spans;
  assert.equal(text.slice(a!.first, a!.first + 9), '@id("a;b"');
  assert.ok(text.slice(a!.start, a!.end).endsWith('"y" };'));
  assert.equal(text.slice(b!.first, b!.end), "forbid (principal, action, resource);");
});

test("returns unterminated trailing text as a last span and nothing for blank files", () => {
  assert.deepEqual(splitPolicies("permit (principal, action, resource)"), [{ start: 0, end: 36, first: 0 }]);
  assert.deepEqual(splitPolicies("  // nothing here\n\n"), []);
});
