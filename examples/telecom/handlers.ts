import type { CodeHandler, HandlerContext } from "../../src/workers/code-handler.ts";
import type { WorkerAnswer } from "../../src/workers/worker-result.ts";

/** The demo's signed-in customer when the request carries no `customerId`. */
export const DEMO_CUSTOMER = "C-1001";

const customerOf = (ctx: HandlerContext): string =>
  typeof ctx.requestContext.customerId === "string" ? ctx.requestContext.customerId : DEMO_CUSTOMER;

const money = (n: number): string => `$${n.toFixed(2)}`;

const refuse = (worker: string, input: string): WorkerAnswer => ({
  status: "refused",
  summary: `"${input.slice(0, 80)}" is outside the ${worker} scope`,
  confidence: 1,
});

interface Charge {
  id: string;
  description: string;
  amount: number;
  flagged?: string;
  creditedBy?: string;
}

const BILLING_SCOPE =
  /\b(bill\w*|charg\w*|overcharg\w*|refund\w*|credit\w*|invoice\w*|fee\w*|paid|payment\w*)\b/i;
const TECH_SCOPE =
  /\b(internet|online|slow\w*|speed\w*|connection|connect\w*|wi-?fi|outage\w*|down|drop\w*|lag\w*|router|modem|signal|line|buffer\w*|stall\w*|freez\w*|video\w*|stream\w*|load\w*|technician|fix)\b/i;
const ACCOUNT_SCOPE =
  /\b(plan\w*|upgrade\w*|downgrade\w*|switch\w*|faster|cheaper|package|tier|gigabit|contract)\b/i;

/** Finds "$80", "80 dollars", "80.50" next to credit/refund words. */
function requestedAmount(text: string): number | undefined {
  const m = /\$\s?(\d+(?:\.\d{1,2})?)|(\d+(?:\.\d{1,2})?)\s?(?:dollars|usd)\b/i.exec(text);
  if (!m) return undefined;
  return Number(m[1] ?? m[2]);
}

export const billing: CodeHandler = async (task, ctx) => {
  if (!BILLING_SCOPE.test(task.input)) return refuse("billing", task.input);
  const customerId = customerOf(ctx);
  const bill = await ctx.callTool<{ billId: string | null; period?: string; charges: Charge[] }>(
    "lookup_charges",
    {
      customerId,
    },
  );
  const asked = requestedAmount(task.input);
  const flagged = bill.charges.filter((c) => c.flagged && !c.creditedBy);
  const settledBefore = bill.charges.filter((c) => c.flagged && c.creditedBy);
  const evidence = [`bill ${bill.billId}: ${bill.charges.length} charges, ${flagged.length} flagged`];
  if (asked !== undefined) {
    const credit = await ctx.callTool<{ creditId: string; amount: number }>("issue_credit", {
      customerId,
      amount: asked,
      reason: `customer request: ${task.input.slice(0, 120)}`,
    });
    return {
      status: "ok",
      summary: `I've issued a credit of ${money(credit.amount)} to your account (reference ${credit.creditId}).`,
      data: { creditId: credit.creditId, amount: credit.amount, billId: bill.billId },
      confidence: 0.9,
      evidence,
    };
  }
  if (flagged.length === 0 && settledBefore.length > 0) {
    const refs = settledBefore
      .map((c) => `${c.description} ${money(c.amount)} (credit ${c.creditedBy})`)
      .join("; ");
    return {
      status: "ok",
      summary: `The billing error on ${bill.billId} was already corrected: ${refs}. No further credit is due.`,
      data: { billId: bill.billId, alreadyCredited: settledBefore.map((c) => c.creditedBy) },
      confidence: 0.9,
      evidence,
    };
  }
  if (flagged.length === 0) {
    return {
      status: "ok",
      summary: `I checked your ${bill.period ?? "latest"} bill and every charge matches your plan and services, so no credit is due.`,
      data: { billId: bill.billId },
      confidence: 0.8,
      evidence,
    };
  }
  const total = Math.round(flagged.reduce((s, c) => s + c.amount, 0) * 100) / 100;
  const what = flagged.map((c) => `${c.description} ${money(c.amount)} (${c.flagged})`).join("; ");
  const credit = await ctx.callTool<{ creditId: string; amount: number }>("issue_credit", {
    customerId,
    amount: total,
    reason: `billing error on ${bill.billId}: ${what}`.slice(0, 200),
    chargeIds: flagged.map((c) => c.id),
  });
  return {
    status: "ok",
    summary: `You were overcharged on bill ${bill.billId}: ${what}. I've credited ${money(credit.amount)} to your account (reference ${credit.creditId}).`,
    data: {
      billId: bill.billId,
      creditId: credit.creditId,
      amount: credit.amount,
      charges: flagged.map((c) => c.id),
    },
    confidence: 0.95,
    evidence: [...evidence, `credit ${credit.creditId}`],
  };
};

