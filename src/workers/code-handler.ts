import type { WorkerAnswer } from "./worker-result.ts";

/** A finished upstream task whose result the supervisor passes on to a dependent task. */
export interface DependencyResult {
  readonly worker: string;
  readonly status: string;
  readonly summary: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface HandlerTask {
  readonly id: string;
  /** The sub-task text the supervisor assigned. */
  readonly input: string;
  readonly dependencies: Readonly<Record<string, DependencyResult>>;
}

export interface HandlerContext {
  readonly worker: string;
  readonly tenant: string;
  readonly requestContext: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  /** Calls one of this worker's tools through the governed path (validation, journal, policy). */
  callTool<O = unknown>(name: string, input: unknown): Promise<O>;
}

/** A worker implemented in code rather than by a model. */
export type CodeHandler = (task: HandlerTask, ctx: HandlerContext) => Promise<WorkerAnswer>;
