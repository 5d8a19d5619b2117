import { randomUUID } from "node:crypto";
import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { BudgetExceededError } from "./budget-exceeded-error.ts";
import type { Price } from "./cost.ts";
import { costOf } from "./cost.ts";
import { TokenEstimator } from "./estimate-tokens.ts";
import type { BudgetPeriod, Ledger, LedgerEntry, LimitCheck } from "./ledger.ts";

/** A token and/or money limit; an absent field is not limited. */
export interface BudgetLimits {
  readonly tokens?: number | undefined;
  readonly costUsd?: number | undefined;
}

export type TenantLimits = Readonly<Partial<Record<BudgetPeriod, BudgetLimits>>>;

/** The configured budgets (from the profile). */
export interface BudgetLimitsConfig {
  /** Every request (run): planner, workers and synthesizer together. */
  readonly perRequest?: BudgetLimits;
  /** Each worker within a request, unless `workers` names it. */
  readonly perWorker?: BudgetLimits;
  readonly workers?: Readonly<Record<string, BudgetLimits>>;
  /** Each tenant per UTC day and/or month, unless `tenants` names it. */
  readonly perTenant?: TenantLimits;
  readonly tenants?: Readonly<Record<string, TenantLimits>>;
}

/** Who a call is made for: what its spend is counted against and recorded under. */
export interface BudgetSubject {
  readonly tenant: string;
  readonly runId: string;
  /** The worker making the call; absent for the planner and synthesizer. */
  readonly worker?: string | undefined;
  readonly profileVersion?: string | undefined;
  /** Limits that replace the configured request or worker limits for this call (a budget handed down). */
  readonly limits?: { readonly request?: BudgetLimits; readonly worker?: BudgetLimits } | undefined;
}

export interface BudgetOptions {
  readonly ledger: Ledger;
  readonly limits?: BudgetLimitsConfig;
  /** Epoch milliseconds; decides the tenant period a call falls in. Default `Date.now`. */
  readonly clock?: () => number;
  readonly newId?: () => string;
  /** How long an unsettled hold counts against budgets (a crashed process's holds lapse). Default 15 min. */
  readonly holdTtlMs?: number;
  /** Output tokens assumed when a call sets no `maxOutputTokens`. Default 1024. */
  readonly defaultOutputTokens?: number;
}

export interface CallEstimate {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  /** Characters the input estimate was made from (for calibration). */
  readonly chars: number;
}

/** A reservation for one call, to be settled with what the call used. */
export interface BudgetHold {
  /** The ledger hold's id; empty when nothing was held. */
  readonly id: string;
  readonly subject: BudgetSubject;
  readonly model: string;
  readonly provider?: string | undefined;
  readonly price?: Price | undefined;
  readonly estimate: CallEstimate;
  /** Whether a ledger hold was taken (no limits apply → nothing to hold). */
  readonly held: boolean;
}

export interface CallUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * Enforces token and money budgets per request, per worker within a request, and per tenant per
 * UTC day/month, and records every call in the cost ledger.
 *
 * A call is estimated (prompt tokens + max output tokens, priced from the catalog) and *held*
 * before it is made: the hold counts against every budget it falls under until the call is
 * settled with its actual usage, so concurrent branches — and other processes on the same ledger —
 * cannot together overrun a budget that each would fit under alone.
 *
 * @example
 * const budget = new Budget({ ledger: new MemoryLedger(), limits: { perRequest: { costUsd: 0.05 } } });
 * const hold = await budget.reserve(subject, "gpt", budget.estimate("gpt", price, params));
 * await budget.settle(hold, { inputTokens: 812, outputTokens: 140 });
 */
export class Budget {
  readonly ledger: Ledger;
  readonly #limits: BudgetLimitsConfig;
  readonly #clock: () => number;
  readonly #newId: () => string;
  readonly #holdTtlMs: number;
  readonly #estimator: TokenEstimator;

