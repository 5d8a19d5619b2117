import { createHash } from "node:crypto";
import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";

/**
 * Whether a call asks for a reproducible answer, the only kind worth caching: `temperature: 0`,
 * or no temperature and a `seed`. An unset temperature alone means the provider's default
 * sampling, which is not deterministic, so such calls always reach the model.
 */
export function isDeterministic(params: LanguageModelV4CallOptions): boolean {
  return params.temperature === 0 || (params.temperature === undefined && params.seed !== undefined);
}

/**
 * SHA-256 over the tenant, the model and everything in the call that shapes the answer: the
 * prompt, tools, tool choice, response format and every sampling setting, with object keys in a
 * canonical order. Headers and the abort signal do not shape the answer and are left out.
 */
export function cacheKey(
  tenant: string,
  model: { name: string; provider: string; modelId: string },
  params: LanguageModelV4CallOptions,
): string {
  const settings = {
    prompt: params.prompt,
    tools: params.tools,
    toolChoice: params.toolChoice,
    responseFormat: params.responseFormat,
    maxOutputTokens: params.maxOutputTokens,
    temperature: params.temperature,
    topP: params.topP,
    topK: params.topK,
    presencePenalty: params.presencePenalty,
    frequencyPenalty: params.frequencyPenalty,
    stopSequences: params.stopSequences,
    seed: params.seed,
    reasoning: params.reasoning,
    providerOptions: params.providerOptions,
  };
  const hash = createHash("sha256");
  hash.update(`${tenant}\u0000${model.name}\u0000${model.provider}\u0000${model.modelId}\u0000`);
  hash.update(canonical(settings));
  return hash.digest("base64url");
}

function canonical(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return `"${value}n"`;
    case "object":
      break;
    default:
      return "null";
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value instanceof Uint8Array)
    return `{"$bytes":"${createHash("sha256").update(value).digest("base64url")}"}`;
  if (value instanceof URL) return `{"$url":${JSON.stringify(value.href)}}`;
  if (value instanceof Date) return `{"$date":${value.getTime()}}`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = "{";
  for (const key of keys) {
    const member = object[key];
    if (member === undefined || typeof member === "function") continue;
    if (out.length > 1) out += ",";
    out += `${JSON.stringify(key)}:${canonical(member)}`;
  }
  return `${out}}`;
}
