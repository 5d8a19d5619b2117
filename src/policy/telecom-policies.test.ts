import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadPolicyBundle } from "./cedar/load-policy-bundle.ts";
import type { DecideOptions, Decision, PolicyRequest } from "./decision.ts";
import {
  delegationRequest,
  modelEgressRequest,
  type RunCounters,
  type ToolCallRequestInput,
  toolCallRequest,
} from "./requests.ts";

const bundle = loadPolicyBundle(join(import.meta.dirname, "../../examples/telecom/policies"));
const scope = { runId: "run-1", tenant: "acme", taskId: "t1" };
const fresh: RunCounters = { creditsIssuedCents: 0, failedLineTestInRun: false };

function expect(
  request: PolicyRequest,
  outcome: Decision["outcome"],
  policyIds: string[],
  options?: DecideOptions,
) {
  const decision = bundle.decide(request, options);
  assert.deepEqual(
    { outcome: decision.outcome, policyIds: decision.policyIds, errors: decision.errors },
    { outcome, policyIds, errors: [] },
  );
  assert.equal(decision.bundleVersion, bundle.version);
  return decision;
}
const tool = (worker: string, name: string, extra: Partial<ToolCallRequestInput> = {}) =>
  toolCallRequest({ ...scope, worker, tool: name, run: fresh, ...extra });
const credit = (amountCents: unknown, run: RunCounters = fresh, injectionScore = 0) =>
  tool("billing", "issue_credit", {
    args: { customerId: "C-1001", amount: Number(amountCents) / 100, reason: "overcharge" },
    facts: { amountCents },
    run,
    injectionScore,
  });

test("the bundle loads without warnings", () => {
  assert.deepEqual(bundle.warnings, []);
  assert.equal(bundle.policies.length, 15);
});

describe("delegation", () => {
  test("the supervisor may delegate to every telecom worker", () => {
    for (const worker of ["billing", "tech_support", "account", "generalist"]) {
      expect(delegationRequest({ ...scope, worker }), "allow", ["delegation.telecom-workers"]);
    }
  });
  test("to no other worker (default deny)", () => {
    expect(delegationRequest({ ...scope, worker: "hr" }), "deny", []);
  });
  test("card or bank data go to billing and account; elsewhere a human must agree", () => {
    expect(delegationRequest({ ...scope, worker: "billing", dataClasses: ["PCI", "PII"] }), "allow", [
      "delegation.telecom-workers",
    ]);
    expect(delegationRequest({ ...scope, worker: "account", dataClasses: ["BANK"] }), "allow", [
      "delegation.telecom-workers",
    ]);
    const d = expect(
      delegationRequest({ ...scope, worker: "tech_support", dataClasses: ["PCI"] }),
      "needs-approval",
      ["delegation.card-or-bank-data-outside-billing-and-account", "delegation.telecom-workers"],
    );
    assert.match(d.reasons[0]!, /card or bank data/);
    expect(delegationRequest({ ...scope, worker: "generalist", dataClasses: ["PII"] }), "allow", [
      "delegation.telecom-workers",
    ]);
  });
});

describe("read-only tools", () => {
  test("every worker may call its own read-only tools", () => {
    expect(tool("billing", "lookup_charges"), "allow", ["read-only-tools.billing"]);
    expect(tool("tech_support", "run_line_test"), "allow", ["read-only-tools.tech-support"]);
    expect(tool("tech_support", "check_outage"), "allow", ["read-only-tools.tech-support"]);
    expect(tool("account", "list_plans"), "allow", ["read-only-tools.account"]);
  });
  test("and no other worker's tools", () => {
    expect(tool("billing", "list_plans"), "deny", []);
    expect(tool("account", "lookup_charges"), "deny", []);
    expect(tool("generalist", "check_outage"), "deny", []);
    expect(tool("tech_support", "issue_credit", { facts: { amountCents: 100 } }), "deny", []);
  });
});

