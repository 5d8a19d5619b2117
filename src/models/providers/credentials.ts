import type { Result } from "../../errors/arbiter-error.ts";
import { ArbiterError, ErrorCode, err, ok } from "../../errors/arbiter-error.ts";
import type { ModelSpecInput } from "./model-spec.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** What a provider needs to authenticate, read from the environment. */
export interface Credentials {
  apiKey?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  resourceName?: string;
}

const defaultKeyVariable = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  google: "GOOGLE_GENERATIVE_AI_API_KEY",
  azure: "AZURE_API_KEY",
} as const;

/**
 * Reads the credentials a model spec needs from `env`, naming every missing variable.
 * Local providers (ollama, openai-compatible) need none unless the spec names `apiKeyEnv`.
 */
export function resolveCredentials(spec: ModelSpecInput, env: Env): Result<Credentials> {
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const label = `${spec.provider}:${spec.model}`;
  const option = (name: string) => {
    const value = spec.options?.[name];
    return typeof value === "string" && value !== "" ? value : undefined;
  };

  switch (spec.provider) {
    case "openai":
    case "anthropic":
    case "google":
    case "azure": {
      const keyVariable = spec.apiKeyEnv ?? defaultKeyVariable[spec.provider];
      const apiKey = read(keyVariable);
      const missing = apiKey === undefined ? [keyVariable] : [];
      let resourceName: string | undefined;
      if (spec.provider === "azure" && spec.baseURL === undefined) {
        resourceName = option("resourceName") ?? read("AZURE_RESOURCE_NAME");
        if (resourceName === undefined) missing.push("AZURE_RESOURCE_NAME");
      }
      if (missing.length > 0) {
        const alternatives = [
          spec.apiKeyEnv === undefined
            ? 'name another variable with "apiKeyEnv" in the catalog entry'
            : undefined,
          spec.provider === "azure" ? 'give a "baseURL" instead of AZURE_RESOURCE_NAME' : undefined,
        ].filter((text) => text !== undefined);
        return err(missingError(label, missing, alternatives));
      }
      return ok(resourceName === undefined ? { apiKey: apiKey! } : { apiKey: apiKey!, resourceName });
    }
    case "bedrock": {
      const region = option("region") ?? read("AWS_REGION") ?? read("AWS_DEFAULT_REGION");
      const bearer = read(spec.apiKeyEnv ?? "AWS_BEARER_TOKEN_BEDROCK");
      const missing: string[] = [];
      if (bearer === undefined) {
        if (spec.apiKeyEnv !== undefined) missing.push(spec.apiKeyEnv);
        else {
          if (read("AWS_ACCESS_KEY_ID") === undefined) missing.push("AWS_ACCESS_KEY_ID");
          if (read("AWS_SECRET_ACCESS_KEY") === undefined) missing.push("AWS_SECRET_ACCESS_KEY");
        }
      }
      if (region === undefined) missing.push("AWS_REGION");
      if (missing.length > 0) {
        const alternatives =
          spec.apiKeyEnv === undefined && bearer === undefined
            ? ["set AWS_BEARER_TOKEN_BEDROCK for API-key authentication instead of the access key pair"]
            : [];
        return err(missingError(label, missing, alternatives));
      }
      if (bearer !== undefined) return ok({ apiKey: bearer, region: region! });
      const sessionToken = read("AWS_SESSION_TOKEN");
      return ok({
        region: region!,
        accessKeyId: read("AWS_ACCESS_KEY_ID")!,
        secretAccessKey: read("AWS_SECRET_ACCESS_KEY")!,
        ...(sessionToken !== undefined && { sessionToken }),
      });
    }
    case "openai-compatible":
    case "ollama": {
      if (spec.apiKeyEnv === undefined) return ok({});
      const apiKey = read(spec.apiKeyEnv);
      return apiKey === undefined ? err(missingError(label, [spec.apiKeyEnv], [])) : ok({ apiKey });
    }
    case "scripted":
      return ok({});
  }
}

function missingError(label: string, variables: string[], alternatives: string[]): ArbiterError {
  const list = variables.join(", ");
  const verb = variables.length === 1 ? "is" : "are";
  const exports = variables.map((name) => `${name}=…`).join(" ");
  const or = alternatives.length > 0 ? `, or ${alternatives.join(", or ")}` : "";
  return new ArbiterError(
    ErrorCode.MissingCredentials,
    `Missing credentials for model ${label}: ${list} ${verb} not set. ` +
      `Set ${variables.length === 1 ? "it" : "them"} in the environment (export ${exports})${or}.`,
    { details: { model: label, variables } },
  );
}
