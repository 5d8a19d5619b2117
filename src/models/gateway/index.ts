export { type CircuitOpenDetails, circuitOpenDetails } from "./breaker-middleware.ts";
export { BreakerRegistry, type BreakerRegistryOptions, type BreakerSnapshot } from "./breaker-registry.ts";
export { cacheKey, isDeterministic } from "./cache-key.ts";
export {
  type Admission,
  type BreakerChange,
  type BreakerObservation,
  type BreakerState,
  type BreakerThresholds,
  CircuitBreaker,
  type Trip,
} from "./circuit-breaker.ts";
export { classifyFailure, type Failure, type FailureKind } from "./classify-failure.ts";
export {
  createGateway,
  createGatewayModel,
  type Gateway,
  type GatewayCacheOptions,
  type GatewayChainEntry,
  type GatewayContext,
  type GatewayModelOptions,
  type GatewayOptions,
} from "./create-gateway-model.ts";
export type {
  BudgetChargeEvent,
  BudgetExceedEvent,
  CacheHitEvent,
  EventContext,
  GatewayEvent,
  HopReason,
  ModelCallEvent,
  ModelHopEvent,
  ModelRetryEvent,
} from "./gateway-events.ts";
export { type CachedResponse, MemoryResponseCache, type ResponseCache } from "./response-cache.ts";
export type { RetryOptions } from "./retry-middleware.ts";
