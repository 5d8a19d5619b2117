import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import type { BudgetPeriod, LimitExceeded, SpendScope } from "./ledger.ts";
import { periodKey } from "./period.ts";

/** Which budget a call ran into. */
export type BudgetScopeName = "request" | "worker" | `tenant-${BudgetPeriod}`;

/**
 * A call was refused before it was made because its estimate would take a budget past its limit.
 * Typed fields say which budget, what it allows and what is already spent (including calls in
 * flight), so the supervisor can stop that branch and journal `budget-exceed`.
 */
export class BudgetExceededError extends ArbiterError {
  readonly scope: BudgetScopeName;
  /** The run id, `runId/worker`, or `tenant@YYYY-MM(-DD)` the budget is counted over. */
  readonly subject: string;
  readonly unit: "tokens" | "usd";
  readonly limit: number;
  readonly spent: number;
  /** This call's estimate (prompt tokens + max output tokens, or their price). */
  readonly estimate: number;

  constructor(exceeded: LimitExceeded, model: string) {
    const scope = scopeName(exceeded.scope);
    const subject = subjectOf(exceeded.scope);
    const amount = (value: number) =>
      exceeded.unit === "usd" ? `$${value.toFixed(6)}` : `${Math.round(value)} tokens`;
    super(
      ErrorCode.BudgetExceeded,
      `The ${scope} budget of ${subject} would be exceeded by a call to ${model}: ` +
        `${amount(exceeded.spent)} spent or in flight + ${amount(exceeded.requested)} estimated > ` +
        `limit ${amount(exceeded.limit)}. Raise the ${scope} budget, lower maxOutputTokens, ` +
        "or let the run continue as partial.",
      {
        details: {
          scope,
          subject,
          unit: exceeded.unit,
          limit: exceeded.limit,
          spent: exceeded.spent,
          estimate: exceeded.requested,
          model,
        },
      },
    );
    this.name = "BudgetExceededError";
    this.scope = scope;
    this.subject = subject;
    this.unit = exceeded.unit;
    this.limit = exceeded.limit;
    this.spent = exceeded.spent;
    this.estimate = exceeded.requested;
  }
}

function scopeName(scope: SpendScope): BudgetScopeName {
  return scope.kind === "tenant" ? `tenant-${scope.period}` : scope.kind;
}

function subjectOf(scope: SpendScope): string {
  switch (scope.kind) {
    case "request":
      return scope.runId;
    case "worker":
      return `${scope.runId}/${scope.worker}`;
    case "tenant":
      return `${scope.tenant}@${periodKey(scope.period, scope.at)}`;
  }
}
