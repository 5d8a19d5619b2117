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
  return JSON.stringify(value, replacer);
}

export function decodeStepValue(text: string | null): unknown {
  if (text === null) return undefined;
  return text.includes(`"${TAG}"`) ? JSON.parse(text, reviver) : JSON.parse(text);
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date)
    return { [TAG]: "date", value: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
  if (raw instanceof Uint8Array) return { [TAG]: "bytes", value: Buffer.from(raw).toString("base64") };
  return value;
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