  constructor(options: BudgetOptions) {
    this.ledger = options.ledger;
    this.#limits = options.limits ?? {};
    this.#clock = options.clock ?? Date.now;
    this.#newId = options.newId ?? randomUUID;
    this.#holdTtlMs = options.holdTtlMs ?? 15 * 60_000;
    this.#estimator = new TokenEstimator(
      options.defaultOutputTokens === undefined ? {} : { defaultOutputTokens: options.defaultOutputTokens },
    );
  }

  /** Prompt tokens + max output tokens for a call to `model`, and their price. */
  estimate(
    model: string,
    price: Price | undefined,
    params: Pick<LanguageModelV4CallOptions, "prompt" | "tools" | "maxOutputTokens">,
  ): CallEstimate {
    const tokens = this.#estimator.estimate(model, params);
    return { ...tokens, costUsd: costOf(price, tokens.inputTokens, tokens.outputTokens) };
  }

  /**
   * Holds a call's estimate against every budget that applies to it.
   * @throws BudgetExceededError naming the first budget the call does not fit under.
   */
  async reserve(
    subject: BudgetSubject,
    model: { name: string; provider?: string | undefined; price?: Price | undefined },
    estimate: CallEstimate,
  ): Promise<BudgetHold> {
    const checks = this.#checksFor(subject);
    // A call under no budget holds nothing: its hold is never written, so it needs no id.
    const id = checks.length > 0 ? this.#newId() : "";
    const hold = {
      id,
      subject,
      model: model.name,
      provider: model.provider,
      price: model.price,
      estimate,
      held: checks.length > 0,
    };
    if (checks.length === 0) return hold;
    const at = this.#clock();
    const result = await this.ledger.hold({
      id,
      tenant: subject.tenant,
      runId: subject.runId,
      worker: subject.worker,
      tokens: estimate.inputTokens + estimate.outputTokens,
      costUsd: estimate.costUsd,
      at,
      expiresAt: at + this.#holdTtlMs,
      checks,
    });
    if (!result.ok) throw new BudgetExceededError(result.exceeded, model.name);
    return hold;
  }

  /**
   * Replaces a hold with the call's actual usage in the ledger; `undefined` usage (the call failed
   * before using anything) just releases it. Returns the recorded entry.
   */
  async settle(hold: BudgetHold, usage: CallUsage | undefined): Promise<LedgerEntry | undefined> {
    if (usage !== undefined) this.#estimator.observe(hold.model, hold.estimate.chars, usage.inputTokens);
    const entry: LedgerEntry | undefined =
      usage === undefined
        ? undefined
        : {
            tenant: hold.subject.tenant,
            runId: hold.subject.runId,
            worker: hold.subject.worker,
            model: hold.model,
            provider: hold.provider,
            profileVersion: hold.subject.profileVersion,
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            costUsd: costOf(hold.price, usage.inputTokens, usage.outputTokens),
            at: this.#clock(),
          };
    if (hold.held) await this.ledger.settle(hold.id, entry);
    else if (entry !== undefined) await this.ledger.record(entry);
    return entry;
  }

  #checksFor(subject: BudgetSubject): LimitCheck[] {
    const checks: LimitCheck[] = [];
    const add = (scope: LimitCheck["scope"], limits: BudgetLimits | undefined) => {
      if (limits !== undefined && (limits.tokens !== undefined || limits.costUsd !== undefined)) {
        checks.push({ scope, tokens: limits.tokens, costUsd: limits.costUsd });
      }
    };
    const config = this.#limits;
    add({ kind: "request", runId: subject.runId }, subject.limits?.request ?? config.perRequest);
    if (subject.worker !== undefined) {
      add(
        { kind: "worker", runId: subject.runId, worker: subject.worker },
        subject.limits?.worker ?? config.workers?.[subject.worker] ?? config.perWorker,
      );
    }
    const tenant = config.tenants?.[subject.tenant] ?? config.perTenant;
    if (tenant !== undefined) {
      const at = this.#clock();
      add({ kind: "tenant", tenant: subject.tenant, period: "day", at }, tenant.day);
      add({ kind: "tenant", tenant: subject.tenant, period: "month", at }, tenant.month);
    }
    return checks;
  }
}
