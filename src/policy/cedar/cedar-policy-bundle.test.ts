import assert from "node:assert/strict";
import { test } from "node:test";
import type { Decision, PolicyRequest } from "../decision.ts";
import { compilePolicyBundle } from "./compile-policy-bundle.ts";

const bundle = compilePolicyBundle({
  schema: `entity Worker;
entity Tool;
entity Group;
entity Doc in [Group];
action call_tool appliesTo {
  principal: Worker,
  resource: Tool,
  context: { n: Long, risky: Bool, note?: String, score?: decimal, tool?: Tool },
};
action read appliesTo { principal: Worker, resource: Doc };
`,
  policies: [
    {
      name: "p.cedar",
      text: `@id("allow") @reason("w may call tools")
permit (principal == Worker::"w", action == Action::"call_tool", resource) when { context.n >= 0 };
@id("overflow")
forbid (principal, action == Action::"call_tool", resource) when { context.n > 1000 && context.n * 10000000000000000 > 0 };
@id("public")
permit (principal, action == Action::"read", resource in Group::"public");
`,
    },
    {
      name: "a.cedar",
      text: `@id("risky") @approval("risky call")
forbid (principal, action == Action::"call_tool", resource) when { context.risky };
@id("big") @approval("big call")
forbid (principal, action == Action::"call_tool", resource) when { context.n > 100 };
`,
    },
    {
      name: "h.cedar",
      text: `@id("huge") @reason("huge calls are forbidden")
forbid (principal, action == Action::"call_tool", resource) when { context.n > 500 };
`,
    },
  ],
});

const call = (context: Record<string, unknown>, principal = "w"): PolicyRequest => ({
  principal: { type: "Worker", id: principal },
  action: "call_tool",
  resource: { type: "Tool", id: "t" },
  context,
});
const brief = (d: Decision) => ({ outcome: d.outcome, policyIds: d.policyIds });

test("a permit allows, naming the permit and its @reason", () => {
  const d = bundle.decide(call({ n: 1, risky: false }));
  assert.deepEqual(brief(d), { outcome: "allow", policyIds: ["p.allow"] });
  assert.deepEqual(d.reasons, ["w may call tools"]);
  assert.deepEqual(d.errors, []);
  assert.equal(d.bundleVersion, bundle.version);
});

test("nothing permits: default deny", () => {
  const d = bundle.decide(call({ n: 1, risky: false }, "stranger"));
  assert.deepEqual(brief(d), { outcome: "deny", policyIds: [] });
  assert.match(d.reasons[0]!, /no policy permits Worker::"stranger" to call_tool Tool::"t" \(default deny\)/);
});

test("an @approval forbid turns a permitted request into needs-approval", () => {
  assert.deepEqual(brief(bundle.decide(call({ n: 1, risky: true }))), {
    outcome: "needs-approval",
    policyIds: ["a.risky", "p.allow"],
  });
  const both = bundle.decide(call({ n: 200, risky: true }));
  assert.deepEqual(brief(both), { outcome: "needs-approval", policyIds: ["a.risky", "a.big", "p.allow"] });
  assert.deepEqual(both.reasons, ["risky call", "big call"]);
});

test("a hard forbid always wins over an approval", () => {
  const d = bundle.decide(call({ n: 600, risky: true }));
  assert.deepEqual(brief(d), { outcome: "deny", policyIds: ["h.huge"] });
  assert.deepEqual(d.reasons, ["huge calls are forbidden"]);
  const approved = bundle.decide(call({ n: 600, risky: true }), { approved: ["a.risky", "a.big", "h.huge"] });
  assert.equal(approved.outcome, "deny");
});

test("an approval never grants: without a permit it stays deny", () => {
  assert.deepEqual(brief(bundle.decide(call({ n: 1, risky: true }, "stranger"))), {
    outcome: "deny",
    policyIds: [],
  });
});

