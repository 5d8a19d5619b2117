import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
} from "@ai-sdk/provider";
import { abortableDelay } from "../durable/abortable-delay.ts";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";

/** One scripted answer. Plain data, so scripts can live in JSON or YAML files. */
export interface ScriptReply {
  text?: string;
  /** Answered as JSON text (for structured output). */
  object?: unknown;
  toolCalls?: ReadonlyArray<{ name: string; input: unknown }>;
  /** Throw this message instead of answering. */
  error?: string;
  delayMs?: number;
  usage?: { input?: number; output?: number };
}

/** What the model saw on one call. */
export interface ScriptCall {
  readonly prompt: LanguageModelV4Prompt;
  readonly system: string;
  readonly user: string;
  readonly tools: readonly string[];
  /** Number of assistant turns already in the conversation (0 on the first call of a tool loop). */
  readonly step: number;
  readonly responseFormat: LanguageModelV4CallOptions["responseFormat"];
}

/**
 * A conditional script: the first rule whose `when` matches answers; `reply` as a list is indexed by
 * the conversation's step, so concurrent conversations stay deterministic.
 */
export interface ScriptRule {
  when?: { system?: string; user?: string; tools?: string };
  reply: ScriptReply | ScriptReply[];
}

export type ScriptSource = ScriptReply | ScriptRule | ((call: ScriptCall) => ScriptReply | undefined);

export interface ScriptedModelOptions {
  provider?: string;
  modelId?: string;
  /** Played in order, one per call (calls beyond the list fail). */
  replies?: ReadonlyArray<ScriptReply | ((call: ScriptCall) => ScriptReply)>;
  /** Matched on every call (after `replies` are exhausted, or instead of them). */
  rules?: ReadonlyArray<ScriptRule | ((call: ScriptCall) => ScriptReply | undefined)>;
  /** Added to every call. */
  latencyMs?: number;
  /** Keep `calls` (turn off for load tests). Default true. */
  record?: boolean;
}

const textOf = (parts: ReadonlyArray<{ type: string; text?: string }>): string =>
  parts
    .filter((p) => p.type === "text")
    .map((p) => p.text ?? "")
    .join("");

function describeCall(options: LanguageModelV4CallOptions): ScriptCall {
  let system = "";
  let user = "";
  let step = 0;
  for (const message of options.prompt) {
    if (message.role === "system") system += (system ? "\n" : "") + message.content;
    else if (message.role === "user") user += (user ? "\n" : "") + textOf(message.content);
    else if (message.role === "assistant") step++;
  }
  return {
    prompt: options.prompt,
    system,
    user,
    tools: (options.tools ?? []).map((t) => t.name),
    step,
    responseFormat: options.responseFormat,
  };
}

const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function promptChars(prompt: LanguageModelV4Prompt): number {
  let n = 0;
  for (const m of prompt) {
    if (typeof m.content === "string") n += m.content.length;
    else
      for (const part of m.content)
        n += "text" in part && typeof part.text === "string" ? part.text.length : 16;
  }
  return n;
}

/**
 * A language model that plays a script: text, tool calls, structured output, errors and delays.
 * It records every prompt it receives and fails loudly on a call nothing in the script answers.
 * @example
 * const model = new ScriptedModel({ replies: [{ toolCalls: [{ name: "lookup", input: { id: 1 } }] }, { text: "done" }] });
 */
export class ScriptedModel implements LanguageModelV4 {
  readonly specificationVersion = "v4" as const;
  readonly provider: string;
  readonly modelId: string;
  readonly supportedUrls = {};
  readonly calls: ScriptCall[] = [];
  readonly #replies: ReadonlyArray<ScriptReply | ((call: ScriptCall) => ScriptReply)>;
  readonly #rules: ReadonlyArray<ScriptRule | ((call: ScriptCall) => ScriptReply | undefined)>;
  readonly #latencyMs: number;
  readonly #record: boolean;
  #next = 0;
  #callCount = 0;

  constructor(options: ScriptedModelOptions = {}) {
    this.provider = options.provider ?? "scripted";
    this.modelId = options.modelId ?? "scripted";
    this.#replies = options.replies ?? [];
    this.#rules = options.rules ?? [];
    this.#latencyMs = options.latencyMs ?? 0;
    this.#record = options.record ?? true;
  }