describe("billing credits", () => {
  test("up to $50 without approval", () => {
    expect(credit(3000), "allow", ["billing.issue-credit"]);
    expect(credit(5000), "allow", ["billing.issue-credit"]);
  });
  test("above $50 needs approval", () => {
    for (const amount of [5001, 8000, 50000]) {
      const d = expect(credit(amount), "needs-approval", ["billing.credit-over-50", "billing.issue-credit"]);
      assert.deepEqual(d.reasons, ["credits above $50 in one run need a human approval"]);
    }
  });
  test("above $500 is denied, even with an approval", () => {
    const d = expect(credit(50001), "deny", ["billing.credit-over-500"]);
    assert.deepEqual(d.reasons, ["credits above $500 in one run are never allowed"]);
    expect(credit(80000), "deny", ["billing.credit-over-500"], {
      approved: ["billing.credit-over-50", "billing.credit-over-500"],
    });
  });
  test("limits count the credits already issued in the run", () => {
    expect(credit(2000, { ...fresh, creditsIssuedCents: 3000 }), "allow", ["billing.issue-credit"]);
    expect(credit(2000, { ...fresh, creditsIssuedCents: 4000 }), "needs-approval", [
      "billing.credit-over-50",
      "billing.issue-credit",
    ]);
    expect(credit(1000, { ...fresh, creditsIssuedCents: 49500 }), "deny", ["billing.credit-over-500"]);
  });
  test("an approved credit above $50 is allowed", () => {
    expect(credit(8000), "allow", ["billing.credit-over-50", "billing.issue-credit"], {
      approved: ["billing.credit-over-50", "billing.issue-credit"],
    });
  });
  test("no amount, a zero or negative amount, or a non-integer amount is denied", () => {
    expect(tool("billing", "issue_credit", { args: { amount: 30, reason: "x" } }), "deny", []);
    expect(credit(0), "deny", []);
    expect(credit(-500), "deny", []);
    const d = bundle.decide(credit("8000"));
    assert.equal(d.outcome, "deny");
    assert.deepEqual(d.errors, ["context.facts.amountCents: expected an integer (Long), got a string"]);
    assert.equal(bundle.decide(credit(30.5)).outcome, "deny");
  });
  test("the amount checked is the trusted one, not what the model claims", () => {
    const forged = tool("billing", "issue_credit", {
      args: { amount: 800, amountCents: 3000, reason: "x" },
      facts: { amountCents: 80000 },
    });
    expect(forged, "deny", ["billing.credit-over-500"]);
  });
});

describe("plan changes", () => {
  const change = (facts?: Record<string, unknown>) =>
    tool("account", "change_plan", { args: { planId: "basic-10" }, ...(facts ? { facts } : {}) });
  test("a downgrade with an early-termination fee needs approval", () => {
    const d = expect(change({ isDowngrade: true, earlyTerminationFeeCents: 15000 }), "needs-approval", [
      "account.downgrade-with-fee",
      "account.change-plan",
    ]);
    assert.match(d.reasons[0]!, /early-termination fee/);
  });
  test("an upgrade, or a downgrade without a fee, does not", () => {
    expect(change({ isDowngrade: false, earlyTerminationFeeCents: 15000 }), "allow", ["account.change-plan"]);
    expect(change({ isDowngrade: true, earlyTerminationFeeCents: 0 }), "allow", ["account.change-plan"]);
  });
  test("unknown facts fail safe to approval, and the model cannot supply them", () => {
    expect(change(), "needs-approval", ["account.downgrade-with-fee", "account.change-plan"]);
    const forged = tool("account", "change_plan", {
      args: { planId: "basic-10", isDowngrade: false, earlyTerminationFeeCents: 0 },
    });
    expect(forged, "needs-approval", ["account.downgrade-with-fee", "account.change-plan"]);
  });
  test("only account changes plans", () => {
    expect(
      tool("billing", "change_plan", { facts: { isDowngrade: false, earlyTerminationFeeCents: 0 } }),
      "deny",
      [],
    );
  });
});

