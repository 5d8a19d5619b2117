import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { StepError } from "../../store/store.ts";

const TAG = "$arbiter";

/**
 * How a step's value is recorded: JSON, with two additions so AI SDK results replay faithfully —
 * a `Date` comes back as a `Date` and a `Uint8Array` (or `Buffer`) as a `Uint8Array`.
 * Everything else follows JSON: `undefined` properties and functions are dropped (`undefined` in an
 * array becomes `null`), a top-level `undefined` replays as `undefined`, `NaN`/`Infinity` become
 * `null`, `Map`/`Set` become `{}`, class instances become plain objects, and a `bigint` or a cycle
 * cannot be recorded (the step fails with `invalid-data`). A fresh execution returns the value as
 * `fn` produced it; a replay returns the decoded record.
 */
export function encodeStepValue(value: unknown): string | null {
  if (value === undefined) return null;
  // Tag dates and bytes first (copying only the containers on their way), then the native serialiser:
  // ~2× faster than a replacer, which calls back into JavaScript for every key.
  return JSON.stringify(tagged(value, []));
}

/**
 * `value` with every `Date` and `Uint8Array` replaced by its tagged form. Objects with a `toJSON` are
 * left to it (as JSON does); a cycle is left for `JSON.stringify` to refuse.
 */
function tagged(value: unknown, ancestors: object[]): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date)
    return { [TAG]: "date", value: Number.isNaN(value.getTime()) ? null : value.toISOString() };
  if (value instanceof Uint8Array) return { [TAG]: "bytes", value: Buffer.from(value).toString("base64") };
  if (ancestors.includes(value)) return value;
  ancestors.push(value);
  let out: unknown = value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = tagged(value[i], ancestors);
      if (item !== value[i]) {
        if (out === value) out = value.slice();
        (out as unknown[])[i] = item;
      }
    }
  } else if (typeof (value as { toJSON?: unknown }).toJSON !== "function") {
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const member = tagged(record[key], ancestors);
      if (member !== record[key]) {
        if (out === value) out = { ...record };
        (out as Record<string, unknown>)[key] = member;
      }
    }
  }
  ancestors.pop();
  return out;
}

export function decodeStepValue(text: string | null): unknown {
  if (text === null) return undefined;
  return text.includes(`"${TAG}"`) ? JSON.parse(text, reviver) : JSON.parse(text);
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const tagged = value as { [TAG]?: unknown; value?: unknown };
  if (typeof tagged[TAG] !== "string" || Object.keys(value).length !== 2) return value;
  if (tagged[TAG] === "date") return new Date(typeof tagged.value === "string" ? tagged.value : Number.NaN);
  if (tagged[TAG] === "bytes" && typeof tagged.value === "string") {
    return new Uint8Array(Buffer.from(tagged.value, "base64"));
  }
  return value;
}

/** What is recorded about a thrown value. */
export function describeStepError(error: unknown): StepError {
  if (error instanceof ArbiterError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The error a replayed failed step throws: an `ArbiterError` with the recorded code, else a plain `Error`. */
export function replayedError(recorded: StepError, runId: string, stepName: string): Error {
  if (recorded.code !== undefined && knownCodes.has(recorded.code)) {
    return new ArbiterError(recorded.code as ErrorCode, recorded.message, {
      details: { runId, stepName, replayed: true },
    });
  }
  const error = new Error(recorded.message);
  error.name = recorded.name;
  return error;
}
