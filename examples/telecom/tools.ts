import type { DatabaseSync, StatementSync } from "node:sqlite";
import { z } from "zod";
import { ArbiterError, ErrorCode } from "../../src/errors/arbiter-error.ts";
import { type AnyTool, defineTool, type ToolContext } from "../../src/tools/tool.ts";

const customerId = z
  .string()
  .regex(/^C-\d{4}$/, 'expected a customer id like "C-1001"')
  .describe('customer id, e.g. "C-1001"');

const dollars = (cents: number): number => Math.round(cents) / 100;

/** Prepared statements, created once per database handle. */
function statements(db: DatabaseSync) {
  return {
    // Two point lookups, not a join: SQLite's join of these two costs ~4 µs more than both lookups.
    customer: db.prepare(
      "SELECT id, name, area, contract_ends, etf_cents, plan_id, credit_cents FROM customers WHERE id = ?",
    ),
    latestBill: db.prepare(
      "SELECT bill_id, period FROM charges WHERE customer_id = ? ORDER BY period DESC LIMIT 1",
    ),
    charges: db.prepare(
      "SELECT id, description, amount_cents, flag FROM charges WHERE customer_id = ? AND bill_id = ? ORDER BY id",
    ),
    addCredit: db.prepare("UPDATE customers SET credit_cents = credit_cents + ? WHERE id = ?"),
    markCredited: db.prepare("INSERT INTO credited_charges (charge_id, credit_id) VALUES (?, ?)"),
    insertCredit: db.prepare(
      "INSERT INTO credits (customer_id, amount_cents, reason, charge_ids, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    creditedCharges: db.prepare(
      "SELECT cc.charge_id, MIN(cc.credit_id) AS credit_id FROM credited_charges cc JOIN charges c ON c.id = cc.charge_id WHERE c.customer_id = ? AND c.bill_id = ? GROUP BY cc.charge_id",
    ),
    lineTest: db.prepare(
      "SELECT status, down_mbps, packet_loss_pct, diagnosis FROM line_tests WHERE customer_id = ?",
    ),
    outage: db.prepare("SELECT description, eta FROM outages WHERE area = ?"),
    insertTicket: db.prepare(
      "INSERT INTO tickets (customer_id, reason, window, created_at) VALUES (?, ?, ?, ?)",
    ),
    plans: db.prepare("SELECT id, name, monthly_cents, down_mbps, tier FROM plans ORDER BY tier"),
    plan: db.prepare("SELECT id, name, monthly_cents, down_mbps, tier FROM plans WHERE id = ?"),
    setPlan: db.prepare("UPDATE customers SET plan_id = ? WHERE id = ?"),
    result: db.prepare("SELECT result_json FROM telecom_results WHERE idempotency_key = ?"),
    saveResult: db.prepare("INSERT INTO telecom_results (idempotency_key, result_json) VALUES (?, ?)"),
    effect: db.prepare(
      "INSERT INTO telecom_effects (idempotency_key, tool, args_json, created_at) VALUES (?, ?, ?, ?)",
    ),
    begin: db.prepare("BEGIN"),
    beginImmediate: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
  } satisfies Record<string, StatementSync>;
}

interface CustomerRow {
  id: string;
  name: string;
  area: string;
  contract_ends: string;
  etf_cents: number;
  plan_id: string;
  /** Credits issued to the account so far. */
  credit_cents: number;
  plan_name: string;
  monthly_cents: number;
  down_mbps: number;
  tier: number;
}

type AccountRow = Omit<CustomerRow, "plan_name" | "monthly_cents" | "down_mbps" | "tier">;

interface PlanRow {
  id: string;
  name: string;
  monthly_cents: number;
  down_mbps: number;
  tier: number;
}

/**
 * Creates the seven telecom tools over the demo database. The database opens on the first tool call;
 * `now` is injected for deterministic tests.
 */
