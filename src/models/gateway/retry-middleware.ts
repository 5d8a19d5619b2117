import type { LanguageModelV4CallOptions, LanguageModelV4Middleware } from "@ai-sdk/provider";
import { abortableDelay } from "../../durable/abortable-delay.ts";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { Failure } from "./classify-failure.ts";
import { classifyFailure } from "./classify-failure.ts";
import { promised } from "./promised.ts";

export interface RetryOptions {
  /** Retries after the first attempt, per model. Default 2. */
  readonly maxRetries?: number;
  /** First backoff; doubles per retry. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Cap on the exponential backoff. Default 10 s. */
  readonly maxDelayMs?: number;
  /**
   * The longest `Retry-After` the gateway waits out. A provider asking for longer is treated as
   * unavailable: no retry, the call moves to the next model of the chain. Default 30 s.
   */
  readonly maxRetryAfterMs?: number;
  /** Abort an attempt that has not answered (for streams: not started its content) in this long. */
  readonly attemptTimeoutMs?: number;
}

export type ResolvedRetryOptions = Readonly<Required<Omit<RetryOptions, "attemptTimeoutMs">>> & {
  readonly attemptTimeoutMs: number | undefined;
};

export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  return Object.freeze({
    maxRetries: options.maxRetries ?? 2,
    baseDelayMs: options.baseDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    attemptTimeoutMs: options.attemptTimeoutMs,
  });
}

export interface RetryInfo {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly failure: Failure;
}

export interface RetryMiddlewareOptions {
  readonly retry: ResolvedRetryOptions;
  readonly random: () => number;
  readonly clock: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Asked before each retry; the breaker says no once it has opened. */
  readonly canRetry?: () => boolean;
  readonly onRetry?: (info: RetryInfo, params: LanguageModelV4CallOptions) => void;
}

/**
 * Retries a model's failed attempts: 429, 5xx, timeouts, broken connections and the faults the
 * response check raises. Backoff is exponential with jitter (half fixed, half random) and never
 * shorter than the provider's `retry-after-ms` / `Retry-After`; a `Retry-After` beyond
 * `maxRetryAfterMs` ends retrying on this model so the chain can move on.
 */
export function retryMiddleware(options: RetryMiddlewareOptions): LanguageModelV4Middleware {
  const { retry, random, clock } = options;
  const sleep = options.sleep ?? abortableDelay;

  // Continuations, not an async loop: nothing is held per call while an attempt is in flight.
  function withRetries<T>(
    params: LanguageModelV4CallOptions,
    call: (p: LanguageModelV4CallOptions) => PromiseLike<T>,
  ): Promise<T> {
    const attemptFrom = (attempt: number): Promise<T> => {
      return promised(() => attemptOnce(params, call, retry.attemptTimeoutMs)).then(
        undefined,
        (error: unknown) => {
          if (params.abortSignal?.aborted) throw error;
          const failure = classifyFailure(error, clock());
          if (!failure.retryable || attempt > retry.maxRetries) throw error;
          if (failure.retryAfterMs !== undefined && failure.retryAfterMs > retry.maxRetryAfterMs) throw error;
          if (options.canRetry !== undefined && !options.canRetry()) throw error;
          const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
          const jittered = backoff / 2 + (random() * backoff) / 2;
          const delayMs = Math.round(Math.max(jittered, failure.retryAfterMs ?? 0));
          options.onRetry?.({ attempt, delayMs, failure }, params);
          return sleep(delayMs, params.abortSignal).then(() => attemptFrom(attempt + 1));
        },
      );
    };
    return attemptFrom(1);
  }

  return {
    specificationVersion: "v4",
    wrapGenerate: ({ params, model }) => withRetries(params, (p) => model.doGenerate(p)),
    wrapStream: ({ params, model }) => withRetries(params, (p) => model.doStream(p)),
  };
}

function attemptOnce<T>(
  params: LanguageModelV4CallOptions,
  call: (p: LanguageModelV4CallOptions) => PromiseLike<T>,
  timeoutMs: number | undefined,
): PromiseLike<T> {
  if (timeoutMs === undefined) return call(params);
  return attemptWithTimeout(params, call, timeoutMs);
}

async function attemptWithTimeout<T>(
  params: LanguageModelV4CallOptions,
  call: (p: LanguageModelV4CallOptions) => PromiseLike<T>,
  timeoutMs: number,
): Promise<T> {
  const controller = new AbortController();
  const outer = params.abortSignal;
  // Stays linked after the attempt: a stream keeps reading with this signal.
  outer?.addEventListener("abort", () => controller.abort(outer.reason), { once: true });
  const timer = setTimeout(
    () =>
      controller.abort(
        new ArbiterError(ErrorCode.Timeout, `The model did not answer within ${timeoutMs} ms.`, {
          details: { timeoutMs },
        }),
      ),
    timeoutMs,
  );
  try {
    return await call({ ...params, abortSignal: controller.signal });
  } catch (error) {
    // The provider reports our abort as an AbortError; what matters is why we aborted.
    if (controller.signal.aborted && !outer?.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
