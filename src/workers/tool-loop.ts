import type {
  JSONSchema7,
  JSONValue,
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FunctionTool,
  LanguageModelV4Message,
  LanguageModelV4ToolResultOutput,
} from "@ai-sdk/provider";
import type { z } from "zod";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";

/** A tool as the loop offers it to the model: the executor does its own validation and governance. */
export interface LoopTool {
  readonly description: string;
  readonly inputSchema: JSONSchema7;
  /** Runs the tool; without it, the loop's `execute` does. */
  execute?(input: unknown): Promise<unknown>;
}

export interface ToolLoopOptions<T> {
  readonly model: LanguageModelV4;
  readonly instructions: string;
  readonly prompt: string;
  readonly tools: Readonly<Record<string, LoopTool>>;
  /**
   * Runs a tool that has no `execute` of its own: one executor for the task, so the tool
   * definitions can be shared by every task of a worker.
   */
  readonly execute?: (name: string, input: unknown) => Promise<unknown>;
  /** Model calls allowed, the answering one included. */
  readonly maxSteps: number;
  /** The structured answer the loop ends with: sent as the response format, validated on arrival. */
  readonly answer: { readonly jsonSchema: JSONSchema7; readonly schema: z.ZodType<T> };
  readonly signal: AbortSignal;
  /** Names the loop in errors ("worker \"billing\""). */
  readonly label: string;
}

type AssistantPart = Extract<LanguageModelV4Message, { role: "assistant" }>["content"][number];

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error);

/**
 * What a tool returned, as the model receives it: strings as text, anything else as JSON, which the
 * provider serialises (no copy is made here).
 */
function modelOutput(value: unknown): LanguageModelV4ToolResultOutput {
  if (typeof value === "string") return { type: "text", value };
  return { type: "json", value: value === undefined ? null : (value as JSONValue) };
}

/** Parses a tool call's JSON-encoded input; an empty string is an empty object (some providers send it). */
function parseInput(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: errorText(error) };
  }
}

/**
 * The tool loop of an LLM worker, on the provider interface (`LanguageModelV4`) directly: call the
 * model with the tools and the answer's JSON schema; run the tool calls it makes (concurrently) and
 * send the results back; stop at the first turn without tool calls and validate its answer.
 *
 * Semantics follow the AI SDK's `generateText` tool loop (tool errors, unknown tools and unparsable
 * inputs go back to the model as `error-text` results, provider-executed calls are the provider's),
 * with one difference on purpose: tool calls made on the last allowed step are not executed, since
 * no model would ever see their results — the loop fails instead, before any side effect.
 */
export async function runToolLoop<T>(options: ToolLoopOptions<T>): Promise<T> {
  const { model, tools, signal, label } = options;
  const toolList = toolListOf(tools);
  const prompt: LanguageModelV4Message[] = [
    { role: "system", content: options.instructions },
    { role: "user", content: [{ type: "text", text: options.prompt }] },
  ];
  for (let step = 1; ; step++) {
    signal.throwIfAborted();
    const call: LanguageModelV4CallOptions = {
      prompt: [...prompt],
      responseFormat: { type: "json", schema: options.answer.jsonSchema },
      abortSignal: signal,
      ...(toolList.length > 0 ? { tools: toolList, toolChoice: { type: "auto" } } : {}),
    };
    const result = await model.doGenerate(call);
    const finish = result.finishReason.unified;
    const calls = result.content.filter(
      (part): part is Extract<LanguageModelV4Content, { type: "tool-call" }> =>
        part.type === "tool-call" && part.providerExecuted !== true,
    );
    if (calls.length === 0) return parseAnswer(options, result.content, result.structuredOutputText, finish);
    if (finish !== "stop" && finish !== "tool-calls") {
      throw new ArbiterError(
        ErrorCode.ModelFailed,
        `${label}: the model's tool calls were cut off (finish reason "${finish}"); none was run`,
      );
    }
    if (step >= options.maxSteps) {
      throw new ArbiterError(
        ErrorCode.ModelFailed,
        `${label} used its ${options.maxSteps} model steps without answering; its last ${calls.length} tool call(s) were not run (raise maxSteps in the profile if the task needs more)`,
      );
    }
    const inputs = new Map(calls.map((c) => [c.toolCallId, parseInput(c.input)]));
    const outputs = await Promise.all(
      calls.map(async (c): Promise<LanguageModelV4ToolResultOutput> => {
        const tool = Object.hasOwn(tools, c.toolName) ? tools[c.toolName] : undefined;
        if (tool === undefined) {
          return {
            type: "error-text",
            value: `no tool named "${c.toolName}"; available: ${Object.keys(tools).join(", ") || "none"}`,
          };
        }
        const input = inputs.get(c.toolCallId)!;
        if (!input.ok)
          return { type: "error-text", value: `invalid JSON input for "${c.toolName}": ${input.error}` };
        try {
          const output =
            tool.execute !== undefined
              ? await tool.execute(input.value)
              : await executorOf(options, c.toolName)(c.toolName, input.value);
          return modelOutput(output);
        } catch (error) {
          signal.throwIfAborted();
          return { type: "error-text", value: errorText(error) };
        }
      }),
    );
    signal.throwIfAborted();
    prompt.push(
      { role: "assistant", content: assistantParts(result.content, inputs) },
      {
        role: "tool",
        content: calls.map((c, i) => ({
          type: "tool-result" as const,
          toolCallId: c.toolCallId,
          toolName: c.toolName,
          output: outputs[i]!,
        })),
      },
    );
  }
}

