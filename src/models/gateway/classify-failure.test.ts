import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APICallError } from "@ai-sdk/provider";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { classifyFailure, modelFault, retryAfterOf } from "./classify-failure.ts";

const apiError = (
  statusCode: number | undefined,
  headers: Record<string, string> = {},
  isRetryable = false,
  message = "x",
) =>
  new APICallError({
    message,
    url: "http://x",
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
    isRetryable,
  });

describe("classifyFailure", () => {
  it("reads retry-after-ms, then Retry-After as seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(retryAfterOf({ "retry-after-ms": "250.5", "retry-after": "9" }, now), 250.5);
    assert.equal(retryAfterOf({ "retry-after": "2" }, now), 2000);
    assert.equal(retryAfterOf({ "retry-after": new Date(now + 3000).toUTCString() }, now), 3000);
    assert.equal(retryAfterOf({ "retry-after": "soon" }, now), undefined);
    assert.equal(retryAfterOf({}, now), undefined);
  });

  it("sorts HTTP failures into retryable kinds with their raw status", () => {
    const cases: [APICallError, string, boolean, number | undefined][] = [
      [apiError(429, { "retry-after": "1" }), "rate-limit", true, 429],
      [apiError(503), "server", true, 503],
      [apiError(408), "timeout", true, 408],
      [apiError(400), "client", false, 400],
      [apiError(409), "client", true, 409],
      [apiError(200, {}, false, "Invalid JSON response"), "malformed", false, 200],
      [apiError(200, {}, true, "Failed to process successful response"), "truncated", true, 200],
      [apiError(200, {}, true, 'answered 200 with content type "text/html"'), "content-type", true, 200],
      [apiError(undefined, {}, true, "Cannot connect"), "network", true, undefined],
    ];
    for (const [error, kind, retryable, status] of cases) {
      const failure = classifyFailure(error);
      assert.deepEqual(
        [failure.kind, failure.retryable, failure.status],
        [kind, retryable, status],
        error.message,
      );
    }
    assert.equal(classifyFailure(apiError(429, { "retry-after": "1" })).retryAfterMs, 1000);
  });

  it("knows the gateway's own faults, timeouts and broken connections", () => {
    assert.deepEqual(classifyFailure(modelFault("interrupted", "cut", { status: 200 })), {
      kind: "interrupted",
      retryable: true,
      status: 200,
      message: "cut",
    });
    assert.equal(classifyFailure(new ArbiterError(ErrorCode.Timeout, "slow")).kind, "timeout");
    assert.equal(classifyFailure(new TypeError("fetch failed")).kind, "network");
    assert.deepEqual(
      [classifyFailure(new Error("boom")).kind, classifyFailure(new Error("boom")).retryable],
      ["other", false],
    );
  });
});
