import { resolve } from "node:path";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import type { Profile } from "../profile/load-profile.ts";
import type { ModelEntry, WorkerSpec } from "../profile/schema.ts";
import type { ModelResolver, ResolvedModel } from "../supervisor/run-context.ts";
import { loadScriptedModel } from "../testing/load-script.ts";
import type { BreakerThresholds } from "./gateway/circuit-breaker.ts";
import type { GatewayChainEntry } from "./gateway/create-gateway-model.ts";
import { createLanguageModel } from "./providers/create-language-model.ts";
import { type ModelSpecInput, modelSpecSchema } from "./providers/model-spec.ts";

export interface ModelResolverOptions {
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof globalThis.fetch;
  /**
   * Models that replace every configured model (planner, workers, synthesizer): the CLI's `--model`.
   * The first is the primary; the rest form its fallback chain.
   */
  overrides?: readonly ModelSpecInput[];
}

/** Converts a profile catalog entry into a provider spec. */
export function toModelSpec(entry: ModelEntry): ModelSpecInput {
  return {
    provider: entry.provider,
    model: entry.model,
    ...(entry.baseURL ? { baseURL: entry.baseURL } : {}),
    ...(entry.apiKeyEnv ? { apiKeyEnv: entry.apiKeyEnv } : {}),
    ...(entry.price ? { price: entry.price } : {}),
    ...(entry.contextWindow ? { contextWindow: entry.contextWindow } : {}),
    ...(entry.latencyObjective ? { latencyObjectiveMs: entry.latencyObjective } : {}),
    ...(entry.external === undefined ? {} : { external: entry.external }),
    ...(entry.headers ? { headers: entry.headers } : {}),
    ...(entry.options ? { options: entry.options } : {}),
  };
}

function breakerOf(entry: ModelEntry | undefined): BreakerThresholds | undefined {
  const b = entry?.breaker;
  if (b === undefined) return undefined;
  return {
    ...(b.errorRate === undefined ? {} : { errorRate: b.errorRate }),
    ...(b.latency === undefined ? {} : { latencyMs: b.latency }),
    ...(b.latencyPercentile === undefined ? {} : { latencyPercentile: b.latencyPercentile }),
    ...(b.costPerCallUsd === undefined ? {} : { costPerCallUsd: b.costPerCallUsd }),
    ...(b.minCalls === undefined ? {} : { minCalls: b.minCalls }),
    ...(b.window === undefined ? {} : { windowMs: b.window }),
    ...(b.coolDown === undefined ? {} : { coolDownMs: b.coolDown }),
  };
}

/**
 * Resolves the profile's model names (and CLI overrides) to AI SDK models and fallback chains,
 * creating each model once. Credentials are checked when the resolver is created, so a missing key
 * fails before any run starts.
 */
export function createModelResolver(profile: Profile, options: ModelResolverOptions = {}): ModelResolver {
  const entries = new Map<string, GatewayChainEntry>();
  const entry = (name: string, input: ModelSpecInput, catalog?: ModelEntry): GatewayChainEntry => {
    let existing = entries.get(name);
    if (existing === undefined) {
      const spec = modelSpecSchema.parse(input);
      const model: LanguageModelV4 = createLanguageModel(spec, {
        ...(options.env ? { env: options.env } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        // A catalog entry names its script beside the profile; `--model scripted:<file>` names it from here.
        scripted: (s) =>
          loadScriptedModel(
            catalog?.script ? resolve(profile.dir, catalog.script) : resolve(s.model),
            s.model,
          ),
      });
      const breaker = breakerOf(catalog);
      existing = {
        name,
        model,
        spec: { price: spec.price, latencyObjectiveMs: spec.latencyObjectiveMs },
        external: spec.external,
        ...(breaker ? { breaker } : {}),
      };
      entries.set(name, existing);
    }
    return existing;
  };
  const chainOf = (chain: readonly GatewayChainEntry[]): ResolvedModel => {
    const primary = chain[0]!;
    return { name: primary.name, model: primary.model, external: primary.external ?? true, chain };
  };
  const resolved = new Map<string, ResolvedModel>();
  const byRef = (ref: string | readonly string[] | undefined): ResolvedModel | undefined => {
    if (ref === undefined) return undefined;
    const names = typeof ref === "string" ? [ref] : ref;
    const key = names.join(">");
    let found = resolved.get(key);
    if (found === undefined) {
      const chain = names.flatMap((n) => {
        const catalog = profile.document.models[n];
        return catalog === undefined ? [] : [entry(n, toModelSpec(catalog), catalog)];
      });
      if (chain.length === 0) return undefined;
      found = chainOf(chain);
      resolved.set(key, found);
    }
    return found;
  };
  const overridden =
    options.overrides === undefined || options.overrides.length === 0
      ? undefined
      : chainOf(options.overrides.map((o) => entry(`${o.provider}:${o.model}`, o)));
  // Fail fast: create every model the profile uses now.
  for (const worker of profile.document.workers) byRef(worker.model);
  byRef(profile.document.supervisor.planner?.model);
  byRef(profile.document.supervisor.synthesizer.model);
  return {
    forWorker: (worker: WorkerSpec) => overridden ?? byRef(worker.model),
    planner: () => overridden ?? byRef(profile.document.supervisor.planner?.model),
    synthesizer: () => {
      const config = profile.document.supervisor.synthesizer;
      return overridden ?? (config.mode === "llm" ? byRef(config.model) : undefined);
    },
  };
}
