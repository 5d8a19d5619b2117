import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { compilePolicyBundle } from "./cedar/compile-policy-bundle.ts";
import { loadPolicyBundle } from "./cedar/load-policy-bundle.ts";
import { createPolicyEngine } from "./policy-engine.ts";
import { toolCallRequest } from "./requests.ts";

const dir = join(import.meta.dirname, "../../examples/telecom/policies");
const active = loadPolicyBundle(dir);

/** The telecom bundle with one edit applied to one file. */
function variant(file: string, edit: (text: string) => string, schemaEdit = (s: string) => s) {
  const names = readdirSync(join(dir, "policies")).filter((n) => n.endsWith(".cedar"));
  return compilePolicyBundle({
    schema: schemaEdit(readFileSync(join(dir, "schema.cedarschema"), "utf8")),
    policies: names.map((name) => {
      const text = readFileSync(join(dir, "policies", name), "utf8");
      return { name, text: name === file ? edit(text) : text };
    }),
  });
}
const credit = (amountCents: number) =>
  toolCallRequest({
    runId: "r",
    tenant: "acme",
    taskId: "t",
    worker: "billing",
    tool: "issue_credit",
    args: { customerId: "C-1001", amount: amountCents / 100, reason: "overcharge" },
    facts: { amountCents },
    run: { creditsIssuedCents: 0, failedLineTestInRun: false },
  });

test("without a shadow bundle only the active decision is returned", () => {
  const engine = createPolicyEngine({ active });
  const result = engine.decide(credit(3000));
  assert.equal(result.active.outcome, "allow");
  assert.equal(result.shadow, undefined);
  assert.equal(result.differs, false);
});

test("a shadow bundle is decided beside the active one and differences are flagged", () => {
  const raised = variant("billing.cedar", (t) => t.replace("> 5000", "> 10000"));
  assert.notEqual(raised.version, active.version);
  const engine = createPolicyEngine({ active, shadow: raised });

  const same = engine.decide(credit(3000));
  assert.equal(same.differs, false);
  assert.equal(same.difference, undefined);
  assert.equal(same.shadow?.bundleVersion, raised.version);

  const changed = engine.decide(credit(8000));
  assert.equal(changed.active.outcome, "needs-approval");
  assert.equal(changed.active.bundleVersion, active.version);
  assert.equal(changed.shadow?.outcome, "allow");
  assert.equal(changed.differs, true);
  assert.equal(changed.difference, "outcome");
});

test("the same outcome decided by other policies is a policy-ids difference", () => {
  const renamed = variant("billing.cedar", (t) => t.replace('@id("credit-over-500")', '@id("credit-cap")'));
  const result = createPolicyEngine({ active, shadow: renamed }).decide(credit(80000));
  assert.equal(result.active.outcome, "deny");
  assert.equal(result.shadow?.outcome, "deny");
  assert.deepEqual(result.shadow?.policyIds, ["billing.credit-cap"]);
  assert.equal(result.difference, "policy-ids");
});

test("a failing shadow bundle never changes the enforced decision", () => {
  const stricter = variant(
    "billing.cedar",
    (t) => t,
    (s) => s.replace("  failedLineTestInRun: Bool,", "  failedLineTestInRun: Bool,\n  refundsInRun: Long,"),
  );
  const result = createPolicyEngine({ active, shadow: stricter }).decide(credit(3000));
  assert.equal(result.active.outcome, "allow");
  assert.equal(result.shadow?.outcome, "deny");
  assert.match(result.shadow?.errors[0] ?? "", /context\.run\.refundsInRun: required/);
  assert.equal(result.difference, "outcome");
});
