import type { z } from "zod";

/** What a tool sees of the run that called it. */
export interface ToolContext {
  readonly runId: string;
  readonly taskId: string;
  readonly worker: string;
  readonly tenant: string;
  /** Stable across retries and resumes of the same call: run id + step id. */
  readonly idempotencyKey: string;
  readonly signal: AbortSignal;
  /** Request-scoped facts passed by the caller (customer id, channel, …). */
  readonly requestContext: Readonly<Record<string, unknown>>;
}

/**
 * A tool a worker may call. Input is validated with `input` before `execute` runs.
 * @example
 * const lookup = defineTool({
 *   name: "lookup_charges",
 *   description: "List the charges on the customer's latest bill.",
 *   input: z.object({ customerId: z.string() }),
 *   execute: async ({ customerId }, ctx) => db.charges(customerId),
 * });
 */
export interface ToolDefinition<I = unknown, O = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<I>;
  /** Changes the outside world (credits, plan changes, dispatches). */
  readonly sideEffect?: boolean;
  /** Safe to execute twice with the same idempotency key (matters when a call is in doubt). */
  readonly idempotent?: boolean;
  /**
   * What the call would do, computed by trusted code before it runs (never taken from the model):
   * policies decide on these. Telecom: `issue_credit` → `{ amountCents }`.
   */
  facts?(input: I, ctx: ToolContext): Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * Run-level counters this tool's completed calls feed, with their value before any call: numbers
   * add up, booleans OR. Policies read them (telecom: credits issued in the run).
   */
  readonly counters?: Readonly<Record<string, RunCounter<I, O>>>;
  execute(input: I, ctx: ToolContext): Promise<O>;
}

export interface RunCounter<I, O> {
  readonly initial: number | boolean;
  add(input: I, output: O): number | boolean;
}

export function defineTool<I, O>(tool: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return tool;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds tools of every input type
export type AnyTool = ToolDefinition<any, unknown>;
