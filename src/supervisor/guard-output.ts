import type { RunContext } from "./run-context.ts";

/**
 * Phase 8: the answer as the journal records it (tokenised) and as the requester reads it (this run's
 * tokens restored for the types the requester may see).
 */
export async function guardOutput(
  ctx: RunContext,
  answer: string,
): Promise<{ journaled: string; delivered: string }> {
  if (ctx.shield === undefined) return { journaled: answer, delivered: answer };
  const journaled = await ctx.protect(answer);
  return { journaled, delivered: await ctx.shield.revealAnswer(journaled) };
}
