import type { RunContext } from "./run-context.ts";

export interface GuardedInput {
  message: string;
  context: Record<string, unknown>;
  /** Present when a shield ran; journaled right after `run-start`. */
  guard?: { name: string; findings: number; dataClasses: string[] };
}

/**
 * Phase 2: replace sensitive values with tokens before any model or the journal sees them. The
 * request context is tokenised for the journal; tools still receive the caller's context as given.
 */
export async function guardInput(ctx: RunContext, message: string): Promise<GuardedInput> {
  const shield = ctx.shield;
  if (shield === undefined) return { message, context: { ...ctx.request.context } };
  const result = await shield.protectText(message);
  return {
    message: result.text,
    context: await shield.protectValue({ ...ctx.request.context }),
    guard: { name: ctx.deps.shield!.name, findings: result.findings, dataClasses: result.dataClasses },
  };
}
