import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { ModelProvider, ModelSpec } from "./model-spec.ts";
import { modelProviders, modelSpecSchema } from "./model-spec.ts";

const usage =
  "Write a model spec as provider:model (openai:gpt-4.1-mini, anthropic:claude-sonnet-4-5, ollama:llama3.1) " +
  "or openai-compatible:<model>@<base URL> (openai-compatible:qwen2.5@http://127.0.0.1:8000/v1).";

/**
 * Parses a model spec from the command line.
 *
 * `provider:model`, or `<model>@<base URL>` after `openai-compatible:` (and, optionally,
 * after `ollama:` to reach a remote Ollama). Everything after the first colon is the model
 * id, so Bedrock ids (`anthropic.claude-3-5-haiku-20241022-v1:0`) and Ollama tags
 * (`llama3.1:8b`) need no escaping.
 *
 * @throws ArbiterError `unknown-model` for an unknown provider (the message lists the known
 * ones), `invalid-argument` for a malformed spec.
 */
export function parseModelSpec(text: string): ModelSpec {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  if (colon <= 0) {
    throw invalid(text, `"${text}" has no provider prefix. ${usage}`);
  }
  const provider = trimmed.slice(0, colon).toLowerCase();
  const rest = trimmed.slice(colon + 1).trim();
  if (!isProvider(provider)) {
    throw new ArbiterError(
      ErrorCode.UnknownModel,
      `Unknown model provider "${provider}" in "${text}". Known providers: ${modelProviders.join(", ")}.`,
      { details: { spec: text, provider, knownProviders: [...modelProviders] } },
    );
  }

  let model = rest;
  let baseURL: string | undefined;
  if (provider === "openai-compatible" || provider === "ollama") {
    const at = rest.search(/@https?:\/\//i);
    if (at >= 0) {
      model = rest.slice(0, at);
      baseURL = rest.slice(at + 1);
    } else if (provider === "openai-compatible") {
      throw invalid(text, `"${text}" has no base URL. ${usage}`);
    }
  }
  if (model === "") throw invalid(text, `"${text}" has no model id after "${provider}:". ${usage}`);

  const parsed = modelSpecSchema.safeParse(
    baseURL === undefined ? { provider, model } : { provider, model, baseURL },
  );
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => issue.message).join("; ");
    throw invalid(text, `Invalid model spec "${text}": ${reason}. ${usage}`);
  }
  return parsed.data;
}

function isProvider(value: string): value is ModelProvider {
  return (modelProviders as readonly string[]).includes(value);
}

function invalid(spec: string, message: string): ArbiterError {
  return new ArbiterError(ErrorCode.InvalidArgument, message, { details: { spec } });
}
