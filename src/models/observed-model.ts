import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamResult,
} from "@ai-sdk/provider";
import type { DurableRun } from "../durable/durable.ts";
import { describeError } from "../errors/arbiter-error.ts";
import type { RunEventInput } from "../journal/events.ts";
import type { Usage } from "../workers/worker-result.ts";
import { ModelWrapper } from "./model-wrapper.ts";

export interface ModelObservation {
  readonly purpose: "planner" | "worker" | "synthesizer";
  readonly taskId?: string;
  /** Step-name prefix; unique per attempt so a retried attempt calls the model afresh. */
  readonly stepPrefix: string;
  readonly durable: DurableRun;
  /** Tokenises the prompt before it leaves the process (the PII shield of the run). */
  readonly protect?: { protectValue<T>(value: T): Promise<T> };
  /** Runs on the protected call options right before the provider is called (the egress decision). */
  readonly beforeCall?: (options: LanguageModelV4CallOptions) => Promise<void>;
  emit(event: RunEventInput): void;
  onUsage(usage: Usage): void;
  /**
   * The gateway attempt that answered the call just made, to journal with its `model-call-end`; with
   * `ok: false` the call failed after all, and the attempt is journaled on its own instead.
   */
  answeredBy?: (ok: boolean) => ModelCallEndEvent["answeredBy"];
}

type ModelCallEndEvent = Extract<RunEventInput, { type: "model-call-end" }>;

export function usageOf(result: LanguageModelV4GenerateResult): Usage {
  return {
    inputTokens: result.usage.inputTokens.total ?? 0,
    outputTokens: result.usage.outputTokens.total ?? 0,
    modelCalls: 1,
  };
}

type PromptMessage = LanguageModelV4CallOptions["prompt"][number];

/**
 * Every message's content tokenised: no path to a provider skips the shield. A tool loop sends its
 * earlier messages again on every step (the same objects, never changed): each is protected once
 * (`done` is the task's), and the protected copy is sent again.
 */
async function protectPrompt(
  options: LanguageModelV4CallOptions,
  shield: ModelObservation["protect"],
  done: WeakMap<PromptMessage, Promise<PromptMessage>>,
): Promise<LanguageModelV4CallOptions> {
  if (shield === undefined) return options;
  const prompt = await Promise.all(
    options.prompt.map((message) => {
      let protectedMessage = done.get(message);
      if (protectedMessage === undefined) {
        protectedMessage = shield.protectValue(message.content).then(
          (content) => ({ ...message, content }) as PromptMessage,
          (error: unknown) => {
            done.delete(message); // not remembered: the next call tries again
            throw error;
          },
        );
        done.set(message, protectedMessage);
      }
      return protectedMessage;
    }),
  );
  return { ...options, prompt };
}

/**
 * Wraps a model for one task: each call is a durable step, journaled as `model-call-end` with usage
 * and duration, and its usage is charged to the run.
 */
export function observeModel(model: LanguageModelV4, observation: ModelObservation): LanguageModelV4 {
  return new ObservedModel(model, observation);
}

class ObservedModel extends ModelWrapper {
  readonly #model: LanguageModelV4;
  readonly #observation: ModelObservation;
  readonly #protectedMessages = new WeakMap<PromptMessage, Promise<PromptMessage>>();
  #calls = 0;

  constructor(model: LanguageModelV4, observation: ModelObservation) {
    super(model);
    this.#model = model;
    this.#observation = observation;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const model = this.#model;
    const observation = this.#observation;
    const index = this.#calls++;
    const started = performance.now();
    try {
      const { value, replayed } = await observation.durable.step(
        `model:${observation.stepPrefix}:${index}`,
        async () => {
          const protectedOptions = await protectPrompt(options, observation.protect, this.#protectedMessages);
          await observation.beforeCall?.(protectedOptions);
          return model.doGenerate(protectedOptions);
        },
        // Asking again is safe (it costs tokens, changes nothing): a call cut off by a crash re-runs.
        { idempotent: true },
      );
      const usage = usageOf(value);
      if (!replayed) observation.onUsage(usage);
      const answeredBy = observation.answeredBy?.(true);
      observation.emit({
        type: "model-call-end",
        purpose: observation.purpose,
        ...(observation.taskId === undefined ? {} : { taskId: observation.taskId }),
        provider: model.provider,
        model: model.modelId,
        ok: true,
        usage,
        durationMs: performance.now() - started,
        ...(answeredBy === undefined ? {} : { answeredBy }),
      });
      return value;
    } catch (error) {
      observation.answeredBy?.(false);
      observation.emit({
        type: "model-call-end",
        purpose: observation.purpose,
        ...(observation.taskId === undefined ? {} : { taskId: observation.taskId }),
        provider: model.provider,
        model: model.modelId,
        ok: false,
        error: describeError(error),
        usage: { inputTokens: 0, outputTokens: 0, modelCalls: 1 },
        durationMs: performance.now() - started,
      });
      throw error;
    }
  }

  /** The loop only generates; streaming passes through unobserved until the HTTP layer streams answers. */
  doStream(options: LanguageModelV4CallOptions): PromiseLike<LanguageModelV4StreamResult> {
    return this.#model.doStream(options);
  }
}
