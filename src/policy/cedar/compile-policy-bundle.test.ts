import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { ArbiterError } from "../../errors/arbiter-error.ts";
import { type DerivedCache, openDerivedCache } from "../../profile/derived-cache.ts";
import { toolCallRequest } from "../requests.ts";
import {
  compilePolicyBundle,
  type PolicyBundleSources,
  type PolicyProblem,
} from "./compile-policy-bundle.ts";
import { loadPolicyBundle } from "./load-policy-bundle.ts";

const schema = `entity Worker;
entity Tool;
action call_tool appliesTo { principal: Worker, resource: Tool, context: { n: Long, tags: Set<String> } };
`;
const ok = `@id("small")
permit (principal == Worker::"w", action == Action::"call_tool", resource)
when { context.n < 10 };
`;

function problemsOf(sources: PolicyBundleSources): PolicyProblem[] {
  try {
    compilePolicyBundle(sources);
  } catch (error) {
    assert.ok(ArbiterError.is(error, "policy-error"), String(error));
    const problems = error.details.problems as PolicyProblem[];
    for (const p of problems)
      assert.ok(error.message.includes(`${p.file}:${p.line}:${p.column} `), error.message);
    assert.match(error.message, /arbiter policy validate/);
    return problems;
  }
  assert.fail("expected the bundle to be refused");
}

const one = (name: string, text: string, schemaText = schema): PolicyBundleSources => ({
  displayRoot: "bundle",
  schema: schemaText,
  policies: [{ name, text }],
});

test("a valid bundle lists its policies with stable ids and positions", () => {
  const bundle = compilePolicyBundle({
    schema,
    policies: [
      { name: "b.cedar", text: ok },
      { name: "a.cedar", text: `// header\n\n${ok.replace("small", "x")}` },
    ],
  });
  assert.deepEqual(
    bundle.policies.map((p) => [p.id, p.file, p.line, p.column, p.effect]),
    [
      ["a.x", "policies/a.cedar", 3, 1, "permit"],
      ["b.small", "policies/b.cedar", 1, 1, "permit"],
    ],
  );
  assert.match(bundle.version, /^[0-9a-f]{64}$/);
});

test("a type error is reported at its file:line:column, also after non-ASCII text", () => {
  const text = `// Crédit ü 😀
@id("first")
permit (principal, action == Action::"call_tool", resource);

@id("typo")
permit (principal, action == Action::"call_tool", resource)
when { context.count > 1 };
`;
  const [problem, ...rest] = problemsOf(one("tools.cedar", text));
  assert.equal(rest.length, 0);
  assert.equal(problem!.file, "bundle/policies/tools.cedar");
  assert.deepEqual([problem!.line, problem!.column], [7, 8]);
  assert.match(problem!.message, /attribute `count`/);
  assert.match(problem!.message, /did you mean `n`/);
});

test("strict mode refuses what permissive mode would allow", () => {
  const text = `@id("mixed")\npermit (principal, action == Action::"call_tool", resource)\nwhen { [1, "a"].contains(1) };\n`;
  const [problem] = problemsOf(one("strict.cedar", text));
  assert.equal(problem!.line, 3);
});

test("a syntax error is located in its file", () => {
  const [problem] = problemsOf(
    one("broken.cedar", `${ok}\n@id("b")\npermit (principal, action, resource) when { 1 + };\n`),
  );
  assert.deepEqual([problem!.file, problem!.line, problem!.column], ["bundle/policies/broken.cedar", 6, 49]);
  assert.match(problem!.message, /unexpected token/);
});

test("a schema error is located in the schema", () => {
  const [problem] = problemsOf(one("a.cedar", ok, `entity Worker;\nentity Tool in [Group];\n`));
  assert.deepEqual([problem!.file, problem!.line, problem!.column], ["bundle/schema.cedarschema", 2, 17]);
  assert.match(problem!.message, /Group/);
});

test("every policy needs an @id, unique in its file, without dots", () => {
  const missing = `permit (principal, action, resource);\n`;
  assert.match(problemsOf(one("a.cedar", `${ok}\n${missing}`))[0]!.message, /add an @id/);
  const [dup] = problemsOf(one("a.cedar", `${ok}\n${ok}`));
  assert.equal(dup!.line, 5);
  assert.match(dup!.message, /duplicate @id\("small"\) \(first at line 1\)/);
  assert.match(problemsOf(one("a.cedar", ok.replace("small", "a.b")))[0]!.message, /no dots/);
});

test("the same @id in two files gives two distinct ids", () => {
  const bundle = compilePolicyBundle({
    schema,
    policies: [
      { name: "one.cedar", text: ok },
      { name: "two.cedar", text: ok },
    ],
  });
  assert.deepEqual(
    bundle.policies.map((p) => p.id),
    ["one.small", "two.small"],
  );
});

test("@approval goes on a forbid and needs a reason; file names are checked", () => {
  assert.match(problemsOf(one("a.cedar", `@approval("x")\n${ok}`))[0]!.message, /belongs on a forbid/);
  const bare = `@id("f")\n@approval\nforbid (principal, action, resource);\n`;
  assert.match(problemsOf(one("a.cedar", bare))[0]!.message, /give @approval the reason/);
  assert.match(problemsOf(one("my.rules.cedar", ok))[0]!.message, /rename the file/);
  assert.match(problemsOf({ schema, policies: [] })[0]!.message, /no .cedar files/);
  const template = `@id("t")\npermit (principal == ?principal, action, resource);\n`;
  assert.match(problemsOf(one("a.cedar", template))[0]!.message, /template/);
});

