import type { LanguageModelV4 } from "@ai-sdk/provider";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import type { WorkerSpec } from "../profile/schema.ts";
import { invokeTool, type ToolCallScope } from "../tools/invoke-tool.ts";
import type { CodeHandler, HandlerTask } from "./code-handler.ts";
import { runLlmWorker } from "./llm-worker.ts";
import { type WorkerAnswer, workerAnswerSchema } from "./worker-result.ts";

export type WorkerImplementation =
  | { kind: "model"; model: LanguageModelV4 }
  | { kind: "handler"; handler: CodeHandler };

/**
 * Runs one attempt of a worker on a task and returns its answer, validated against the result schema.
 * Throws on failures worth retrying (timeouts, tool or model errors).
 */
export async function runWorker(
  worker: WorkerSpec,
  implementation: WorkerImplementation,
  task: HandlerTask,
  scope: ToolCallScope,
): Promise<WorkerAnswer> {
  if (implementation.kind === "model") return runLlmWorker(worker, implementation.model, task, scope);
  const answer = await implementation.handler(task, {
    worker: worker.name,
    tenant: scope.tenant,
    requestContext: scope.requestContext,
    signal: scope.signal,
    callTool: <O>(name: string, input: unknown) => invokeTool(scope, name, input) as Promise<O>,
  });
  scope.signal.throwIfAborted();
  const parsed = workerAnswerSchema.safeParse(answer);
  if (!parsed.success) {
    throw new ArbiterError(
      ErrorCode.Internal,
      `handler of worker "${worker.name}" returned a malformed result: ${parsed.error.issues
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`,
    );
  }
  return parsed.data;
}
