import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamResult,
} from "@ai-sdk/provider";

/**
 * A model that answers through another one (a middleware layer, a task's view of a shared chain, an
 * observed model): it carries an identity — usually the inner model's — and says how it calls. A class,
 * not an object of closures: one lives per task, for each of thousands of runs in flight.
 */
export abstract class ModelWrapper implements LanguageModelV4 {
  readonly specificationVersion = "v4";
  readonly provider: string;
  readonly modelId: string;
  readonly supportedUrls: LanguageModelV4["supportedUrls"];

  constructor(identity: Pick<LanguageModelV4, "provider" | "modelId" | "supportedUrls">) {
    this.provider = identity.provider;
    this.modelId = identity.modelId;
    this.supportedUrls = identity.supportedUrls;
  }

  abstract doGenerate(options: LanguageModelV4CallOptions): PromiseLike<LanguageModelV4GenerateResult>;
  abstract doStream(options: LanguageModelV4CallOptions): PromiseLike<LanguageModelV4StreamResult>;
}
