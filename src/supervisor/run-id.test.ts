import assert from "node:assert/strict";
import { test } from "node:test";
import { ArbiterError } from "../errors/arbiter-error.ts";
import { checkRunId, newRunId } from "./run-id.ts";

test("run ids sort by the time they were made, and two of the same millisecond differ", () => {
  const at = Date.UTC(2026, 10, 22);
  const ids = [newRunId(at), newRunId(at), newRunId(at + 1), newRunId(at + 1000)];
  for (const id of ids) assert.match(id, /^run_[0-9a-f]{24}$/);
  assert.notEqual(ids[0], ids[1]);
  assert.ok(ids[0]! < ids[2]! && ids[1]! < ids[2]! && ids[2]! < ids[3]!);
  assert.equal(Number.parseInt(ids[3]!.slice(4, 16), 16), at + 1000);
  // A test clock's odd readings still make well-formed ids.
  for (const odd of [1.5, -3, Number.NaN]) assert.match(newRunId(odd), /^run_[0-9a-f]{24}$/);
});

test("a caller's run id is kept to what records and idempotency keys can carry", () => {
  for (const ok of ["order-123", "run_01a2", "TICKET.42:retry", newRunId()]) assert.equal(checkRunId(ok), ok);
  for (const bad of ["", "bad id!", "-leading", "a/b", "x".repeat(129), "line\nbreak"])
    assert.throws(
      () => checkRunId(bad),
      (e: unknown) =>
        ArbiterError.is(e, "invalid-argument") && e.message.startsWith(`run id ${JSON.stringify(bad)}`),
    );
});
