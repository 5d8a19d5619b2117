/** Token counts the server reports for one answer. */
export interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
}

/**
 * Faults a scripted answer can carry. They model what real providers and proxies do:
 * - `malformed-json`: a 200 whose body (or, when streaming, one event) is not valid JSON;
 * - `truncated`: the connection is cut half-way through the body or the event stream;
 * - `wrong-content-type`: a 200 with an HTML page, the way a captive portal or a misrouted proxy answers;
 * - `no-finish`: a stream that ends cleanly but without its final event (no `[DONE]`,
 *   `response.completed` or `message_stop`).
 */
export type ScriptedFault = "malformed-json" | "truncated" | "wrong-content-type" | "no-finish";

/** Settings shared by the answers that carry model output. */
export interface ScriptedAnswerOptions {
  usage?: ScriptedUsage;
  /** Wait this long before sending the status line. The wait ends early when the client aborts. */
  delayMs?: number;
  /** When streaming, wait this long between events. */
  chunkDelayMs?: number;
  fault?: ScriptedFault;
  /** Extra response headers (request ids, rate-limit headers, `retry-after-ms`, …). */
  headers?: Record<string, string>;
}

export interface ScriptedToolCall {
  name: string;
  input: unknown;
  /** The provider's id for the call; generated when absent. */
  id?: string;
}

/**
 * One scripted answer. The server renders it in the wire format of whichever endpoint
 * was called (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages), as JSON
 * or as server-sent events when the request asked to stream.
 */
export type ScriptedReply =
  | ({ type: "text"; text: string } & ScriptedAnswerOptions)
  | ({ type: "tool-calls"; calls: ScriptedToolCall[]; text?: string } & ScriptedAnswerOptions)
  /** A structured answer: JSON text, or the forced `json` tool when the client asked for one. */
  | ({ type: "json"; value: unknown } & ScriptedAnswerOptions)
  | {
      type: "http-error";
      status: number;
      message?: string;
      /** Seconds (number) or an HTTP date (string), sent as `Retry-After`. */
      retryAfter?: number | string;
      headers?: Record<string, string>;
      delayMs?: number;
    }
  /** Anything else, byte for byte (for endpoints the server does not model, e.g. Bedrock or Gemini). */
  | { type: "raw"; status?: number; headers?: Record<string, string>; body: string; delayMs?: number };

/** Builders for the common answers. */
export const reply = {
  text: (text: string, options: ScriptedAnswerOptions = {}): ScriptedReply => ({
    type: "text",
    text,
    ...options,
  }),
  toolCall: (
    name: string,
    input: unknown,
    options: ScriptedAnswerOptions & { id?: string } = {},
  ): ScriptedReply => {
    const { id, ...rest } = options;
    const call: ScriptedToolCall = id === undefined ? { name, input } : { name, input, id };
    return { type: "tool-calls", calls: [call], ...rest };
  },
  toolCalls: (calls: ScriptedToolCall[], options: ScriptedAnswerOptions = {}): ScriptedReply => ({
    type: "tool-calls",
    calls,
    ...options,
  }),
  json: (value: unknown, options: ScriptedAnswerOptions = {}): ScriptedReply => ({
    type: "json",
    value,
    ...options,
  }),
  rateLimited: (retryAfterSeconds?: number | string): ScriptedReply =>
    retryAfterSeconds === undefined
      ? { type: "http-error", status: 429, message: "Rate limit reached" }
      : { type: "http-error", status: 429, message: "Rate limit reached", retryAfter: retryAfterSeconds },
  serverError: (
    status = 500,
    message = "The server had an error while processing your request",
  ): ScriptedReply => ({
    type: "http-error",
    status,
    message,
  }),
  raw: (
    body: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ): ScriptedReply => ({
    type: "raw",
    body,
    ...options,
  }),
} as const;

export const defaultUsage: ScriptedUsage = { inputTokens: 10, outputTokens: 5 };