export const techSupport: CodeHandler = async (task, ctx) => {
  if (!TECH_SCOPE.test(task.input)) return refuse("tech_support", task.input);
  const customerId = customerOf(ctx);
  const outage = await ctx.callTool<{ area: string; outage: boolean; description?: string; eta?: string }>(
    "check_outage",
    { customerId },
  );
  if (outage.outage) {
    return {
      status: "ok",
      summary: `There is a known outage in your area (${outage.description}); service should be back by ${outage.eta}.`,
      data: { outage: true, area: outage.area, eta: outage.eta },
      confidence: 0.9,
      evidence: [`outage in ${outage.area}`],
    };
  }
  const test = await ctx.callTool<{
    result: string;
    downstreamMbps: number;
    packetLossPct: number;
    diagnosis: string;
  }>("run_line_test", { customerId });
  const evidence = [
    `no outage in ${outage.area}`,
    `line test ${test.result}: ${test.downstreamMbps} Mbps, ${test.packetLossPct}% loss`,
  ];
  if (test.result === "fail") {
    const visit = await ctx.callTool<{ ticketId: string; window: string }>("dispatch_technician", {
      customerId,
      reason: `line test failed: ${test.diagnosis}`.slice(0, 200),
    });
    return {
      status: "ok",
      summary: `A line test found a fault (${test.diagnosis}; ${test.downstreamMbps} Mbps with ${test.packetLossPct}% packet loss). A technician is booked for ${visit.window} (ticket ${visit.ticketId}).`,
      data: { lineTest: test, ticketId: visit.ticketId, window: visit.window },
      confidence: 0.9,
      evidence: [...evidence, `ticket ${visit.ticketId}`],
    };
  }
  return {
    status: "ok",
    summary: `Your line tested healthy (${test.downstreamMbps} Mbps, no outage). Restart your router and test over a cable; if it is still slow, reply and we'll dig deeper.`,
    data: { lineTest: test },
    confidence: 0.75,
    evidence,
  };
};

interface PlanInfo {
  id: string;
  name: string;
  monthly: number;
  downMbps: number;
}

export const account: CodeHandler = async (task, ctx) => {
  if (!ACCOUNT_SCOPE.test(task.input)) return refuse("account", task.input);
  const customerId = customerOf(ctx);
  const info = await ctx.callTool<{
    current: PlanInfo;
    plans: PlanInfo[];
    earlyTerminationFeeOnDowngrade: number;
  }>("list_plans", { customerId });
  const index = info.plans.findIndex((p) => p.id === info.current.id);
  const named = info.plans.find((p) => new RegExp(`\\b${p.name.split(" ").pop()}\\b`, "i").test(task.input));
  const wantsDown = /\b(downgrade|cheaper|lower|smaller)\b/i.test(task.input);
  const target = named ?? (wantsDown ? info.plans[index - 1] : info.plans[index + 1]);
  if (target === undefined || target.id === info.current.id) {
    return {
      status: "ok",
      summary: `You're already on ${info.current.name} (${info.current.downMbps} Mbps), ${wantsDown ? "our smallest" : "our fastest"} suitable plan.`,
      data: { current: info.current.id },
      confidence: 0.8,
    };
  }
  const change = await ctx.callTool<{
    current: string;
    changed: boolean;
    monthly: number;
    isDowngrade: boolean;
    earlyTerminationFee: number;
  }>("change_plan", { customerId, planId: target.id });
  if (!change.changed) {
    // Changed meanwhile (another request moved the customer there first): nothing to do.
    return {
      status: "ok",
      summary: `You're already on ${target.name} (${target.downMbps} Mbps) at ${money(target.monthly)}/month.`,
      data: { current: change.current },
      confidence: 0.85,
      evidence: [`plan ${change.current} unchanged`],
    };
  }
  const fee =
    change.isDowngrade && change.earlyTerminationFee > 0
      ? ` An early-termination fee of ${money(change.earlyTerminationFee)} applies.`
      : "";
  return {
    status: "ok",
    summary:
      `You're now on ${target.name} (${target.downMbps} Mbps) at ${money(change.monthly)}/month, ` +
      `${change.isDowngrade ? "down" : "up"} from ${info.current.name}.${fee}`,
    data: {
      previous: info.current.id,
      current: change.current,
      monthly: change.monthly,
      isDowngrade: change.isDowngrade,
    },
    confidence: 0.9,
    evidence: [`plan ${info.current.id} → ${change.current}`],
  };
};

export const generalist: CodeHandler = async (task) => ({
  status: "ok",
  summary:
    "I can help with bills and credits, internet and connection problems, and plan changes. " +
    `I've noted your question ("${task.input.slice(0, 100)}") for a colleague who can help with it.`,
  data: { forwarded: true },
  confidence: 0.6,
});
