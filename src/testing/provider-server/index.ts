export type { ProviderServer, ProviderServerOptions, RecordedRequest } from "./provider-server.ts";
export { startProviderServer } from "./provider-server.ts";
export type {
  ScriptedAnswerOptions,
  ScriptedFault,
  ScriptedReply,
  ScriptedToolCall,
  ScriptedUsage,
} from "./scripted-reply.ts";
export { reply } from "./scripted-reply.ts";
export type { WireApi } from "./wire-format.ts";
