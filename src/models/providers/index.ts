export { checkedFetch } from "./checked-fetch.ts";
export type { CreateLanguageModelOptions } from "./create-language-model.ts";
export { createLanguageModel } from "./create-language-model.ts";
export type { Credentials, Env } from "./credentials.ts";
export { resolveCredentials } from "./credentials.ts";
export type { ModelProvider, ModelSpec, ModelSpecInput } from "./model-spec.ts";
export { isLoopbackURL, modelProviders, modelSpecSchema, ollamaDefaultBaseURL } from "./model-spec.ts";
export { parseModelSpec } from "./parse-model-spec.ts";
