import type { LanguageModelV4 } from "@ai-sdk/provider";
import { type Schema, zodSchema } from "@ai-sdk/provider-utils";
import { generateText, isStepCount, Output, type ToolSet, tool } from "ai";
import type { WorkerSpec } from "../profile/schema.ts";
import { invokeTool, type ToolCallScope } from "../tools/invoke-tool.ts";
import type { AnyTool } from "../tools/tool.ts";
import type { HandlerTask } from "./code-handler.ts";
import { type WorkerAnswer, workerAnswerSchema } from "./worker-result.ts";

const CONTRACT =
  "Use your tools for facts; never invent account data. Finish with JSON: " +
  "status ok|partial|failed|refused (refused if the task is outside your scope), " +
  "summary (1-2 sentences for the customer), data, confidence 0-1, evidence.";

// Converting a zod schema to JSON Schema is the costliest part of a model call; do it once per tool.
const toolSchemas = new WeakMap<AnyTool, Schema<unknown>>();
const schemaOf = (definition: AnyTool): Schema<unknown> => {
  let schema = toolSchemas.get(definition);
  if (schema === undefined) {
    schema = zodSchema(definition.input) as Schema<unknown>;
    toolSchemas.set(definition, schema);
  }
  return schema;
};
const answerOutput = Output.object({ schema: zodSchema(workerAnswerSchema) });

/** The compact system prompt of an LLM worker: its instructions, its scope, the answer contract. */
export function workerInstructions(worker: WorkerSpec): string {
  return `${worker.instructions.trim()}\nScope: ${worker.description}\n${CONTRACT}`;
}

/** The user prompt: the sub-task, the request facts and upstream results — nothing else. */
export function workerPrompt(task: HandlerTask, requestContext: Readonly<Record<string, unknown>>): string {
  const lines = [`Task: ${task.input}`];
  const facts = Object.entries(requestContext);
  if (facts.length > 0)
    lines.push(`Context: ${facts.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`);
  for (const [id, dep] of Object.entries(task.dependencies)) {
    lines.push(`Result of ${id} (${dep.worker}, ${dep.status}): ${dep.summary} ${JSON.stringify(dep.data)}`);
  }
  return lines.join("\n");
}

/** Runs a worker as an AI SDK tool loop that ends in a structured answer. */
export async function runLlmWorker(
  worker: WorkerSpec,
  model: LanguageModelV4,
  task: HandlerTask,
  scope: ToolCallScope,
): Promise<WorkerAnswer> {
  const tools: ToolSet = {};
  for (const name of worker.tools) {
    const definition = scope.tools.get(name);
    if (definition === undefined) continue;
    tools[name] = tool({
      description: definition.description,
      inputSchema: schemaOf(definition),
      execute: (input: unknown) => invokeTool(scope, name, input),
    });
  }
  const result = await generateText({
    model,
    instructions: workerInstructions(worker),
    prompt: workerPrompt(task, scope.requestContext),
    tools,
    stopWhen: isStepCount(worker.maxSteps),
    output: answerOutput,
    abortSignal: scope.signal,
    maxRetries: 0,
  });
  return result.output;
}
