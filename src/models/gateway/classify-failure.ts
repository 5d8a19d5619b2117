import { APICallError } from "@ai-sdk/provider";
import { ArbiterError, describeError, ErrorCode } from "../../errors/arbiter-error.ts";

/** What went wrong with a model call, in terms the retry and fallback logic act on. */
export type FailureKind =
  | "rate-limit"
  | "server"
  | "timeout"
  | "network"
  | "malformed"
  | "truncated"
  | "content-type"
  | "interrupted"
  | "stream-error"
  | "empty"
  | "client"
  | "aborted"
  | "other";

export interface Failure {
  readonly kind: FailureKind;
  /** Worth trying the same model again. */
  readonly retryable: boolean;
  /** Raw HTTP status, when the provider answered. */
  readonly status?: number;
  /** From `retry-after-ms` or `Retry-After` (seconds or an HTTP date). */
  readonly retryAfterMs?: number;
  readonly message: string;
}

/**
 * A failure the provider did not report as one (an interrupted stream, an error part inside a
 * stream, an empty answer): the gateway throws it so that it is retried and falls back like any
 * other failure instead of reaching the caller as a silently empty answer.
 */
export function modelFault(
  kind: FailureKind,
  message: string,
  options: { status?: number; cause?: unknown; retryable?: boolean } = {},
): ArbiterError {
  return new ArbiterError(ErrorCode.ModelFailed, message, {
    cause: options.cause,
    details: {
      fault: kind,
      retryable: options.retryable ?? true,
      ...(options.status === undefined ? {} : { status: options.status }),
    },
  });
}

const retryableStatus = (status: number) =>
  status === 408 || status === 409 || status === 429 || status >= 500;

/** Classifies anything a model call threw. `now` turns an HTTP-date `Retry-After` into a delay. */
export function classifyFailure(error: unknown, now: number = Date.now()): Failure {
  const message = describeError(error);
  if (ArbiterError.is(error, ErrorCode.ModelFailed) && typeof error.details.fault === "string") {
    const status = error.details.status;
    return {
      kind: error.details.fault as FailureKind,
      retryable: error.details.retryable !== false,
      ...(typeof status === "number" ? { status } : {}),
      message,
    };
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const retryAfterMs = retryAfterOf(error.responseHeaders, now);
    const base = {
      ...(status === undefined ? {} : { status }),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      message,
    };
    if (status === undefined) return { kind: "network", retryable: error.isRetryable, ...base };
    if (status === 429) return { kind: "rate-limit", retryable: true, ...base };
    if (status === 408) return { kind: "timeout", retryable: true, ...base };
    if (status >= 500) return { kind: "server", retryable: true, ...base };
    if (status >= 200 && status < 300) return { ...successFault(message, error.isRetryable), ...base };
    return { kind: "client", retryable: error.isRetryable || retryableStatus(status), ...base };
  }
  if (isTimeout(error)) return { kind: "timeout", retryable: true, message };
  if (error instanceof Error && error.name === "AbortError")
    return { kind: "aborted", retryable: false, message };
  const name = error instanceof Error ? error.name : "";
  if (
    name === "AI_JSONParseError" ||
    name === "AI_TypeValidationError" ||
    name === "AI_InvalidResponseDataError"
  ) {
    return { kind: "malformed", retryable: false, message };
  }
  if (isNetworkError(error)) return { kind: "network", retryable: true, message };
  return { kind: "other", retryable: false, message };
}

/** A 2xx the client could not use: which fault, judged from what the AI SDK and `checkedFetch` say. */
function successFault(message: string, isRetryable: boolean): { kind: FailureKind; retryable: boolean } {
  if (/content type/i.test(message)) return { kind: "content-type", retryable: true };
  if (/invalid json|json pars/i.test(message)) return { kind: "malformed", retryable: isRetryable };
  return { kind: "truncated", retryable: true };
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === "TimeoutError" || ArbiterError.is(error, ErrorCode.Timeout))
  );
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TypeError" && /fetch failed|terminated|network/i.test(error.message)) return true;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_)/.test(code);
}

/** `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP date). */
export function retryAfterOf(headers: Record<string, string> | undefined, now: number): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers["retry-after-ms"];
  if (ms !== undefined) {
    const value = Number.parseFloat(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers["retry-after"];
  if (after === undefined) return undefined;
  const seconds = Number(after);
  if (after.trim() !== "" && Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
