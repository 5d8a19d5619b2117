import type { LanguageModelV4Usage } from "@ai-sdk/provider";
import type { CallUsageTokens } from "./gateway-events.ts";

export function tokensOf(usage: LanguageModelV4Usage | undefined): CallUsageTokens {
  return { inputTokens: usage?.inputTokens.total ?? 0, outputTokens: usage?.outputTokens.total ?? 0 };
}

/** What a cache hit reports: it used no tokens. */
export function zeroUsage(): LanguageModelV4Usage {
  return {
    inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: 0, text: 0, reasoning: 0 },
  };
}