// The tools as the model is offered them, once per tools record (a worker's are shared by its tasks).
const toolLists = new WeakMap<object, LanguageModelV4FunctionTool[]>();

function toolListOf(tools: Readonly<Record<string, LoopTool>>): LanguageModelV4FunctionTool[] {
  let list = toolLists.get(tools);
  if (list === undefined) {
    list = Object.entries(tools).map(([name, t]) => ({
      type: "function",
      name,
      description: t.description,
      inputSchema: t.inputSchema,
    }));
    toolLists.set(tools, list);
  }
  return list;
}

function executorOf<T>(
  options: ToolLoopOptions<T>,
  name: string,
): (name: string, input: unknown) => Promise<unknown> {
  if (options.execute === undefined) {
    throw new ArbiterError(ErrorCode.InvalidArgument, `${options.label}: tool "${name}" has no executor`);
  }
  return options.execute;
}

/** The model's turn as it goes back into the conversation (metadata kept: some providers need it). */
function assistantParts(
  content: readonly LanguageModelV4Content[],
  inputs: ReadonlyMap<string, { ok: boolean; value?: unknown }>,
): AssistantPart[] {
  const parts: AssistantPart[] = [];
  for (const part of content) {
    const providerOptions = "providerMetadata" in part ? part.providerMetadata : undefined;
    const extra = providerOptions === undefined ? {} : { providerOptions };
    if (part.type === "text" && part.text !== "") parts.push({ type: "text", text: part.text, ...extra });
    else if (part.type === "reasoning") parts.push({ type: "reasoning", text: part.text, ...extra });
    else if (part.type === "tool-call") {
      const parsed = inputs.get(part.toolCallId);
      parts.push({
        type: "tool-call",
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        input: parsed?.ok ? parsed.value : part.input,
        ...(part.providerExecuted ? { providerExecuted: true } : {}),
        ...extra,
      });
    }
  }
  return parts;
}

function parseAnswer<T>(
  options: ToolLoopOptions<T>,
  content: readonly LanguageModelV4Content[],
  structuredOutputText: string | undefined,
  finish: string,
): T {
  let text = structuredOutputText;
  if (text === undefined) {
    text = "";
    for (const part of content) if (part.type === "text") text += part.text;
  }
  if (finish !== "stop" && text.length === 0) {
    throw new ArbiterError(
      ErrorCode.ModelFailed,
      `${options.label}: the model ended without an answer (finish reason "${finish}")`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ArbiterError(
      ErrorCode.ModelFailed,
      `${options.label}: the model's answer is not JSON (finish reason "${finish}"): ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const parsed = options.answer.schema.safeParse(value);
  if (!parsed.success) {
    throw new ArbiterError(
      ErrorCode.ModelFailed,
      `${options.label}: the model's answer does not match the answer schema: ${parsed.error.issues
        .map((i) => `${i.path.join(".") || "(answer)"}: ${i.message}`)
        .join("; ")}`,
    );
  }
  return parsed.data;
}
