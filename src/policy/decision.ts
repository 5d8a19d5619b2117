/** The three outcomes of a policy decision. */
export const Outcome = {
  Allow: "allow",
  Deny: "deny",
  NeedsApproval: "needs-approval",
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** A Cedar entity reference: `Worker::"billing"` is `{ type: "Worker", id: "billing" }`. */
export interface EntityRef {
  readonly type: string;
  readonly id: string;
}

/** An entity passed with a request (rarely needed: the Arbiter schema keeps facts in the context). */
export interface PolicyEntity {
  readonly uid: EntityRef;
  readonly attrs?: Readonly<Record<string, unknown>>;
  readonly parents?: readonly EntityRef[];
}

/**
 * One question to the policy engine. Build it with `delegationRequest`, `toolCallRequest` or
 * `modelEgressRequest` rather than by hand. Plain JSON: it is what the journal records.
 */
export interface PolicyRequest {
  readonly principal: EntityRef;
  /** An action id of the schema, e.g. `call_tool`. */
  readonly action: string;
  readonly resource: EntityRef;
  readonly context: Readonly<Record<string, unknown>>;
  readonly entities?: readonly PolicyEntity[];
}

/** The answer. Never thrown: a malformed request or an evaluation error is a `deny` with `errors`. */
export interface Decision {
  readonly outcome: Outcome;
  /**
   * The policies that determined the outcome, as `<file>.<@id>`. For `needs-approval`, the
   * `@approval` policies come first, then the permits that apply once a human approves.
   */
  readonly policyIds: readonly string[];
  /** Human-readable reasons (from `@reason` / `@approval` annotations, or generated). */
  readonly reasons: readonly string[];
  /** Evaluation errors and request problems; non-empty only on `deny`. */
  readonly errors: readonly string[];
  /** SHA-256 of the bundle that decided. */
  readonly bundleVersion: string;
}

export interface DecideOptions {
  /**
   * Policy ids of `@approval` policies a human has approved for this very step (pass the
   * `policyIds` of the `needs-approval` decision that was approved). If every approval policy that
   * fires is in this list, the outcome is `allow`; a new approval policy firing still needs approval.
   */
  readonly approved?: readonly string[];
}

/** One policy of a loaded bundle. */
export interface PolicyInfo {
  /** `<file name without .cedar>.<@id>`. */
  readonly id: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly effect: "permit" | "forbid";
  /** Set on `forbid` policies a human may waive (`@approval("why")`). */
  readonly approval?: string;
  readonly reason?: string;
}

/** A validated, versioned, pre-parsed set of policies. */
export interface PolicyBundle {
  /** SHA-256 (hex) of the canonical bundle content. */
  readonly version: string;
  readonly policies: readonly PolicyInfo[];
  readonly warnings: readonly string[];
  /** Decides one request. Never throws; fails closed. */
  decide(request: PolicyRequest, options?: DecideOptions): Decision;
}
