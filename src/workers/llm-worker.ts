import type { JSONSchema7, LanguageModelV4 } from "@ai-sdk/provider";
import { zodSchema } from "@ai-sdk/provider-utils";
import type { WorkerSpec } from "../profile/schema.ts";
import { invokeTool, type ToolCallScope } from "../tools/invoke-tool.ts";
import type { AnyTool } from "../tools/tool.ts";
import type { HandlerTask } from "./code-handler.ts";
import { type LoopTool, runToolLoop } from "./tool-loop.ts";
import { type WorkerAnswer, workerAnswerSchema } from "./worker-result.ts";

const CONTRACT =
  "Use your tools for facts; never invent account data. Finish with JSON: " +
  "status ok|partial|failed|refused (refused if the task is outside your scope), " +
  "summary (1-2 sentences for the customer), data, confidence 0-1, evidence.";

// Converting a zod schema to JSON Schema is the costliest part of building a call; do it once per schema.
const jsonSchemas = new WeakMap<object, Promise<JSONSchema7>>();
const jsonSchemaOf = (schema: AnyTool["input"]): Promise<JSONSchema7> => {
  let converted = jsonSchemas.get(schema);
  if (converted === undefined) {
    converted = Promise.resolve(zodSchema(schema).jsonSchema);
    jsonSchemas.set(schema, converted);
  }
  return converted;
};

// A worker's tools as the loop offers them, once per worker and tool set: every task of the worker
// shares them (each task runs them through its own `invokeTool` scope).
const loopTools = new WeakMap<WorkerSpec, WeakMap<object, Promise<Record<string, LoopTool>>>>();

function loopToolsOf(
  worker: WorkerSpec,
  definitions: ToolCallScope["tools"],
): Promise<Record<string, LoopTool>> {
  let byTools = loopTools.get(worker);
  if (byTools === undefined) {
    byTools = new WeakMap();
    loopTools.set(worker, byTools);
  }
  let tools = byTools.get(definitions);
  if (tools === undefined) {
    tools = (async () => {
      const out: Record<string, LoopTool> = {};
      for (const name of worker.tools) {
        const definition = definitions.get(name);
        if (definition === undefined) continue;
        out[name] = {
          description: definition.description,
          inputSchema: await jsonSchemaOf(definition.input),
        };
      }
      return out;
    })();
    byTools.set(definitions, tools);
  }
  return tools;
}

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

/**
 * Runs a worker as a tool loop that ends in a structured answer. Every tool call goes through
 * `invokeTool` (ownership, validation after PII reveal, policy, durable step), never straight to a tool.
 */
export async function runLlmWorker(
  worker: WorkerSpec,
  model: LanguageModelV4,
  task: HandlerTask,
  scope: ToolCallScope,
): Promise<WorkerAnswer> {
  return runToolLoop({
    model,
    instructions: workerInstructions(worker),
    prompt: workerPrompt(task, scope.requestContext),
    tools: await loopToolsOf(worker, scope.tools),
    execute: (name, input) => invokeTool(scope, name, input),
    maxSteps: worker.maxSteps,
    answer: { jsonSchema: await jsonSchemaOf(workerAnswerSchema), schema: workerAnswerSchema },
    signal: scope.signal,
    label: `worker "${worker.name}"`,
  });
}
