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

/** An option's value that must be one of `allowed` (undefined passes through: the option was not given). */
export function oneOf<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  usage: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ArbiterError(
    ErrorCode.InvalidArgument,
    `--${option} "${String(value)}": use one of ${allowed.join(", ")}\nUsage: ${usage}`,
    { details: { field: option } },
  );
}

/** An option's value as a whole number ≥ 1, or `fallback` when it was not given. */
export function positiveInteger(option: string, value: unknown, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isSafeInteger(n) && n >= 1) return n;
  throw new ArbiterError(
    ErrorCode.InvalidArgument,
    `--${option} "${String(value)}": use a whole number of at least 1\nUsage: ${usage}`,
    { details: { field: option } },
  );
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
