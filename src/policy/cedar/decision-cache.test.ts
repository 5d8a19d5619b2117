import assert from "node:assert/strict";
import { test } from "node:test";
import { compilePolicyBundle } from "./compile-policy-bundle.ts";

const schema = `
entity Worker;
entity Tool;
action call_tool appliesTo { principal: Worker, resource: Tool, context: { runId: String, limit: Long } };
`;
const request = (runId: string, limit: number) => ({
  principal: { type: "Worker", id: "w" },
  action: "call_tool",
  resource: { type: "Tool", id: "t" },
  context: { runId, limit },
});

test("a cached decision is reused only when everything the policies read is the same", () => {
  const bundle = compilePolicyBundle({
    schema,
    policies: [
      {
        name: "p.cedar",
        text: '@id("small") permit (principal, action, resource) when { context.limit < 10 };',
      },
    ],
  });
  assert.equal(bundle.decide(request("run-1", 5)).outcome, "allow");
  assert.equal(bundle.decide(request("run-2", 5)).outcome, "allow", "the run id is not read: same decision");
  assert.equal(
    bundle.decide(request("run-3", 50)).outcome,
    "deny",
    "a value the policy reads changes the decision",
  );
});

test("a policy that reads the run id still decides on it", () => {
  const bundle = compilePolicyBundle({
    schema,
    policies: [
      {
        name: "p.cedar",
        text: '@id("one-run") permit (principal, action, resource) when { context.runId == "run-1" };',
      },
    ],
  });
  assert.equal(bundle.decide(request("run-1", 5)).outcome, "allow");
  assert.equal(bundle.decide(request("run-2", 5)).outcome, "deny");
});