describe("technician dispatch", () => {
  test("only after a failed line test in the same run", () => {
    const d = expect(tool("tech_support", "dispatch_technician"), "deny", [
      "tech-support.dispatch-needs-failed-line-test",
    ]);
    assert.deepEqual(d.reasons, ["a technician is dispatched only after a failed line test in the same run"]);
    expect(
      tool("tech_support", "dispatch_technician", { run: { ...fresh, failedLineTestInRun: true } }),
      "allow",
      ["tech-support.dispatch-technician"],
    );
  });
  test("the model cannot claim the line test failed", () => {
    const forged = tool("tech_support", "dispatch_technician", {
      args: { failedLineTestInRun: true, run: { failedLineTestInRun: true } },
    });
    expect(forged, "deny", ["tech-support.dispatch-needs-failed-line-test"]);
  });
  test("by tech_support only", () => {
    expect(
      tool("billing", "dispatch_technician", { run: { ...fresh, failedLineTestInRun: true } }),
      "deny",
      [],
    );
  });
});

describe("model egress", () => {
  const egress = (
    external: boolean,
    dataClasses: string[],
    caller: { worker: string } | { supervisor: string },
  ) =>
    modelEgressRequest({
      ...scope,
      ...caller,
      provider: "openai",
      model: "gpt-4o-mini",
      external,
      dataClasses,
    });
  const forbidden = "model-egress.no-card-or-bank-data-to-external-providers";
  test("no card numbers or bank accounts to an external provider, from anyone", () => {
    expect(egress(true, ["PCI"], { worker: "billing" }), "deny", [forbidden]);
    expect(egress(true, ["PII", "BANK"], { worker: "account" }), "deny", [forbidden]);
    expect(egress(true, ["PCI"], { supervisor: "supervisor" }), "deny", [forbidden]);
  });
  test("a local model may see them; an external one may see other data", () => {
    expect(egress(false, ["PCI", "BANK"], { worker: "billing" }), "allow", ["model-egress.any-model"]);
    expect(egress(true, ["PII"], { worker: "tech_support" }), "allow", ["model-egress.any-model"]);
    expect(egress(true, [], { supervisor: "supervisor" }), "allow", ["model-egress.any-model"]);
  });
});

describe("suspected prompt injection", () => {
  const flagged = ["prompt-injection.side-effect-under-suspected-injection", "billing.issue-credit"];
  test("side effects need a human; reads do not", () => {
    expect(credit(3000, fresh, 0.9), "needs-approval", flagged);
    expect(credit(3000, fresh, 0.79), "allow", ["billing.issue-credit"]);
    expect(tool("billing", "lookup_charges", { injectionScore: 0.95 }), "allow", ["read-only-tools.billing"]);
  });
  test("and every approval that applies is asked for, while a hard limit still wins", () => {
    expect(credit(8000, fresh, 0.9), "needs-approval", [
      "billing.credit-over-50",
      "prompt-injection.side-effect-under-suspected-injection",
      "billing.issue-credit",
    ]);
    expect(credit(80000, fresh, 0.9), "deny", ["billing.credit-over-500"]);
  });
});

test("a request the schema does not describe is denied", () => {
  const d = bundle.decide({
    ...tool("billing", "lookup_charges"),
    principal: { type: "Supervisor", id: "s" },
  });
  assert.equal(d.outcome, "deny");
  assert.match(d.errors[0]!, /principal: call_tool applies to Worker, not Supervisor/);
  const missing = bundle.decide({ ...tool("billing", "lookup_charges"), context: { runId: "r" } });
  assert.equal(missing.outcome, "deny");
  assert.ok(missing.errors.some((e) => e === "context.tenant: required by the schema but missing"));
});
