import type { Answer, SseEvent, WireFormat } from "./wire-format.ts";
import { json, splitText } from "./wire-format.ts";

/** OpenAI Chat Completions: `POST /v1/chat/completions`. */
export const openaiChatFormat: WireFormat = {
  api: "openai-chat",

  body(answer, context) {
    return {
      id: context.nextId("chatcmpl"),
      object: "chat.completion",
      created: context.created,
      model: answer.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: answer.text ?? null,
            ...(answer.toolCalls.length > 0 && {
              tool_calls: answer.toolCalls.map((call) => ({
                id: call.id,
                type: "function",
                function: { name: call.name, arguments: json(call.input) },
              })),
            }),
          },
          finish_reason: finishReason(answer),
        },
      ],
      usage: usage(answer),
    };
  },

  events(answer, context) {
    const id = context.nextId("chatcmpl");
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): SseEvent => ({
      data: json({
        id,
        object: "chat.completion.chunk",
        created: context.created,
        model: answer.model,
        choices,
        ...extra,
      }),
    });
    const delta = (value: Record<string, unknown>) =>
      chunk([{ index: 0, delta: value, finish_reason: null }]);
    const content: SseEvent[] = [delta({ role: "assistant", content: "" })];
    if (answer.text !== undefined) {
      for (const piece of splitText(answer.text)) content.push(delta({ content: piece }));
    }
    answer.toolCalls.forEach((call, index) => {
      content.push(
        delta({
          tool_calls: [
            { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
          ],
        }),
      );
      for (const piece of splitText(json(call.input), 2)) {
        content.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
    return {
      content,
      finish: [
        chunk([{ index: 0, delta: {}, finish_reason: finishReason(answer) }]),
        chunk([], { usage: usage(answer) }),
        { data: "[DONE]" },
      ],
    };
  },

  errorBody(status, message) {
    return { error: { message, type: errorType(status), param: null, code: null } };
  },

  wantsJsonTool: () => false,
};

const finishReason = (answer: Answer) => (answer.toolCalls.length > 0 ? "tool_calls" : "stop");

const usage = (answer: Answer) => ({
  prompt_tokens: answer.usage.inputTokens,
  completion_tokens: answer.usage.outputTokens,
  total_tokens: answer.usage.inputTokens + answer.usage.outputTokens,
});

export function errorType(status: number): string {
  if (status === 429) return "rate_limit_exceeded";
  if (status === 401) return "invalid_request_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}