  /** Calls made so far (also counted when `record` is off). */
  get callCount(): number {
    return this.#callCount;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    this.#callCount++;
    const call = describeCall(options);
    if (this.#record) this.calls.push(call);
    const reply = this.#pick(call);
    const delay = this.#latencyMs + (reply.delayMs ?? 0);
    if (delay > 0) await abortableDelay(delay, options.abortSignal);
    else if (options.abortSignal?.aborted) throw options.abortSignal.reason;
    if (reply.error !== undefined) {
      throw new ArbiterError(ErrorCode.ModelFailed, `scripted model error: ${reply.error}`);
    }
    const content: LanguageModelV4Content[] = [];
    const text = reply.object !== undefined ? JSON.stringify(reply.object) : reply.text;
    if (text !== undefined) content.push({ type: "text", text });
    reply.toolCalls?.forEach((tc, i) => {
      content.push({
        type: "tool-call",
        toolCallId: `call_${this.#callCount}_${i}`,
        toolName: tc.name,
        input: JSON.stringify(tc.input ?? {}),
      });
    });
    const input = reply.usage?.input ?? Math.max(1, Math.ceil(promptChars(options.prompt) / 4));
    const output = reply.usage?.output ?? estimateTokens(text ?? JSON.stringify(reply.toolCalls ?? ""));
    return {
      content,
      finishReason: { unified: reply.toolCalls?.length ? "tool-calls" : "stop", raw: undefined },
      usage: {
        inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: output, text: output, reasoning: undefined },
      },
      warnings: [],
    };
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const result = await this.doGenerate(options);
    const parts: LanguageModelV4StreamPart[] = [{ type: "stream-start", warnings: [] }];
    for (const [i, c] of result.content.entries()) {
      if (c.type === "text") {
        parts.push({ type: "text-start", id: `t${i}` });
        parts.push({ type: "text-delta", id: `t${i}`, delta: c.text });
        parts.push({ type: "text-end", id: `t${i}` });
      } else parts.push(c as LanguageModelV4StreamPart);
    }
    parts.push({ type: "finish", usage: result.usage, finishReason: result.finishReason });
    return {
      stream: new ReadableStream({
        start(controller) {
          for (const p of parts) controller.enqueue(p);
          controller.close();
        },
      }),
    };
  }

  #pick(call: ScriptCall): ScriptReply {
    if (this.#next < this.#replies.length) {
      const entry = this.#replies[this.#next++]!;
      return typeof entry === "function" ? entry(call) : entry;
    }
    for (const rule of this.#rules) {
      if (typeof rule === "function") {
        const reply = rule(call);
        if (reply !== undefined) return reply;
        continue;
      }
      if (!matches(rule, call)) continue;
      if (!Array.isArray(rule.reply)) return rule.reply;
      const reply = rule.reply[Math.min(call.step, rule.reply.length - 1)];
      if (reply !== undefined) return reply;
    }
    throw new ArbiterError(
      ErrorCode.ScriptExhausted,
      `scripted model "${this.modelId}" got an unexpected call #${this.#callCount} ` +
        `(user: ${JSON.stringify(call.user.slice(0, 120))}); add a reply or rule to its script`,
    );
  }
}

// Each rule's patterns, compiled on its first match (a load test makes thousands of calls per rule).
const compiled = new WeakMap<object, { system?: RegExp; user?: RegExp; tools?: RegExp }>();

function patternsOf(when: NonNullable<ScriptRule["when"]>): {
  system?: RegExp;
  user?: RegExp;
  tools?: RegExp;
} {
  let patterns = compiled.get(when);
  if (patterns === undefined) {
    patterns = {
      ...(when.system === undefined ? {} : { system: new RegExp(when.system, "iu") }),
      ...(when.user === undefined ? {} : { user: new RegExp(when.user, "iu") }),
      ...(when.tools === undefined ? {} : { tools: new RegExp(when.tools, "iu") }),
    };
    compiled.set(when, patterns);
  }
  return patterns;
}

function matches(rule: ScriptRule, call: ScriptCall): boolean {
  const when = rule.when;
  if (when === undefined) return true;
  const { system, user, tools } = patternsOf(when);
  if (system !== undefined && !system.test(call.system)) return false;
  if (user !== undefined && !user.test(call.user)) return false;
  if (tools !== undefined && !call.tools.some((t) => tools.test(t))) return false;
  return true;
}
