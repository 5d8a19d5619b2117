import { createRequire } from "node:module";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { z } from "zod";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { checkedFetch } from "./checked-fetch.ts";
import type { Credentials, Env } from "./credentials.ts";
import { resolveCredentials } from "./credentials.ts";
import type { ModelSpec, ModelSpecInput } from "./model-spec.ts";
import { modelSpecSchema, ollamaDefaultBaseURL } from "./model-spec.ts";

// Provider packages are loaded when a model of theirs is first created, not at start-up: together they
// take ~90 ms to import, which every CLI command (and the time to resume a killed run) would pay.
const load = createRequire(import.meta.url);
const providers = {
  openai: () => (load("@ai-sdk/openai") as typeof import("@ai-sdk/openai")).createOpenAI,
  anthropic: () => (load("@ai-sdk/anthropic") as typeof import("@ai-sdk/anthropic")).createAnthropic,
  google: () => (load("@ai-sdk/google") as typeof import("@ai-sdk/google")).createGoogleGenerativeAI,
  azure: () => (load("@ai-sdk/azure") as typeof import("@ai-sdk/azure")).createAzure,
  bedrock: () =>
    (load("@ai-sdk/amazon-bedrock") as typeof import("@ai-sdk/amazon-bedrock")).createAmazonBedrock,
  openaiCompatible: () =>
    (load("@ai-sdk/openai-compatible") as typeof import("@ai-sdk/openai-compatible")).createOpenAICompatible,
};

export interface CreateLanguageModelOptions {
  /** Where credentials are read from. Default: `process.env`. */
  env?: Env;
  /** Passed to the provider for every HTTP call (tests, record/replay). Default: global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Builds models for `provider: "scripted"` specs. */
  scripted?: (spec: ModelSpec) => LanguageModelV4;
}

/**
 * Provider settings read from a spec's `options` when the model is created. Other keys are
 * ignored here (they are free for call-level settings).
 * - `api`: `"responses"` (default, what `openai(id)` uses) or `"chat"` (Chat Completions), for openai and azure;
 * - `organization`, `project`: openai;
 * - `resourceName`, `apiVersion`, `useDeploymentBasedUrls`: azure;
 * - `region`: bedrock (else AWS_REGION);
 * - `name`: openai-compatible provider name (shows in telemetry);
 * - `structuredOutputs`: openai-compatible / ollama, JSON-schema answers (default true).
 */
const providerSettingsSchema = z.looseObject({
  api: z.enum(["responses", "chat"]).optional(),
  organization: z.string().optional(),
  project: z.string().optional(),
  resourceName: z.string().optional(),
  apiVersion: z.string().optional(),
  useDeploymentBasedUrls: z.boolean().optional(),
  region: z.string().optional(),
  name: z.string().optional(),
  structuredOutputs: z.boolean().optional(),
});
type ProviderSettings = z.infer<typeof providerSettingsSchema>;

/**
 * Creates an AI SDK language model for a catalog entry.
 *
 * Credentials are read from `env` now, not at the first call: a missing variable fails here
 * with `missing-credentials` and a message naming it. Successful responses with an impossible
 * content type fail as retryable `APICallError`s (see `checkedFetch`).
 *
 * @example
 * const model = createLanguageModel(parseModelSpec("openai:gpt-4.1-mini"));
 * const { text } = await generateText({ model, prompt: "Hello" });
 */
export function createLanguageModel(
  input: ModelSpecInput,
  options: CreateLanguageModelOptions = {},
): LanguageModelV4 {
  const spec = validate(input);
  const settings = validateSettings(spec);
  if (spec.provider === "scripted") {
    if (options.scripted === undefined) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `Model ${spec.provider}:${spec.model} is scripted, but no scripted model factory was given. ` +
          "Pass { scripted: (spec) => model } to createLanguageModel.",
        { details: { model: spec.model } },
      );
    }
    return options.scripted(spec);
  }

  const credentials = resolveCredentials(spec, options.env ?? process.env);
  if (!credentials.ok) throw credentials.error;
  const fetch = checkedFetch(options.fetch ?? globalThis.fetch);
  return build(spec, settings, credentials.value, fetch, options.env ?? process.env);
}

