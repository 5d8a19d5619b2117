import type { LanguageModelV4GenerateResult, LanguageModelV4Middleware } from "@ai-sdk/provider";
import { cacheKey, isDeterministic } from "./cache-key.ts";
import { callOf } from "./gateway-call.ts";
import type { ResponseCache } from "./response-cache.ts";
import { zeroUsage } from "./usage.ts";

export interface CacheMiddlewareOptions {
  readonly store: ResponseCache;
  readonly ttlMs: number;
  /** Catalog name of the model. */
  readonly name: string;
  readonly clock: () => number;
}

/** Only complete answers are kept: not filtered, cut short by an error, or of unknown ending. */
const cacheableFinish = new Set(["stop", "tool-calls", "length"]);

/**
 * Exact-match response cache, scoped per tenant (the call's task's) and model, for deterministic calls only (see
 * `isDeterministic`). A hit never reaches the model, is reported as `cache-hit` plus a
 * `model-call` with `cached: true`, and reports zero usage, so it is not charged. Streams pass
 * through uncached.
 */
export function cacheMiddleware(options: CacheMiddlewareOptions): LanguageModelV4Middleware {
  const { store, ttlMs, name, clock } = options;
  return {
    specificationVersion: "v4",
    async wrapGenerate({ doGenerate, params, model }) {
      if (!isDeterministic(params)) return doGenerate();
      const call = callOf(params);
      const tenant = call.context.tenant;
      const started = clock();
      const key = cacheKey(tenant, { name, provider: model.provider, modelId: model.modelId }, params);
      const hit = await store.get(key, started);
      if (hit !== undefined) {
        call.emit({ type: "cache-hit", model: name, key: key.slice(0, 12), ageMs: started - hit.storedAt });
        call.emit({
          type: "model-call",
          model: name,
          provider: model.provider,
          modelId: model.modelId,
          ok: true,
          usage: { inputTokens: 0, outputTokens: 0 },
          costUsd: 0,
          durationMs: clock() - started,
          cached: true,
          stream: false,
        });
        return {
          ...hit.result,
          usage: zeroUsage(),
          providerMetadata: { ...hit.result.providerMetadata, arbiter: { cached: true, model: name } },
        };
      }
      const result = await doGenerate();
      if (cacheableFinish.has(result.finishReason.unified)) {
        const now = clock();
        await store.set(key, { result: storable(result), storedAt: now, expiresAt: now + ttlMs });
      }
      return result;
    },
  };
}

function storable(result: LanguageModelV4GenerateResult): LanguageModelV4GenerateResult {
  const { request: _request, response, ...rest } = result;
  if (response === undefined) return rest;
  const { body: _body, headers: _headers, ...metadata } = response;
  return { ...rest, response: metadata };
}
