import { type ParseArgsConfig, parseArgs } from "node:util";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";

/** `node:util` parseArgs with errors that say what to do. */
export function parse<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
  usage: string,
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (cause) {
    throw new ArbiterError(ErrorCode.InvalidArgument, `${(cause as Error).message}\nUsage: ${usage}`, {
      cause,
    });
  }
}

/** `key=value` pairs or one JSON object, merged left to right. */
export function parseContext(items: readonly string[]): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const item of items) {
    if (item.trim().startsWith("{")) {
      try {
        Object.assign(context, JSON.parse(item));
      } catch (cause) {
        throw new ArbiterError(
          ErrorCode.InvalidArgument,
          `--context: not valid JSON (${(cause as Error).message})`,
        );
      }
      continue;
    }
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `--context "${item}": expected key=value or a JSON object`,
      );
    }
    context[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return context;
}