export function createTelecomTools(getDb: () => DatabaseSync, now: () => Date = () => new Date()): AnyTool[] {
  let prepared: { db: DatabaseSync; q: ReturnType<typeof statements> } | undefined;
  const use = () => {
    const db = getDb();
    if (prepared?.db !== db) prepared = { db, q: statements(db) };
    return prepared;
  };
  /** The customer's own row, its plan not looked up: for a call that needs the customer to exist, or its area. */
  const account = (id: string): AccountRow => {
    const row = use().q.customer.get(id) as AccountRow | undefined;
    if (!row) throw new ArbiterError(ErrorCode.ToolFailed, `no customer with id ${id}`);
    return row;
  };
  /** The customer with their plan. */
  const customer = (id: string): CustomerRow => {
    const { q } = use();
    const row = account(id);
    const plan = q.plan.get(row.plan_id) as PlanRow | undefined;
    if (!plan)
      throw new ArbiterError(ErrorCode.ToolFailed, `customer ${id} is on an unknown plan ${row.plan_id}`);
    return {
      ...row,
      plan_name: plan.name,
      monthly_cents: plan.monthly_cents,
      down_mbps: plan.down_mbps,
      tier: plan.tier,
    };
  };
  /**
   * A call's reads in one read transaction: one snapshot, and one read lock (~6 µs) instead of one per
   * statement.
   */
  const read = <T>(fn: (q: ReturnType<typeof statements>) => T): T => {
    const { db, q } = use();
    if (db.isTransaction) return fn(q);
    q.begin.run();
    try {
      return fn(q);
    } finally {
      q.commit.run();
    }
  };
  /**
   * A side effect and its audit row commit together, or not at all; `apply` runs inside the transaction
   * (its reads see what it writes against).
   */
  const effect = <T>(tool: string, args: unknown, ctx: ToolContext, apply: (at: string) => T): T => {
    ctx.signal.throwIfAborted();
    const { q } = use();
    const at = now().toISOString();
    q.beginImmediate.run();
    try {
      // The idempotency key makes a repeat of a call that already happened return its first result,
      // which is what lets the runtime re-execute a call left in doubt by a crash.
      const earlier = q.result.get(ctx.idempotencyKey) as { result_json: string } | undefined;
      if (earlier !== undefined) {
        q.commit.run();
        return JSON.parse(earlier.result_json) as T;
      }
      const result = apply(at);
      q.effect.run(ctx.idempotencyKey, tool, JSON.stringify(args), at);
      q.saveResult.run(ctx.idempotencyKey, JSON.stringify(result));
      q.commit.run();
      return result;
    } catch (error) {
      q.rollback.run();
      throw error;
    }
  };

  return [
    defineTool({
      name: "lookup_charges",
      description: "List the charges on the customer's latest bill, with any charge flagged as an error.",
      input: z.object({ customerId }),
      idempotent: true,
      execute: async ({ customerId: id }) =>
        read((q) => {
          const { credit_cents: credited } = account(id);
          const bill = q.latestBill.get(id) as { bill_id: string; period: string } | undefined;
          if (!bill) return { billId: null, charges: [], total: 0 };
          const rows = q.charges.all(id, bill.bill_id) as Array<{
            id: string;
            description: string;
            amount_cents: number;
            flag: string | null;
          }>;
          const creditedBy = new Map<string, string>();
          for (const row of q.creditedCharges.all(id, bill.bill_id) as Array<{
            charge_id: string;
            credit_id: number;
          }>) {
            creditedBy.set(row.charge_id, `CR-${row.credit_id}`);
          }
          return {
            billId: bill.bill_id,
            period: bill.period,
            total: dollars(rows.reduce((s, r) => s + r.amount_cents, 0)),
            creditsIssued: dollars(credited),
            charges: rows.map((r) => ({
              id: r.id,
              description: r.description,
              amount: dollars(r.amount_cents),
              ...(r.flag ? { flagged: r.flag } : {}),
              ...(creditedBy.has(r.id) ? { creditedBy: creditedBy.get(r.id) } : {}),
            })),
          };
        }),
    }),
    defineTool({
      name: "issue_credit",
      description: "Credit the customer's account. Amount in dollars; give the reason.",
      input: z.object({
        customerId,
        amount: z.number().positive().max(100_000).describe("dollars, e.g. 12.99"),
        reason: z.string().min(3).max(200),
        chargeIds: z.array(z.string()).max(20).optional().describe("ids of the charges this credit corrects"),
      }),
      sideEffect: true,
      idempotent: true,
      facts: (args) => ({ amountCents: Math.round(args.amount * 100) }),
      counters: { creditsIssuedCents: { initial: 0, add: (args) => Math.round(args.amount * 100) } },
      execute: async (args, ctx) => {
        const cents = Math.round(args.amount * 100);
        return effect("issue_credit", args, ctx, (at) => {
          account(args.customerId);
          const { q } = use();
          const info = q.insertCredit.run(
            args.customerId,
            cents,
            args.reason,
            (args.chargeIds ?? []).join(","),
            at,
          );
          q.addCredit.run(cents, args.customerId);
          for (const charge of args.chargeIds ?? []) q.markCredited.run(charge, info.lastInsertRowid);
          return { creditId: `CR-${info.lastInsertRowid}`, amount: dollars(cents), reason: args.reason };
        });
      },
    }),
    defineTool({
      name: "run_line_test",
      description: "Run a remote line test on the customer's connection.",
      input: z.object({ customerId }),
      idempotent: true,
      counters: {
        failedLineTestInRun: {
          initial: false,
          add: (_args, out) => (out as { result: string }).result === "fail",
        },
      },
      execute: async ({ customerId: id }) => {
        const row = read((q) => {
          account(id);
          return q.lineTest.get(id) as
            | { status: string; down_mbps: number; packet_loss_pct: number; diagnosis: string }
            | undefined;
        });
        if (!row) throw new ArbiterError(ErrorCode.ToolFailed, `no line on record for ${id}`);
        return {
          result: row.status,
          downstreamMbps: row.down_mbps,
          packetLossPct: row.packet_loss_pct,
          diagnosis: row.diagnosis,
        };
      },
    }),
    defineTool({
      name: "check_outage",
      description: "Check for a known network outage in the customer's area.",
      input: z.object({ customerId }),
      idempotent: true,
      execute: async ({ customerId: id }) => {
        const [c, row] = read((q) => {
          const found = account(id);
          return [
            found,
            q.outage.get(found.area) as { description: string; eta: string } | undefined,
          ] as const;
        });
        return row
          ? { area: c.area, outage: true, description: row.description, eta: row.eta }
          : { area: c.area, outage: false };
      },
    }),
    defineTool({
      name: "dispatch_technician",
      description: "Book a technician visit for a fault a line test confirmed.",
      input: z.object({ customerId, reason: z.string().min(3).max(200) }),
      sideEffect: true,
      idempotent: true,
      execute: async (args, ctx) => {
        const window = nextWindow(now());
        return effect("dispatch_technician", args, ctx, (at) => {
          account(args.customerId);
          const info = use().q.insertTicket.run(args.customerId, args.reason, window, at);
          return { ticketId: `T-${info.lastInsertRowid}`, window };
        });
      },
    }),
    defineTool({
      name: "list_plans",
      description: "The customer's current plan, the plans on offer, and the early-termination fee if any.",
      input: z.object({ customerId }),
      idempotent: true,
      execute: async ({ customerId: id }) => {
        const [c, plans] = read((q) => [customer(id), q.plans.all() as unknown as PlanRow[]] as const);
        return {
          current: {
            id: c.plan_id,
            name: c.plan_name,
            monthly: dollars(c.monthly_cents),
            downMbps: c.down_mbps,
          },
          contractEnds: c.contract_ends,
          earlyTerminationFeeOnDowngrade: dollars(c.etf_cents),
          plans: plans.map((p) => ({
            id: p.id,
            name: p.name,
            monthly: dollars(p.monthly_cents),
            downMbps: p.down_mbps,
          })),
        };
      },
    }),
    defineTool({
      name: "change_plan",
      description: "Move the customer to another plan, effective immediately.",
      input: z.object({ customerId, planId: z.string().min(1) }),
      sideEffect: true,
      idempotent: true,
      // What the change would do, from the systems of record — never from the model's arguments.
      facts: (args) => {
        const [current, target] = read(
          (q) => [customer(args.customerId), q.plan.get(args.planId) as PlanRow | undefined] as const,
        );
        const isDowngrade = target !== undefined && target.tier < current.tier;
        return { isDowngrade, earlyTerminationFeeCents: isDowngrade ? current.etf_cents : 0 };
      },
      execute: async (args, ctx) => {
        const { q } = use();
        const [c, target] = read(
          () => [customer(args.customerId), q.plan.get(args.planId) as PlanRow | undefined] as const,
        );
        if (!target) {
          const known = (q.plans.all() as unknown as PlanRow[]).map((p) => p.id).join(", ");
          throw new ArbiterError(ErrorCode.ToolFailed, `no plan "${args.planId}"; plans: ${known}`);
        }
        if (target.id === c.plan_id) return { previous: c.plan_id, current: c.plan_id, changed: false };
        const isDowngrade = target.tier < c.tier;
        return effect("change_plan", args, ctx, () => {
          q.setPlan.run(target.id, c.id);
          return {
            previous: c.plan_id,
            current: target.id,
            changed: true,
            monthly: dollars(target.monthly_cents),
            isDowngrade,
            earlyTerminationFee: isDowngrade ? dollars(c.etf_cents) : 0,
          };
        });
      },
    }),
  ];
}

/** Next weekday morning slot after `from` (UTC). */
function nextWindow(from: Date): string {
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() + 1));
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return `${d.toISOString().slice(0, 10)} 08:00-12:00`;
}
