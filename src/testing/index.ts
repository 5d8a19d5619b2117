// `arbiter/testing`: deterministic models and wire-format servers for tests and demos.

export { runDurableConformance } from "../durable/durable-conformance.ts";
export { runStoreContract } from "../store/store-contract.ts";
export { createFaults, type FaultSpec, parseFaultSpec } from "./fault-injection.ts";
export { loadScriptedModel } from "./load-script.ts";
export {
  type ProviderServer,
  type ProviderServerOptions,
  type RecordedRequest,
  reply,
  startProviderServer,
} from "./provider-server/index.ts";
export {
  type ScriptCall,
  ScriptedModel,
  type ScriptedModelOptions,
  type ScriptReply,
  type ScriptRule,
} from "./scripted-model.ts";
