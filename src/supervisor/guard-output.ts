import type { RunContext } from "./run-context.ts";

/** Phase 8: restore tokenised values the requester may see (the governance issue installs the guard). */
export async function guardOutput(ctx: RunContext, answer: string): Promise<string> {
  const guard = ctx.deps.outputGuard;
  return guard === undefined ? answer : guard.reveal(answer, ctx.request.tenant);
}
