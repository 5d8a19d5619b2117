import type { RunContext } from "./run-context.ts";

export interface GuardedInput {
  message: string;
  /** Present when a guard ran; journaled right after `run-start`. */
  guard?: { name: string; findings: number };
}

/**
 * Phase 2: replace sensitive values before any model or the journal sees them. With no guard configured
 * the message passes unchanged (the governance issue installs the PII guard).
 */
export async function guardInput(ctx: RunContext, message: string): Promise<GuardedInput> {
  const guard = ctx.deps.inputGuard;
  if (guard === undefined) return { message };
  const result = await guard.protect(message, ctx.request.tenant);
  return { message: result.message, guard: { name: guard.name, findings: result.findings } };
}
