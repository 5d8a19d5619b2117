/**
 * Stable error codes. The HTTP layer maps them to statuses; the CLI maps them to exit codes.
 */
export const ErrorCode = {
  InvalidProfile: "invalid-profile",
  InvalidRequest: "invalid-request",
  InvalidPlan: "invalid-plan",
  InvalidArgument: "invalid-argument",
  InvalidData: "invalid-data",
  UnknownWorker: "unknown-worker",
  UnknownTool: "unknown-tool",
  UnknownModel: "unknown-model",
  MissingCredentials: "missing-credentials",
  ToolInputInvalid: "tool-input-invalid",
  ToolFailed: "tool-failed",
  Timeout: "timeout",
  Aborted: "aborted",
  ModelFailed: "model-failed",
  ScriptExhausted: "script-exhausted",
  PolicyError: "policy-error",
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes that mean "the caller gave us something wrong" (CLI exit 2, HTTP 4xx). */
const inputCodes: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.InvalidProfile,
  ErrorCode.InvalidRequest,
  ErrorCode.InvalidPlan,
  ErrorCode.InvalidArgument,
  ErrorCode.InvalidData,
  ErrorCode.UnknownWorker,
  ErrorCode.UnknownTool,
  ErrorCode.UnknownModel,
  ErrorCode.MissingCredentials,
  ErrorCode.PolicyError,
]);

export interface ArbiterErrorOptions {
  cause?: unknown;
  /** Extra typed fields for machine consumers (file, path, line, field, …). */
  details?: Record<string, unknown>;
}

/**
 * The one base error. `message` says what happened and what to do next.
 */
export class ArbiterError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ArbiterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ArbiterError";
    this.code = code;
    this.details = options.details ?? {};
  }

  get isInputError(): boolean {
    return inputCodes.has(this.code);
  }

  static is(value: unknown, code?: ErrorCode): value is ArbiterError {
    return value instanceof ArbiterError && (code === undefined || value.code === code);
  }
}

/** Inside the runtime, expected failures are values, not throws. */
export type Result<T, E = ArbiterError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** A short, safe description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
