import type { LanguageModelV4CallOptions, LanguageModelV4Middleware } from "@ai-sdk/provider";
import type { Price } from "../../budget/cost.ts";
import { costOf } from "../../budget/cost.ts";
import { describeError } from "../../errors/arbiter-error.ts";
import { classifyFailure } from "./classify-failure.ts";
import type { EventContext, ModelCallEvent } from "./gateway-events.ts";
import { promised } from "./promised.ts";
import { tapStream } from "./tap-stream.ts";
import { tokensOf } from "./usage.ts";

export type ModelCallObservation = Omit<ModelCallEvent, keyof EventContext>;

export interface TelemetryMiddlewareOptions {
  /** Catalog name of the model. */
  readonly name: string;
  readonly price?: Price | undefined;
  readonly clock: () => number;
  readonly onCall: (observation: ModelCallObservation, params: LanguageModelV4CallOptions) => void;
  /** Told of every error that came out of a model attempt (so the chain knows what it may hop on). */
  readonly onFailure?: (error: unknown) => void;
}

/**
 * Observes every attempt on a model — success or failure, with raw status, usage, cost and
 * duration — as a `model-call`. The breaker learns from these; the supervisor journals them.
 * A stream is observed when it ends.
 */
export function telemetryMiddleware(options: TelemetryMiddlewareOptions): LanguageModelV4Middleware {
  const { name, price, clock, onCall, onFailure } = options;
  const base = (model: { provider: string; modelId: string }, stream: boolean) => ({
    type: "model-call" as const,
    model: name,
    provider: model.provider,
    modelId: model.modelId,
    cached: false,
    stream,
  });
  const failed = (
    model: { provider: string; modelId: string },
    stream: boolean,
    thrown: unknown,
    params: LanguageModelV4CallOptions,
    started: number,
  ) => {
    const signal = params.abortSignal;
    // An aborted attempt throws the provider's AbortError; the signal's reason says why (timeout, caller).
    const error = signal?.aborted ? signal.reason : thrown;
    onFailure?.(thrown);
    if (error !== thrown) onFailure?.(error);
    const classified = classifyFailure(error, clock());
    // Aborted for any reason but our own attempt timeout: the caller gave up, the model did not fail.
    const failure =
      signal?.aborted && classified.kind !== "timeout"
        ? { ...classified, kind: "aborted" as const, retryable: false }
        : classified;
    onCall(
      {
        ...base(model, stream),
        ok: false,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        error: failure.message,
        fault: failure.kind,
        usage: { inputTokens: 0, outputTokens: 0 },
        costUsd: 0,
        durationMs: clock() - started,
      },
      params,
    );
  };

  return {
    specificationVersion: "v4",
    wrapGenerate({ doGenerate, model, params }) {
      const started = clock();
      // Continuations, not an async function: nothing is held per call while the model answers.
      return promised(doGenerate).then(
        (result) => {
          const usage = tokensOf(result.usage);
          onCall(
            {
              ...base(model, false),
              ok: true,
              usage,
              costUsd: costOf(price, usage.inputTokens, usage.outputTokens),
              durationMs: clock() - started,
            },
            params,
          );
          return result;
        },
        (error: unknown) => {
          failed(model, false, error, params, started);
          throw error;
        },
      );
    },
    async wrapStream({ doStream, model, params }) {
      const started = clock();
      let result: Awaited<ReturnType<typeof doStream>>;
      try {
        result = await doStream();
      } catch (error) {
        failed(model, true, error, params, started);
        throw error;
      }
      const stream = tapStream(result.stream, (summary) => {
        const usage = tokensOf(summary.usage);
        const ok =
          summary.end === "done" && summary.error === undefined && summary.finishReason?.unified !== "error";
        const failure = summary.error === undefined ? undefined : classifyFailure(summary.error, clock());
        onCall(
          {
            ...base(model, true),
            ok,
            ...(failure?.status === undefined ? {} : { status: failure.status }),
            ...(summary.end === "cancelled"
              ? { error: "cancelled by the caller", fault: "aborted" as const }
              : ok
                ? {}
                : {
                    error: failure?.message ?? describeError(summary.error ?? "stream failed"),
                    fault: failure?.kind ?? "stream-error",
                  }),
            usage,
            costUsd: costOf(price, usage.inputTokens, usage.outputTokens),
            durationMs: clock() - started,
          },
          params,
        );
      });
      return { ...result, stream };
    },
  };
}