test("approved approval policies allow; a new approval policy still needs approval", () => {
  const d = bundle.decide(call({ n: 200, risky: true }), { approved: ["a.risky", "a.big", "p.allow"] });
  assert.deepEqual(brief(d), { outcome: "allow", policyIds: ["a.risky", "a.big", "p.allow"] });
  assert.deepEqual(d.reasons, [
    "approved by a human: risky call",
    "approved by a human: big call",
    "w may call tools",
  ]);
  const partial = bundle.decide(call({ n: 200, risky: true }), { approved: ["a.risky"] });
  assert.equal(partial.outcome, "needs-approval");
});

test("an evaluation error denies even when only a forbid failed (fail closed)", () => {
  const d = bundle.decide(call({ n: 2000, risky: false }));
  assert.deepEqual(brief(d), { outcome: "deny", policyIds: ["p.overflow"] });
  assert.match(d.errors[0]!, /^p\.overflow: .*overflow/);
  assert.match(d.reasons[0]!, /a policy could not be evaluated; denied \(fail closed\)/);
});

test("malformed requests deny and say what is wrong, without echoing values", () => {
  const cases: [unknown, RegExp][] = [
    [call({ n: "1", risky: false }), /context\.n: expected an integer \(Long\), got a string$/],
    [
      call({ n: 1.5, risky: false }),
      /context\.n: expected an integer \(Long\), got a number with a fraction/,
    ],
    [call({ n: Number.NaN, risky: false }), /not finite/],
    [call({ risky: false }), /context\.n: required by the schema but missing/],
    [call({ n: 1, risky: false, score: "abc" }), /decimal/],
    [call({ n: 1, risky: false, tool: "t" }), /context\.tool: expected an entity reference/],
    [
      { ...call({ n: 1, risky: false }), action: "delete" },
      /unknown action "delete"; the schema declares call_tool, read/,
    ],
    [
      { ...call({ n: 1, risky: false }), principal: { type: "Tool", id: "t" } },
      /principal: call_tool applies to Worker, not Tool/,
    ],
    [{ ...call({ n: 1, risky: false }), principal: undefined }, /^principal: expected an entity reference/],
    [{ ...call({}), context: [] }, /^context: expected an object/],
    [null, /^request: expected an object/],
  ];
  for (const [request, pattern] of cases) {
    const d = bundle.decide(request as PolicyRequest);
    assert.equal(d.outcome, "deny", String(pattern));
    assert.match(d.errors.join("\n"), pattern);
    assert.match(d.reasons[0]!, /malformed.*fail closed/);
    assert.ok(!d.errors.join("").includes("abc"));
  }
});

test("undeclared context attributes are dropped; declared optional ones are typed", () => {
  const d = bundle.decide(
    call({ n: 1, risky: false, extra: { deep: [1.25, null] }, note: "hi", score: 0.5 }),
  );
  assert.equal(d.outcome, "allow");
  const entity = bundle.decide(call({ n: 1, risky: false, tool: { type: "Tool", id: "x" } }));
  assert.equal(entity.outcome, "allow");
});

test("decide never throws", () => {
  const hostile = call({ risky: false });
  Object.defineProperty(hostile.context, "n", {
    enumerable: true,
    get() {
      throw new Error("boom");
    },
  });
  const d = bundle.decide(hostile);
  assert.equal(d.outcome, "deny");
  assert.deepEqual(d.errors, ["boom"]);
  assert.match(d.reasons[0]!, /engine failed.*fail closed/);
});

test("entities passed with a request take part in the decision and are checked against the schema", () => {
  const read = (parents: { type: string; id: string }[]): PolicyRequest => ({
    principal: { type: "Worker", id: "w" },
    action: "read",
    resource: { type: "Doc", id: "d" },
    context: {},
    entities: [{ uid: { type: "Doc", id: "d" }, parents }],
  });
  assert.deepEqual(brief(bundle.decide(read([{ type: "Group", id: "public" }]))), {
    outcome: "allow",
    policyIds: ["p.public"],
  });
  assert.equal(bundle.decide(read([])).outcome, "deny");
  const bad = bundle.decide({ ...read([]), entities: [{ uid: { type: "Doc", id: "d" }, attrs: { x: 1 } }] });
  assert.equal(bad.outcome, "deny");
  assert.ok(bad.errors.length > 0);
});
