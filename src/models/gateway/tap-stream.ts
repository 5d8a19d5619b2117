import type {
  LanguageModelV4FinishReason,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";

/** What a stream carried, known when it ends. */
export interface StreamSummary {
  /** `done`: read to the end; `cancelled`: the consumer stopped reading. */
  readonly end: "done" | "cancelled";
  readonly finishReason?: LanguageModelV4FinishReason;
  readonly usage?: LanguageModelV4Usage;
  /** The first error part, if any. */
  readonly error?: unknown;
  /** Characters of text, reasoning and tool input that went through. */
  readonly outputChars: number;
}

/**
 * Passes a stream through unchanged and reports a summary once, when it ends or is cancelled.
 * The stream closes only after a returned promise settles (so the ledger is written first).
 */
export function tapStream(
  stream: ReadableStream<LanguageModelV4StreamPart>,
  onEnd: (summary: StreamSummary) => void | Promise<void>,
): ReadableStream<LanguageModelV4StreamPart> {
  let finishReason: LanguageModelV4FinishReason | undefined;
  let usage: LanguageModelV4Usage | undefined;
  let error: unknown;
  let failed = false;
  let outputChars = 0;
  let reported = false;
  const report = (end: StreamSummary["end"]) => {
    if (reported) return;
    reported = true;
    return onEnd({
      end,
      outputChars,
      ...(finishReason === undefined ? {} : { finishReason }),
      ...(usage === undefined ? {} : { usage }),
      ...(failed ? { error } : {}),
    });
  };
  return stream.pipeThrough(
    new TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart>({
      transform(part, controller) {
        switch (part.type) {
          case "text-delta":
          case "reasoning-delta":
          case "tool-input-delta":
            outputChars += part.delta.length;
            break;
          case "finish":
            finishReason = part.finishReason;
            usage = part.usage;
            break;
          case "error":
            if (!failed) {
              failed = true;
              error = part.error;
            }
            break;
        }
        controller.enqueue(part);
      },
      flush() {
        return report("done");
      },
      cancel() {
        return report("cancelled");
      },
    }),
  );
}
