import type { ScriptedReply, ScriptedUsage } from "./scripted-reply.ts";
import { defaultUsage } from "./scripted-reply.ts";

/** The provider APIs the server speaks. */
export type WireApi = "openai-chat" | "openai-responses" | "anthropic-messages";

/** One server-sent event. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** A model answer reduced to what every wire format can express. */
export interface Answer {
  text: string | undefined;
  toolCalls: { id: string; name: string; input: unknown }[];
  usage: ScriptedUsage;
  /** The model that was asked for, echoed back the way providers do. */
  model: string;
}

export interface RenderContext {
  /** Deterministic ids: `nextId("msg")` → `msg_1`, `msg_2`, … */
  nextId(prefix: string): string;
  /** Seconds since the epoch, for `created` fields. */
  created: number;
}

/** Renders answers and errors in one provider's wire format. */
export interface WireFormat {
  readonly api: WireApi;
  /** The full JSON body of a non-streaming answer. */
  body(answer: Answer, context: RenderContext): unknown;
  /** A streaming answer: its content events, then the events that finish it. */
  events(answer: Answer, context: RenderContext): { content: SseEvent[]; finish: SseEvent[] };
  /** The JSON error body this provider sends with a non-2xx status. */
  errorBody(status: number, message: string): unknown;
  /** Whether the request forces a `json` tool for structured output (Anthropic's fallback mode). */
  wantsJsonTool(requestBody: unknown): boolean;
}

type AnswerReply = Extract<ScriptedReply, { type: "text" | "tool-calls" | "json" }>;

export function toAnswer(
  reply: AnswerReply,
  format: WireFormat,
  requestBody: unknown,
  context: RenderContext,
): Answer {
  const model = modelOf(requestBody) ?? "unknown-model";
  const usage = reply.usage ?? defaultUsage;
  switch (reply.type) {
    case "text":
      return { text: reply.text, toolCalls: [], usage, model };
    case "tool-calls":
      return {
        text: reply.text,
        toolCalls: reply.calls.map((call) => ({
          id: call.id ?? context.nextId("call"),
          name: call.name,
          input: call.input,
        })),
        usage,
        model,
      };
    case "json":
      if (format.wantsJsonTool(requestBody)) {
        return {
          text: undefined,
          toolCalls: [{ id: context.nextId("call"), name: "json", input: reply.value }],
          usage,
          model,
        };
      }
      return { text: JSON.stringify(reply.value), toolCalls: [], usage, model };
  }
}

export function modelOf(requestBody: unknown): string | undefined {
  if (typeof requestBody !== "object" || requestBody === null) return undefined;
  const model = (requestBody as { model?: unknown }).model;
  return typeof model === "string" ? model : undefined;
}

/** Splits text into a few pieces so streams carry more than one delta. */
export function splitText(text: string, pieces = 3): string[] {
  if (text.length <= 1) return [text];
  const size = Math.ceil(text.length / pieces);
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += size) parts.push(text.slice(start, start + size));
  return parts;
}

export const json = (value: unknown): string => JSON.stringify(value);
