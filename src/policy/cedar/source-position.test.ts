import assert from "node:assert/strict";
import { test } from "node:test";
import { indexOfByteOffset, positionAt } from "./source-position.ts";

test("positions are 1-based lines and columns", () => {
  assert.deepEqual(positionAt("ab\ncd", 0), { line: 1, column: 1 });
  assert.deepEqual(positionAt("ab\ncd", 4), { line: 2, column: 2 });
});

test("UTF-8 byte offsets map to character indices, also from a base", () => {
  const text = "é😀x";
  assert.equal(indexOfByteOffset(text, 2), 1);
  assert.equal(indexOfByteOffset(text, 6), 3);
  assert.equal(text[indexOfByteOffset(text, 6)], "x");
  assert.equal(indexOfByteOffset("ab😀x", 4, 2), 4);
});
