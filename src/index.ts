// The public library surface of Arbiter. Nothing outside this file (and ./testing) is public.

export {
  Budget,
  BudgetExceededError,
  createSqliteLedger,
  type Ledger,
  MemoryLedger,
} from "./budget/index.ts";
export type { DurableEngine, DurableRun, StepOptions } from "./durable/durable.ts";
export { LocalDurableEngine } from "./durable/local/local-durable.ts";
export { MemoryDurableEngine } from "./durable/memory/memory-durable.ts";
export { all, WorkerPools } from "./durable/pools.ts";
export { ArbiterError, ErrorCode } from "./errors/arbiter-error.ts";
export { openEmbeddedShield } from "./guard/embedded-shield.ts";
export { scoreInjection, stripInjection } from "./guard/injection/index.ts";
export { createRecognizerRegistry, createTokenizer, openVault } from "./guard/pii/index.ts";
export { createPiiShield } from "./guard/pii-shield.ts";
export { type AuditReport, verifyAudit } from "./journal/audit/verify-audit.ts";
export type { JournalEntry, RouteIntent, RunEvent, RunEventType, RunStatus } from "./journal/events.ts";
export type { Journal, JournalListener } from "./journal/journal.ts";
export { MemoryJournal } from "./journal/memory/memory-journal.ts";
export { SqliteJournal } from "./journal/sqlite/sqlite-journal.ts";
// The model gateway and budgets.
export { BreakerRegistry, createGateway, createGatewayModel, type Gateway } from "./models/gateway/index.ts";
export { createModelResolver, type ModelResolverOptions } from "./models/model-resolver.ts";
export { createProfileGateway } from "./models/profile-gateway.ts";
export {
  createLanguageModel,
  type ModelSpec,
  type ModelSpecInput,
  modelProviders,
  parseModelSpec,
} from "./models/providers/index.ts";
// Governance: Cedar policies and the PII shield.
export {
  createPolicyEngine,
  loadPolicyBundle,
  type PolicyBundle,
  type PolicyEngine,
} from "./policy/index.ts";
export { createPolicyAuthorizer } from "./policy/policy-authorizer.ts";
export { defineProfile, loadProfile, type Profile, type ProfileParts } from "./profile/load-profile.ts";
export type { ProfileDocument, WorkerSpec } from "./profile/schema.ts";
// The local router.
export { type IntentClassifier, trainClassifier } from "./routing/classifier/index.ts";
export { decompose, routeMessage } from "./routing/decompose/index.ts";
export { buildLocalRouter, type LocalRouter } from "./routing/local-router.ts";
export { type Plan, type PlanTask, planSchema, validatePlan } from "./routing/plan.ts";
export { RulesRouter, splitClauses } from "./routing/rules-router.ts";
export { MemoryStore } from "./store/memory/memory-store.ts";
export { SqliteStore } from "./store/sqlite/sqlite-store.ts";
export type { RunRecord, Store } from "./store/store.ts";
export type { RunRequest } from "./supervisor/admit.ts";
export type { RunResult, TaskReport } from "./supervisor/deliver.ts";
export type { RunShield, Shield } from "./supervisor/guards.ts";
// Durable runs on one machine, and the stores behind them.
export {
  LocalRuntime,
  type LocalRuntimeOptions,
  type RunOutcome,
  type SuspendedRun,
} from "./supervisor/local-runtime.ts";
export { type ReplayReport, replayRun } from "./supervisor/replay.ts";
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