test("all problems are reported at once", () => {
  const text = `@id("a")\npermit (principal, action == Action::"call_tool", resource) when { context.x };\n@id("b")\npermit (principal, action == Action::"call_tool", resource) when { context.y };\n`;
  assert.equal(problemsOf(one("a.cedar", text)).length, 2);
});

test("the version depends on content only: order and line endings do not matter", () => {
  const a = { name: "a.cedar", text: ok };
  const b = { name: "b.cedar", text: ok.replace("small", "other") };
  const v1 = compilePolicyBundle({ schema, policies: [a, b] }).version;
  assert.equal(compilePolicyBundle({ schema, policies: [a, b] }).version, v1);
  assert.equal(compilePolicyBundle({ schema, policies: [b, a] }).version, v1);
  const crlf = (s: string) => s.replace(/\n/g, "\r\n");
  assert.equal(
    compilePolicyBundle({
      schema: `\ufeff${crlf(schema)}`,
      policies: [{ ...a, text: crlf(a.text) }, b],
    }).version,
    v1,
  );
  const edits = [
    { schema: `${schema}\n`, policies: [a, b] },
    { schema, policies: [{ ...a, text: ok.replace("< 10", "< 11") }, b] },
    { schema, policies: [{ ...a, text: `// note\n${ok}` }, b] },
    { schema, policies: [{ ...a, name: "c.cedar" }, b] },
    { schema, policies: [a] },
  ];
  const versions = new Set(edits.map((e) => compilePolicyBundle(e).version));
  assert.equal(versions.size, edits.length);
  assert.ok(!versions.has(v1));
});

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test("loadPolicyBundle reads schema.cedarschema and policies/*.cedar, naming files relative to cwd", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-policy-"));
  dirs.push(dir);
  mkdirSync(join(dir, "policies"));
  writeFileSync(join(dir, "schema.cedarschema"), schema);
  writeFileSync(join(dir, "policies", "tools.cedar"), ok);
  writeFileSync(join(dir, "policies", "README.md"), "not a policy");
  const bundle = loadPolicyBundle(dir);
  assert.deepEqual(
    bundle.policies.map((p) => p.id),
    ["tools.small"],
  );
  assert.equal(
    bundle.version,
    compilePolicyBundle({ schema, policies: [{ name: "tools.cedar", text: ok }] }).version,
  );

  writeFileSync(
    join(dir, "policies", "bad.cedar"),
    `@id("x")\npermit (principal, action, resource) when { context.n };\n`,
  );
  assert.throws(
    () => loadPolicyBundle(dir),
    (error: ArbiterError) =>
      error.message.startsWith(`${relative(process.cwd(), dir)}/policies/bad.cedar:2:`),
  );
  rmSync(join(dir, "schema.cedarschema"));
  assert.throws(() => loadPolicyBundle(dir), /schema.cedarschema: cannot read the schema \(ENOENT\)/);
});

test("a bundle that validated before is taken from the derived cache: the same bundle, no validation", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-policy-cache-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const inner = openDerivedCache({ ARBITER_CACHE_DIR: dir })!;
  const calls: string[] = [];
  const cache: DerivedCache = {
    dir,
    get: (kind, key) => {
      const value = inner.get(kind, key);
      calls.push(`${value === undefined ? "miss" : "hit"} ${kind}`);
      return value;
    },
    put: (kind, key, value) => {
      calls.push(`put ${kind}`);
      inner.put(kind, key, value);
    },
  };
  const telecom = join(import.meta.dirname, "../../../examples/telecom/policies");
  const first = loadPolicyBundle(telecom, { cache });
  const second = loadPolicyBundle(telecom, { cache });
  assert.deepEqual(calls, ["miss cedar-bundle", "put cedar-bundle", "hit cedar-bundle"]);
  assert.equal(second.version, first.version);
  assert.deepEqual(second.policies, first.policies);
  assert.deepEqual(second.warnings, first.warnings);
  const credit = (amount: number) =>
    toolCallRequest({
      runId: "r",
      tenant: "acme",
      taskId: "t1",
      worker: "billing",
      tool: "issue_credit",
      args: { customerId: "C-1001", amount, reason: "overcharge" },
      facts: { amountCents: amount * 100 },
      run: { creditsIssuedCents: 0, failedLineTestInRun: false },
    });
  for (const amount of [10, 80, 900]) {
    const [a, b] = [first.decide(credit(amount)), second.decide(credit(amount))];
    assert.deepEqual(
      { outcome: b.outcome, policyIds: b.policyIds, reasons: b.reasons },
      { outcome: a.outcome, policyIds: a.policyIds, reasons: a.reasons },
    );
  }
  assert.equal(first.decide(credit(80)).outcome, "needs-approval");

  // A bundle with a problem is never cached, and an entry that does not fit its files is not used.
  calls.length = 0;
  assert.throws(() => compilePolicyBundle(one("a.cedar", `${ok}permit (`), { cache }));
  assert.deepEqual(calls, ["miss cedar-bundle"]);
  const sources = one("a.cedar", ok);
  compilePolicyBundle(sources, { cache });
  const [file] = readdirSync(dir).filter((name) => {
    const entry = JSON.parse(readFileSync(join(dir, name), "utf8"));
    return entry.value.policies[0]?.id === "a.small";
  });
  const entry = JSON.parse(readFileSync(join(dir, file!), "utf8"));
  entry.value.policies[0].length = 10_000;
  writeFileSync(join(dir, file!), JSON.stringify(entry));
  calls.length = 0;
  assert.deepEqual(
    compilePolicyBundle(sources, { cache }).policies.map((p) => p.id),
    ["a.small"],
  );
  assert.deepEqual(calls, ["hit cedar-bundle", "put cedar-bundle"], "validated again and rewritten");
});
