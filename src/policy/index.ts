export {
  compilePolicyBundle,
  type PolicyBundleSources,
  type PolicyProblem,
} from "./cedar/compile-policy-bundle.ts";
export { loadPolicyBundle } from "./cedar/load-policy-bundle.ts";
export {
  type DecideOptions,
  type Decision,
  type EntityRef,
  Outcome,
  type PolicyBundle,
  type PolicyEntity,
  type PolicyInfo,
  type PolicyRequest,
} from "./decision.ts";
export {
  createPolicyEngine,
  type EngineDecision,
  type PolicyEngine,
  type PolicyEngineOptions,
} from "./policy-engine.ts";
export {
  DataClass,
  type DelegationRequestInput,
  delegationRequest,
  EntityType,
  type ModelEgressCaller,
  type ModelEgressRequestInput,
  modelEgressRequest,
  PolicyAction,
  type RunCounters,
  type RunScope,
  type ToolCallRequestInput,
  toolCallRequest,
} from "./requests.ts";
