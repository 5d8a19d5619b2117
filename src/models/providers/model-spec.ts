import { z } from "zod";

/** The providers Arbiter can create models for. */
export const modelProviders = [
  "openai",
  "anthropic",
  "bedrock",
  "google",
  "azure",
  "openai-compatible",
  "ollama",
  "scripted",
] as const;
export type ModelProvider = (typeof modelProviders)[number];

const priceSchema = z.strictObject({
  /** US dollars per million input (prompt) tokens. */
  inputPerMTok: z.number().nonnegative(),
  /** US dollars per million output (completion) tokens. */
  outputPerMTok: z.number().nonnegative(),
});

const specFields = z.strictObject({
  provider: z.enum(modelProviders),
  /** The provider's model id (the deployment name for Azure). */
  model: z.string().trim().min(1, "model must not be empty"),
  /** Overrides the provider's endpoint (required for openai-compatible). */
  baseURL: z.url({ protocol: /^https?$/, error: "baseURL must be an http(s) URL" }).optional(),
  /** Environment variable holding the API key, instead of the provider's default one. */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "apiKeyEnv must be an environment variable name")
    .optional(),
  price: priceSchema.optional(),
  contextWindow: z.int().positive().optional(),
  latencyObjectiveMs: z.number().positive().optional(),
  /** Whether prompts leave our network. Defaults to true, except for local models. */
  external: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Provider settings used when the model is created (see `createLanguageModel`). */
  options: z.record(z.string(), z.unknown()).optional(),
});

/**
 * A model catalog entry. Parsing fills in `external`.
 *
 * @example
 * modelSpecSchema.parse({ provider: "openai", model: "gpt-4.1-mini", price: { inputPerMTok: 0.4, outputPerMTok: 1.6 } });
 */
export const modelSpecSchema = specFields
  .refine((spec) => spec.provider !== "openai-compatible" || spec.baseURL !== undefined, {
    message: "openai-compatible models need a baseURL (the server's /v1 endpoint)",
    path: ["baseURL"],
  })
  .transform((spec) => ({ ...spec, external: spec.external ?? defaultExternal(spec) }));

/** A catalog entry as written (before defaults). */
export type ModelSpecInput = z.input<typeof modelSpecSchema>;
/** A validated catalog entry, with `external` resolved. */
export type ModelSpec = z.output<typeof modelSpecSchema>;

/** Default base URL of a local Ollama server's OpenAI-compatible API. */
export const ollamaDefaultBaseURL = "http://127.0.0.1:11434/v1";

function defaultExternal(spec: { provider: ModelProvider; baseURL?: string | undefined }): boolean {
  switch (spec.provider) {
    case "scripted":
      return false;
    case "ollama":
      return !isLoopbackURL(spec.baseURL ?? ollamaDefaultBaseURL);
    case "openai-compatible":
      return spec.baseURL === undefined || !isLoopbackURL(spec.baseURL);
    default:
      return true;
  }
}

/** True when the URL's host is this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackURL(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    /^127(?:\.\d{1,3}){3}$/.test(host)
  );
}