function build(
  spec: ModelSpec,
  settings: ProviderSettings,
  credentials: Credentials,
  fetch: typeof globalThis.fetch,
  env: Env,
): LanguageModelV4 {
  const common = { fetch, ...(spec.headers && { headers: spec.headers }) };
  const apiKey = credentials.apiKey ?? "";
  switch (spec.provider) {
    case "openai": {
      const provider = providers.openai()({
        ...common,
        apiKey,
        // Resolved here so the provider never falls back to process.env behind an injected env.
        baseURL: spec.baseURL ?? env.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
        ...(settings.organization !== undefined && { organization: settings.organization }),
        ...(settings.project !== undefined && { project: settings.project }),
      });
      return settings.api === "chat" ? provider.chat(spec.model) : provider.responses(spec.model);
    }
    case "anthropic":
      return providers.anthropic()({
        ...common,
        apiKey,
        baseURL: spec.baseURL ?? env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com/v1",
      })(spec.model);
    case "google":
      return providers.google()({
        ...common,
        apiKey,
        baseURL: spec.baseURL ?? "https://generativelanguage.googleapis.com/v1beta",
      })(spec.model);
    case "azure": {
      const provider = providers.azure()({
        ...common,
        apiKey,
        ...(spec.baseURL === undefined
          ? { resourceName: credentials.resourceName! }
          : { baseURL: spec.baseURL }),
        ...(settings.apiVersion !== undefined && { apiVersion: settings.apiVersion }),
        ...(settings.useDeploymentBasedUrls !== undefined && {
          useDeploymentBasedUrls: settings.useDeploymentBasedUrls,
        }),
      });
      return settings.api === "chat" ? provider.chat(spec.model) : provider.responses(spec.model);
    }
    case "bedrock": {
      const endpoint = spec.baseURL ?? env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ?? env.AWS_ENDPOINT_URL;
      return providers.bedrock()({
        ...common,
        region: credentials.region!,
        ...(endpoint !== undefined && { baseURL: endpoint }),
        ...(credentials.accessKeyId === undefined
          ? { apiKey }
          : {
              // An empty apiKey stops the provider reading AWS_BEARER_TOKEN_BEDROCK from process.env.
              apiKey: "",
              accessKeyId: credentials.accessKeyId,
              secretAccessKey: credentials.secretAccessKey!,
              ...(credentials.sessionToken !== undefined && { sessionToken: credentials.sessionToken }),
            }),
      })(spec.model);
    }
    case "openai-compatible":
    case "ollama":
      return providers.openaiCompatible()({
        ...common,
        name: settings.name ?? spec.provider,
        baseURL: spec.baseURL ?? ollamaDefaultBaseURL,
        ...(credentials.apiKey !== undefined && { apiKey: credentials.apiKey }),
        // Without it, streamed answers carry no token usage and budgets cannot be charged.
        includeUsage: true,
        // JSON-schema answers (plans, worker results); vLLM, Ollama and LM Studio accept them.
        // `options: { structuredOutputs: false }` falls back to plain JSON mode for servers that do not.
        supportsStructuredOutputs: settings.structuredOutputs ?? true,
      })(spec.model);
    case "scripted":
      throw new Error("unreachable: scripted models are built by the caller's factory");
  }
}

function validate(input: ModelSpecInput): ModelSpec {
  const parsed = modelSpecSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "spec"}: ${issue.message}`);
  throw new ArbiterError(ErrorCode.InvalidArgument, `Invalid model spec: ${issues.join("; ")}.`, {
    details: { issues },
  });
}

function validateSettings(spec: ModelSpec): ProviderSettings {
  const parsed = providerSettingsSchema.safeParse(spec.options ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `options.${issue.path.join(".")}: ${issue.message}`);
  throw new ArbiterError(
    ErrorCode.InvalidArgument,
    `Invalid options for model ${spec.provider}:${spec.model}: ${issues.join("; ")}.`,
    { details: { issues } },
  );
}
