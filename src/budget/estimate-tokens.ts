import type {
  LanguageModelV4CallOptions,
  LanguageModelV4FunctionTool,
  LanguageModelV4ProviderTool,
} from "@ai-sdk/provider";

/** What a call is expected to use, before it is made. */
export interface TokenEstimate {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Characters of prompt and tool definitions the input estimate was made from. */
  readonly chars: number;
}

export interface TokenEstimatorOptions {
  /** Output tokens assumed when a call sets no `maxOutputTokens`. Default 1024. */
  defaultOutputTokens?: number;
}

/** Characters an attached file (image, PDF) is counted as: roughly what providers bill for an image. */
const FILE_CHARS = 4000;
const INITIAL_TOKENS_PER_CHAR = 0.25;
const SMOOTHING = 0.3;

/**
 * Estimates a call's tokens as prompt tokens + max output tokens. Prompt tokens start at
 * characters / 4 (tool definitions included, since providers bill them as prompt) and are
 * calibrated per model from the input tokens providers report, so a model whose tokenizer or
 * hidden system prompt differs is soon estimated from its own ratio.
 */
export class TokenEstimator {
  readonly #defaultOutputTokens: number;
  readonly #tokensPerChar = new Map<string, number>();

  constructor(options: TokenEstimatorOptions = {}) {
    this.#defaultOutputTokens = options.defaultOutputTokens ?? 1024;
  }

  estimate(
    model: string,
    params: Pick<LanguageModelV4CallOptions, "prompt" | "tools" | "maxOutputTokens">,
  ): TokenEstimate {
    const chars = promptChars(params.prompt) + toolChars(params.tools);
    const ratio = this.#tokensPerChar.get(model) ?? INITIAL_TOKENS_PER_CHAR;
    return {
      inputTokens: Math.max(1, Math.ceil(chars * ratio)),
      outputTokens: params.maxOutputTokens ?? this.#defaultOutputTokens,
      chars,
    };
  }

  /** Learns a model's tokens-per-character from a call's reported input tokens. */
  observe(model: string, chars: number, inputTokens: number): void {
    if (chars < 40 || !(inputTokens > 0)) return;
    const measured = Math.min(1, Math.max(0.1, inputTokens / chars));
    const previous = this.#tokensPerChar.get(model);
    this.#tokensPerChar.set(
      model,
      previous === undefined ? measured : previous + SMOOTHING * (measured - previous),
    );
  }
}

/** Characters of text a prompt carries (files counted at a flat rate). */
export function promptChars(prompt: LanguageModelV4CallOptions["prompt"]): number {
  let chars = 0;
  for (const message of prompt) {
    if (message.role === "system") {
      chars += message.content.length;
      continue;
    }
    for (const part of message.content) {
      switch (part.type) {
        case "text":
        case "reasoning":
          chars += part.text.length;
          break;
        case "tool-call":
          chars += part.toolName.length + jsonLength(part.input);
          break;
        case "tool-result":
          chars += part.toolName.length + jsonLength(part.output);
          break;
        case "file":
        case "reasoning-file":
          chars += FILE_CHARS;
          break;
        default:
          chars += jsonLength(part);
      }
    }
  }
  return chars;
}

const toolCharsCache = new WeakMap<object, number>();

function toolChars(
  tools: ReadonlyArray<LanguageModelV4FunctionTool | LanguageModelV4ProviderTool> | undefined,
) {
  if (tools === undefined) return 0;
  let chars = 0;
  for (const tool of tools) {
    let n = toolCharsCache.get(tool);
    if (n === undefined) {
      n =
        tool.type === "function"
          ? tool.name.length + (tool.description?.length ?? 0) + jsonLength(tool.inputSchema)
          : tool.name.length + jsonLength(tool.args);
      toolCharsCache.set(tool, n);
    }
    chars += n;
  }
  return chars;
}

function jsonLength(value: unknown): number {
  if (typeof value === "string") return value.length;
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}
