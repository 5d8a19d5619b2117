import type { RunEventInput } from "../journal/events.ts";

/** What the policy engine (or any authorizer) decided, with what the journal needs to record it. */
export interface AuthorizationDecision {
  outcome: "allow" | "deny" | "needs-approval";
  /** Why, in words for a person (policy reasons, or the errors of a fail-closed decision). */
  reason: string;
  /** The policies that determined the outcome. */
  policyIds: readonly string[];
  /** Version of the bundle that decided. */
  bundleVersion: string;
  /** The request as the engine saw it (journaled). */
  request: unknown;
  /** A candidate bundle's decision, recorded and never enforced. */
  shadow?: { outcome: string; policyIds: readonly string[]; bundleVersion: string; differs: boolean };
}

interface Scope {
  runId: string;
  tenant: string;
  taskId: string;
  /** Prompt-injection score of the request (0 clean … 1 certain). */
  injectionScore: number;
}

export interface DelegationRequest extends Scope {
  worker: string;
  input: string;
  /** Data classes the sub-task carries ("PCI", "BANK", "PII"). */
  dataClasses: readonly string[];
}

export interface ToolCallRequest extends Scope {
  worker: string;
  tool: string;
  /** Validated arguments as the model or handler produced them (untrusted). */
  input: unknown;
  /** Computed by the tool's trusted code before it runs. */
  facts: Readonly<Record<string, unknown>>;
  /** Counters the runtime keeps for this run. */
  run: Readonly<Record<string, number | boolean>>;
  /** Data classes of the values revealed to the tool (e.g. "PCI" when a card token was turned back into a number). */
  dataClasses: readonly string[];
  /** Approval policies a person has approved for this very call (decide again after an approval). */
  approved?: readonly string[];
}

export interface ModelEgressRequest extends Scope {
  /** Who calls the model: a worker, or the supervisor (planner, synthesizer). */
  caller: { worker: string } | { supervisor: string };
  provider: string;
  model: string;
  external: boolean;
  /** Data classes present in clear in the prompt (tokens do not count). */
  dataClasses: readonly string[];
}

/**
 * Decides delegations and tool calls (the policy engine implements it). Without an authorizer the
 * profile's own limits apply: a worker reaches only its declared tools, checked in code by the tool invoker.
 */
export interface Authorizer {
  authorizeDelegation(request: DelegationRequest): Promise<AuthorizationDecision>;
  authorizeToolCall(request: ToolCallRequest): Promise<AuthorizationDecision>;
  authorizeModelEgress(request: ModelEgressRequest): Promise<AuthorizationDecision>;
}

/** A decision as the journal records it (`policy-decide`). */
export function decisionEvent(
  kind: "delegation" | "tool-call" | "model-egress",
  taskId: string,
  worker: string,
  decision: AuthorizationDecision,
  tool?: string,
): RunEventInput {
  return {
    type: "policy-decide",
    kind,
    taskId,
    worker,
    ...(tool === undefined ? {} : { tool }),
    decision: decision.outcome,
    reason: decision.reason,
    policyIds: decision.policyIds,
    bundleVersion: decision.bundleVersion,
    request: decision.request,
    ...(decision.shadow === undefined ? {} : { shadow: decision.shadow }),
  };
}

/** "deny by billing.credit-over-500: credits above $500 in one run are never allowed" */
export function describeDecision(decision: AuthorizationDecision): string {
  const ids = decision.policyIds.length > 0 ? decision.policyIds.join(", ") : "no permitting policy";
  return `${decision.outcome} by ${ids}: ${decision.reason}`;
}
