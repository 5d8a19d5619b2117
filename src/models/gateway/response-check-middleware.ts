import type {
  LanguageModelV4GenerateResult,
  LanguageModelV4Middleware,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
} from "@ai-sdk/provider";
import { describeError } from "../../errors/arbiter-error.ts";
import { modelFault } from "./classify-failure.ts";
import { promised } from "./promised.ts";

type Part = LanguageModelV4StreamPart;
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Part>["read"]>>;

/**
 * Turns answers that look successful but are not into thrown failures, so retry and fallback
 * treat them like a 500:
 * - a generated answer whose finish reason is `interrupted` or `error`, or that has no content at all;
 * - a stream that errors, or ends without a finish, before its first content: thrown from
 *   `doStream`, so it is retried or falls back;
 * - the same after content has reached the caller (it cannot be taken back): the stream carries
 *   an `error` part and finishes with reason `error`, and is recorded as a failed call.
 */
export function responseCheckMiddleware(): LanguageModelV4Middleware {
  return RESPONSE_CHECK;
}

// Stateless: one for every gateway model (they are built per task).
const RESPONSE_CHECK: LanguageModelV4Middleware = Object.freeze({
  specificationVersion: "v4",
  // A continuation, not an async function: nothing is held per call while the model answers.
  wrapGenerate: ({ doGenerate }) => promised(doGenerate).then(checkGenerated),
  wrapStream: async ({ doStream }) => checkStream(await doStream()),
});

function checkGenerated(result: LanguageModelV4GenerateResult): LanguageModelV4GenerateResult {
  const finish = result.finishReason.unified;
  if (finish === "interrupted" || finish === "error") {
    throw modelFault(
      finish === "interrupted" ? "interrupted" : "stream-error",
      `The model's answer ended with finish reason "${finish}" (raw: ${result.finishReason.raw ?? "none"}); its output may be incomplete.`,
      { status: 200 },
    );
  }
  if (result.content.length === 0 && (finish === "stop" || finish === "other")) {
    throw modelFault("empty", "The model answered with no content at all.", { status: 200 });
  }
  return result;
}

/** Content the caller would see: after it, a failure can no longer be retried transparently. */
function isContent(part: Part): boolean {
  switch (part.type) {
    case "text-delta":
    case "reasoning-delta":
    case "tool-input-delta":
      return part.delta !== "";
    case "tool-call":
    case "tool-result":
    case "file":
    case "source":
    case "custom":
    case "reasoning-file":
    case "tool-approval-request":
      return true;
    default:
      return false;
  }
}

async function checkStream(result: LanguageModelV4StreamResult): Promise<LanguageModelV4StreamResult> {
  const reader = result.stream.getReader();
  const head: Part[] = [];
  let finished = false;
  // Read up to the first content: everything before it can still be failed and retried.
  for (;;) {
    let next: ReadResult;
    try {
      next = await reader.read();
    } catch (error) {
      throw modelFault("truncated", `The model's stream broke before any content: ${describeError(error)}`, {
        status: 200,
        cause: error,
      });
    }
    if (next.done) {
      throw modelFault("interrupted", "The model's stream ended before any content or finish.", {
        status: 200,
      });
    }
    const part = next.value;
    if (part.type === "error") {
      void reader.cancel().catch(() => {});
      throw modelFault("stream-error", `The model's stream reported an error: ${describeError(part.error)}`, {
        status: 200,
        cause: part.error,
      });
    }
    if (part.type === "finish") {
      const finish = part.finishReason.unified;
      if (finish === "interrupted" || finish === "error") {
        void reader.cancel().catch(() => {});
        throw modelFault(
          finish === "interrupted" ? "interrupted" : "stream-error",
          `The model's stream finished with reason "${finish}" before any content.`,
          { status: 200 },
        );
      }
      finished = true;
    }
    head.push(part);
    if (finished || isContent(part)) break;
  }

  let failed = false;
  const forward = (part: Part, controller: ReadableStreamDefaultController<Part>) => {
    if (part.type === "error") failed = true;
    if (part.type !== "finish") return controller.enqueue(part);
    finished = true;
    const finish = part.finishReason.unified;
    if (finish === "interrupted" && !failed) {
      failed = true;
      controller.enqueue({
        type: "error",
        error: modelFault("interrupted", "The model's stream ended without its final event.", {
          status: 200,
        }),
      });
    }
    controller.enqueue(
      failed ? { ...part, finishReason: { unified: "error", raw: part.finishReason.raw ?? finish } } : part,
    );
  };
  const stream = new ReadableStream<Part>({
    start(controller) {
      for (const part of head) forward(part, controller);
    },
    async pull(controller) {
      let next: ReadResult;
      try {
        next = await reader.read();
      } catch (error) {
        next = { done: true, value: undefined };
        if (!finished) {
          failed = true;
          controller.enqueue({
            type: "error",
            error: modelFault("truncated", `The model's stream broke: ${describeError(error)}`, {
              cause: error,
            }),
          });
        }
      }
      if (!next.done) return forward(next.value, controller);
      if (!finished) {
        if (!failed) {
          controller.enqueue({
            type: "error",
            error: modelFault("interrupted", "The model's stream ended without a finish.", { status: 200 }),
          });
        }
        controller.enqueue({
          type: "finish",
          finishReason: { unified: "error", raw: "interrupted" },
          usage: unknownUsage(),
        });
      }
      controller.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { ...result, stream };
}

function unknownUsage() {
  return {
    inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: undefined, text: undefined, reasoning: undefined },
  };
}
