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
  /** A call would take a request, worker or tenant past its token or money budget. */
  BudgetExceeded: "budget-exceeded",
  /** Every model in a fallback chain has its circuit breaker open. */
  CircuitOpen: "circuit-open",
  ScriptExhausted: "script-exhausted",
  PolicyError: "policy-error",
  PolicyDenied: "policy-denied",
  ApprovalRequired: "approval-required",
  Internal: "internal",
  /** The database cannot be opened or used: corrupt, not SQLite, locked, unwritable. */
  StoreError: "store-error",
  /** The database was written by a newer Arbiter; this version must not touch it. */
  SchemaTooNew: "schema-too-new",
  /** The database has an older schema and was opened read-only, so it could not be upgraded. */
  SchemaTooOld: "schema-too-old",
  UnknownRun: "unknown-run",
  UnknownApproval: "unknown-approval",
  /** The approval was already approved or denied. */
  ApprovalDecided: "approval-decided",
  ApprovalExpired: "approval-expired",
  /** A step started in an earlier process and never recorded its end; it is not safe to re-execute. */
  StepInDoubt: "step-in-doubt",
  /** Replayed run code asked for a step that the record of the run does not have at that point. */
  DeterminismError: "determinism-error",
  /** Another process took over the run (its lease expired); this process must stop writing to it. */
  LeaseLost: "lease-lost",
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
  ErrorCode.StoreError,
  ErrorCode.SchemaTooNew,
  ErrorCode.SchemaTooOld,
  ErrorCode.UnknownRun,
  ErrorCode.UnknownApproval,
  ErrorCode.ApprovalDecided,
  ErrorCode.ApprovalExpired,
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

/**
 * The first ArbiterError with `code` in an error's cause chain (the AI SDK wraps errors thrown by
 * models and tools in its own, e.g. RetryError's `lastError` or a tool error's `cause`).
 */
export function findArbiterError(error: unknown, code: ErrorCode): ArbiterError | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    if (current instanceof ArbiterError && current.code === code) return current;
    const next = current as { cause?: unknown; lastError?: unknown };
    current = next.lastError ?? next.cause;
  }
  return undefined;
}

/** A short, safe description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
