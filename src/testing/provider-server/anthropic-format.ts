import type { Answer, SseEvent, WireFormat } from "./wire-format.ts";
import { json, splitText } from "./wire-format.ts";

/** Anthropic Messages: `POST /v1/messages`. */
export const anthropicFormat: WireFormat = {
  api: "anthropic-messages",

  body(answer, context) {
    return {
      id: context.nextId("msg"),
      type: "message",
      role: "assistant",
      model: answer.model,
      content: [
        ...(answer.text === undefined ? [] : [{ type: "text", text: answer.text }]),
        ...answer.toolCalls.map((call) => ({
          type: "tool_use",
          id: call.id,
          name: call.name,
          input: call.input,
        })),
      ],
      stop_reason: stopReason(answer),
      stop_sequence: null,
      usage: { input_tokens: answer.usage.inputTokens, output_tokens: answer.usage.outputTokens },
    };
  },

  events(answer, context) {
    const event = (type: string, payload: Record<string, unknown>): SseEvent => ({
      event: type,
      data: json({ type, ...payload }),
    });
    const content: SseEvent[] = [
      event("message_start", {
        message: {
          id: context.nextId("msg"),
          type: "message",
          role: "assistant",
          model: answer.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: answer.usage.inputTokens, output_tokens: 1 },
        },
      }),
    ];
    let index = 0;
    if (answer.text !== undefined) {
      content.push(event("content_block_start", { index, content_block: { type: "text", text: "" } }));
      for (const text of splitText(answer.text)) {
        content.push(event("content_block_delta", { index, delta: { type: "text_delta", text } }));
      }
      content.push(event("content_block_stop", { index }));
      index++;
    }
    for (const call of answer.toolCalls) {
      content.push(
        event("content_block_start", {
          index,
          content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
        }),
      );
      for (const partial_json of splitText(json(call.input), 2)) {
        content.push(
          event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } }),
        );
      }
      content.push(event("content_block_stop", { index }));
      index++;
    }
    return {
      content,
      finish: [
        event("message_delta", {
          delta: { stop_reason: stopReason(answer), stop_sequence: null },
          usage: { output_tokens: answer.usage.outputTokens },
        }),
        event("message_stop", {}),
      ],
    };
  },

  errorBody(status, message) {
    return { type: "error", error: { type: errorType(status), message } };
  },

  wantsJsonTool(requestBody) {
    if (typeof requestBody !== "object" || requestBody === null) return false;
    const { tools, tool_choice: choice } = requestBody as {
      tools?: { name?: unknown }[];
      tool_choice?: { type?: unknown; name?: unknown };
    };
    const hasJsonTool = Array.isArray(tools) && tools.some((tool) => tool?.name === "json");
    return hasJsonTool && (choice?.type === "any" || (choice?.type === "tool" && choice.name === "json"));
  },
};

const stopReason = (answer: Answer) => (answer.toolCalls.length > 0 ? "tool_use" : "end_turn");

function errorType(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}
