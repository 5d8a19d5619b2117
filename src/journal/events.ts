import type {
  BudgetChargeEvent,
  BudgetExceedEvent,
  CacheHitEvent,
  ModelCallEvent,
  ModelHopEvent,
  ModelRetryEvent,
} from "../models/gateway/gateway-events.ts";
import type { PlanTask } from "../routing/plan.ts";
import type { TaskStatus, Usage } from "../workers/worker-result.ts";

/** Persisted-format version of journal events. */
export const EVENT_SCHEMA_VERSION = 1;

export type RunStatus = "completed" | "partial" | "failed" | "escalated";

export interface RouteIntent {
  worker: string;
  score: number;
  /** The part of the message that carries this intent. */
  text: string;
  start: number;
  end: number;
}

interface Base {
  runId: string;
  /** Milliseconds since the epoch, from the runtime's clock. */
  at: number;
}

/** Every event a run appends. Discriminated on `type`, named noun-verb. */
export type RunEvent =
  | (Base & {
      type: "run-start";
      tenant: string;
      profile: { name: string; version: string };
      message: string;
      context: Record<string, unknown>;
    })
  /** A process took up an unfinished run (after a crash, a restart or a person's decision); appended per resume. */
  | (Base & {
      type: "run-resume";
      /** The process that resumed it (`<host>:<pid>:<nonce>`). */
      by: string;
      /** The run's status when it was taken up. */
      from: string;
      /** The profile version now; differs from the run's `run-start` one when the profile changed. */
      profileVersion: string;
    })
  | (Base & { type: "input-guard"; guard: string; findings: number; dataClasses: string[] })
  | (Base & {
      type: "injection-score";
      score: number;
      signals: string[];
      /** Parts of the message kept away from routing because they look injected. */
      withheld: Array<{ start: number; end: number }>;
    })
  | (Base & {
      type: "route-decide";
      tier: "rules" | "classifier" | "planner" | "fallback";
      confident: boolean;
      intents: RouteIntent[];
      reason: string;
    })
  | (Base & { type: "plan-create"; source: "direct" | "rules" | "planner" | "fallback"; tasks: PlanTask[] })
  | (Base & { type: "plan-reject"; source: "planner"; reason: string })
  | (Base & {
      type: "policy-decide";
      kind: "delegation" | "tool-call" | "model-egress";
      taskId: string;
      worker: string;
      tool?: string;
      decision: "allow" | "deny" | "needs-approval";
      reason: string;
      policyIds: readonly string[];
      bundleVersion: string;
      /** The request as the engine saw it (principal, action, resource, context). */
      request: unknown;
      shadow?: { outcome: string; policyIds: readonly string[]; bundleVersion: string; differs: boolean };
    })
  | (Base & {
      type: "task-start";
      taskId: string;
      worker: string;
      attempt: number;
      mode: "model" | "handler";
    })
  | (Base & {
      type: "task-retry";
      taskId: string;
      worker: string;
      attempt: number;
      error: string;
      delayMs: number;
    })
  | (Base & { type: "task-fallback"; taskId: string; from: string; to: string; reason: string })
  | (Base & {
      type: "task-end";
      taskId: string;
      worker: string;
      status: TaskStatus;
      summary: string;
      confidence: number;
      startedAt: number;
      durationMs: number;
      toolCalls: number;
      usage: Usage;
      reason?: string;
    })
  | (Base & {
      type: "tool-call-start";
      taskId: string;
      worker: string;
      tool: string;
      callId: string;
      idempotencyKey: string;
      input: unknown;
    })
  | (Base & {
      type: "tool-call-end";
      taskId: string;
      worker: string;
      tool: string;
      callId: string;
      ok: boolean;
      output?: unknown;
      error?: string;
      replayed: boolean;
      durationMs: number;
    })
  | (Base & {
      type: "model-call-end";
      purpose: "planner" | "worker" | "synthesizer";
      taskId?: string;
      provider: string;
      model: string;
      ok: boolean;
      error?: string;
      usage: Usage;
      durationMs: number;
      /**
       * The gateway attempt that answered: catalog name, provider, model id and cost. It is journaled
       * here instead of as a `model-attempt` of its own (failed attempts, retries and hops still are).
       */
      answeredBy?: { model: string; provider: string; modelId: string; costUsd: number };
    })
  | (Base & { type: "escalation-pending"; taskId: string; worker: string; reason: string })
  | (Base & {
      type: "approval-request";
      approvalId: string;
      taskId: string;
      worker: string;
      reason: string;
      /** Milliseconds since the epoch when the request expires, if it does. */
      expiresAt?: number;
      /** What is to be decided, and so what an approver's `--edit` may change. */
      subject?: ApprovalSubject;
    })
  | (Base & {
      type: "approval-decide";
      approvalId: string;
      taskId: string;
      status: "approved" | "denied" | "expired";
      /** Who decided (absent for an expiry). */
      by?: string;
      reason?: string;
      /** Replacement input the approver supplied. */
      edit?: unknown;
      /** When the decision was made (`at` is when the run took it up). */
      decidedAt: number;
    })
  | (Base & { type: "synthesis-end"; mode: "llm" | "template"; fallbackFromLlm?: string })
  | (Base & {
      type: "run-end";
      status: RunStatus;
      answer: string;
      durationMs: number;
      usage: Usage;
    })
  | (Base & { type: "warning"; message: string })
  // The model gateway's events (retries, hops, cache hits, budget charges) as the run's journal keeps them.
  | (Base & Omit<ModelCallEvent, "type" | "tenant" | "runId"> & { type: "model-attempt" })
  | (Base & Omit<ModelHopEvent, "tenant" | "runId">)
  | (Base & Omit<ModelRetryEvent, "tenant" | "runId">)
  | (Base & Omit<CacheHitEvent, "tenant" | "runId">)
  | (Base & Omit<BudgetChargeEvent, "tenant" | "runId">)
  | (Base & Omit<BudgetExceedEvent, "tenant" | "runId">);

export type RunEventType = RunEvent["type"];
/** An event before the journal stamps it with the run id and time. */
export type RunEventInput = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, "runId" | "at">
    : never
  : never;

/** One appended event, numbered per run from 1. */
export interface JournalEntry {
  readonly seq: number;
  readonly v: number;
  readonly event: RunEvent;
}

/**
 * What an approval asks about. A tool call held by policy (`--edit` on approve changes its arguments),
 * a call left in doubt by a crash (`--edit` on deny records its result), a worker's answer under its
 * confidence threshold (`--edit` on approve corrects it: `{summary?, data?}`), or a delegation held
 * before it runs (`--edit` on approve replaces the task's input with a string).
 */
export type ApprovalSubject =
  | { kind: "tool-call"; tool: string; input: unknown }
  | { kind: "in-doubt"; tool: string; input: unknown; idempotencyKey: string }
  | { kind: "answer" }
  | { kind: "delegation"; input: string };
