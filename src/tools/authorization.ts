/** A decision on one delegation or tool call. */
export type AuthorizationDecision =
  | { outcome: "allow" }
  | { outcome: "deny"; reason: string; policyIds: readonly string[] }
  | { outcome: "needs-approval"; reason: string; policyIds: readonly string[] };

export interface DelegationRequest {
  runId: string;
  tenant: string;
  taskId: string;
  worker: string;
  input: string;
}

export interface ToolCallRequest {
  runId: string;
  tenant: string;
  taskId: string;
  worker: string;
  tool: string;
  input: unknown;
}

/**
 * Seam for the policy engine (governance issue). Without an authorizer the profile's own limits apply:
 * a worker reaches only its declared tools, checked in code by the tool invoker.
 */
export interface Authorizer {
  authorizeDelegation(request: DelegationRequest): Promise<AuthorizationDecision>;
  authorizeToolCall(request: ToolCallRequest): Promise<AuthorizationDecision>;
}
