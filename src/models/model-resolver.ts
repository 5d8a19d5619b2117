import { resolve } from "node:path";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import type { Profile } from "../profile/load-profile.ts";
import type { ModelEntry, WorkerSpec } from "../profile/schema.ts";
import type { ModelResolver, ResolvedModel } from "../supervisor/run-context.ts";
import { loadScriptedModel } from "../testing/load-script.ts";
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

/**
 * Resolves the profile's model names (and CLI overrides) to AI SDK models, creating each once.
 * Credentials are checked when the resolver is created, so a missing key fails before any run starts.
 */
export function createModelResolver(profile: Profile, options: ModelResolverOptions = {}): ModelResolver {
  const cache = new Map<string, ResolvedModel>();
  const build = (name: string, spec: ModelSpecInput, script?: string): ResolvedModel => {
    let existing = cache.get(name);
    if (existing === undefined) {
      const model: LanguageModelV4 = createLanguageModel(spec, {
        ...(options.env ? { env: options.env } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        // A catalog entry names its script beside the profile; `--model scripted:<file>` names it from here.
        scripted: (s) => loadScriptedModel(script ? resolve(profile.dir, script) : resolve(s.model), s.model),
      });
      existing = { name, model, external: modelSpecSchema.parse(spec).external };
      cache.set(name, existing);
    }
    return existing;
  };
  const byName = (ref: string | readonly string[] | undefined): ResolvedModel | undefined => {
    const name = ref === undefined ? undefined : typeof ref === "string" ? ref : ref[0];
    if (name === undefined) return undefined;
    const entry = profile.document.models[name];
    return entry === undefined ? undefined : build(name, toModelSpec(entry), entry.script);
  };
  const override = options.overrides?.[0];
  const overridden =
    override === undefined ? undefined : build(`--model ${override.provider}:${override.model}`, override);
  // Fail fast: create every model the profile uses now.
  for (const worker of profile.document.workers) byName(worker.model);
  byName(profile.document.supervisor.planner?.model);
  byName(profile.document.supervisor.synthesizer.model);
  return {
    forWorker: (worker: WorkerSpec) => overridden ?? byName(worker.model),
    planner: () => overridden ?? byName(profile.document.supervisor.planner?.model),
    synthesizer: () => {
      const config = profile.document.supervisor.synthesizer;
      return overridden ?? (config.mode === "llm" ? byName(config.model) : undefined);
    },
  };
}
