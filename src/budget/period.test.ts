import assert from "node:assert/strict";
import { test } from "node:test";
import { periodBounds, periodKey } from "./period.ts";

test("periodKey names the UTC day or month, at and across boundaries, in any order of calls", () => {
  const midnight = Date.UTC(2026, 10, 30); // 2026-11-30T00:00:00Z
  const cases: Array<[number, string, string]> = [
    [midnight - 1, "2026-11-29", "2026-11"],
    [midnight, "2026-11-30", "2026-11"],
    [midnight + 86_400_000 - 1, "2026-11-30", "2026-11"],
    [midnight + 86_400_000, "2026-12-01", "2026-12"],
    [midnight - 1, "2026-11-29", "2026-11"],
    [Date.UTC(2024, 1, 29, 12), "2024-02-29", "2024-02"],
    [midnight, "2026-11-30", "2026-11"],
  ];
  for (const [at, day, month] of cases) {
    assert.equal(periodKey("day", at), day, new Date(at).toISOString());
    assert.equal(periodKey("month", at), month, new Date(at).toISOString());
    const bounds = periodBounds("day", at);
    assert.ok(bounds.start <= at && at < bounds.end);
  }
  assert.throws(() => periodKey("day", Number.NaN), RangeError);
});
