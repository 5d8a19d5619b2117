import type { StepSealer } from "../durable/durable.ts";

/**
 * The PII shield of one run (governance issue): sensitive values become tokens before any model or
 * the journal sees them, and only this run's tokens can be turned back into values.
 */
export interface RunShield {
  /** Tokenises a text; remembers the tokens as issued in this run. */
  protectText(text: string): Promise<{ text: string; findings: number; dataClasses: string[] }>;
  /** Tokenises every string in a JSON value (tool results, prompts, journal payloads). */
  protectValue<T>(value: T): Promise<T>;
  /** Restores this run's tokens in a value for a tool, with the data classes that became clear. */
  revealValue<T>(value: T): Promise<{ value: T; dataClasses: string[] }>;
  /** Restores this run's tokens in the answer, for the types the requester may see. */
  revealAnswer(text: string): Promise<string>;
  /** Takes the tokens in a recorded value as this run's own (a resumed run's stored request). */
  adopt(value: unknown): void;
  /** Seals step results that hold PII before they are recorded (see `StepOptions.sealer`). */
  readonly stepSealer?: StepSealer;
}

export interface Shield {
  readonly name: string;
  open(tenant: string): RunShield;
}
