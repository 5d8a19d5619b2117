import { errorType } from "./openai-chat-format.ts";
import type { Answer, RenderContext, SseEvent, WireFormat } from "./wire-format.ts";
import { json, splitText } from "./wire-format.ts";

/** OpenAI Responses API: `POST /v1/responses` (what `openai(modelId)` calls by default). */
export const openaiResponsesFormat: WireFormat = {
  api: "openai-responses",

  body(answer, context) {
    const output = outputItems(answer, context).map(wireItem);
    return response(answer, context.nextId("resp"), context, output, "completed");
  },

  events(answer, context) {
    const responseId = context.nextId("resp");
    let sequence = 0;
    const event = (type: string, payload: Record<string, unknown>): SseEvent => ({
      event: type,
      data: json({ type, sequence_number: sequence++, ...payload }),
    });
    const items = outputItems(answer, context);
    const content: SseEvent[] = [
      event("response.created", { response: response(answer, responseId, context, [], "in_progress") }),
      event("response.in_progress", { response: response(answer, responseId, context, [], "in_progress") }),
    ];
    items.forEach((item, outputIndex) => {
      if (item.type === "message") {
        content.push(
          event("response.output_item.added", {
            output_index: outputIndex,
            item: { ...item, status: "in_progress", content: [] },
          }),
          event("response.content_part.added", {
            item_id: item.id,
            output_index: outputIndex,
            content_index: 0,
            part: { type: "output_text", text: "", annotations: [] },
          }),
        );
        for (const delta of splitText(item.text)) {
          content.push(
            event("response.output_text.delta", {
              item_id: item.id,
              output_index: outputIndex,
              content_index: 0,
              delta,
              logprobs: [],
            }),
          );
        }
        content.push(
          event("response.output_text.done", {
            item_id: item.id,
            output_index: outputIndex,
            content_index: 0,
            text: item.text,
          }),
          event("response.output_item.done", { output_index: outputIndex, item: messageItem(item) }),
        );
      } else {
        content.push(
          event("response.output_item.added", {
            output_index: outputIndex,
            item: { ...item, arguments: "", status: "in_progress" },
          }),
        );
        for (const delta of splitText(item.arguments, 2)) {
          content.push(
            event("response.function_call_arguments.delta", {
              item_id: item.id,
              output_index: outputIndex,
              delta,
            }),
          );
        }
        content.push(
          event("response.function_call_arguments.done", {
            item_id: item.id,
            output_index: outputIndex,
            arguments: item.arguments,
          }),
          event("response.output_item.done", { output_index: outputIndex, item }),
        );
      }
    });
    const done = response(answer, responseId, context, items.map(wireItem), "completed");
    return { content, finish: [event("response.completed", { response: done })] };
  },

  errorBody(status, message) {
    return { error: { message, type: errorType(status), param: null, code: null } };
  },

  wantsJsonTool: () => false,
};

type OutputItem =
  | { type: "message"; id: string; text: string }
  | {
      type: "function_call";
      id: string;
      call_id: string;
      name: string;
      arguments: string;
      status: "completed";
    };

function outputItems(answer: Answer, context: RenderContext): OutputItem[] {
  const items: OutputItem[] = [];
  if (answer.text !== undefined)
    items.push({ type: "message", id: context.nextId("msg"), text: answer.text });
  for (const call of answer.toolCalls) {
    items.push({
      type: "function_call",
      id: context.nextId("fc"),
      call_id: call.id,
      name: call.name,
      arguments: json(call.input),
      status: "completed",
    });
  }
  return items;
}

function messageItem(item: Extract<OutputItem, { type: "message" }>) {
  return {
    type: "message",
    id: item.id,
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text: item.text, annotations: [] }],
  };
}

const wireItem = (item: OutputItem) => (item.type === "message" ? messageItem(item) : item);

function response(
  answer: Answer,
  id: string,
  context: RenderContext,
  output: unknown[],
  status: "in_progress" | "completed",
) {
  return {
    id,
    object: "response",
    created_at: context.created,
    status,
    model: answer.model,
    output,
    incomplete_details: null,
    error: null,
    usage:
      status === "completed"
        ? {
            input_tokens: answer.usage.inputTokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: answer.usage.outputTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: answer.usage.inputTokens + answer.usage.outputTokens,
          }
        : null,
  };
}
