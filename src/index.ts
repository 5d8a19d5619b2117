// The public library surface of Arbiter. Nothing outside this file (and ./testing) is public.

export type { DurableEngine, DurableRun, StepOptions } from "./durable/durable.ts";
export { MemoryDurableEngine } from "./durable/memory/memory-durable.ts";
export { ArbiterError, ErrorCode } from "./errors/arbiter-error.ts";
export type { JournalEntry, RouteIntent, RunEvent, RunEventType, RunStatus } from "./journal/events.ts";
export type { Journal, JournalListener } from "./journal/journal.ts";
export { MemoryJournal } from "./journal/memory/memory-journal.ts";
export { createModelResolver, type ModelResolverOptions } from "./models/model-resolver.ts";
export {
  createLanguageModel,
  type ModelSpec,
  type ModelSpecInput,
  modelProviders,
  parseModelSpec,
} from "./models/providers/index.ts";
export { defineProfile, loadProfile, type Profile, type ProfileParts } from "./profile/load-profile.ts";
export type { ProfileDocument, WorkerSpec } from "./profile/schema.ts";
export { type Plan, type PlanTask, planSchema, validatePlan } from "./routing/plan.ts";
export { RulesRouter, splitClauses } from "./routing/rules-router.ts";
export type { RunRequest } from "./supervisor/admit.ts";
export type { RunResult, TaskReport } from "./supervisor/deliver.ts";
export type { RunShield, Shield } from "./supervisor/guards.ts";
export type { ModelResolver, ResolvedModel } from "./supervisor/run-context.ts";
export {
  createSupervisor,
  type RunOptions,
  type Supervisor,
  type SupervisorOptions,
} from "./supervisor/supervisor.ts";
export type { AuthorizationDecision, Authorizer } from "./tools/authorization.ts";
export { type AnyTool, defineTool, type ToolContext, type ToolDefinition } from "./tools/tool.ts";
export { defineToolkit, type Toolkit, type ToolkitFactory, type ToolkitOptions } from "./tools/toolkit.ts";
export type { CodeHandler, HandlerContext, HandlerTask } from "./workers/code-handler.ts";
export {
  type TaskStatus,
  type WorkerAnswer,
  type WorkerResult,
  workerAnswerSchema,
} from "./workers/worker-result.ts";
