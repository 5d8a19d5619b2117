/**
 * Built-in PII types. A type is also the label of its tokens (`<CARD_1>`), so custom types follow
 * the same shape: upper-case letters, digits and underscores, starting with a letter.
 */
export const PiiType = {
  Card: "CARD",
  Iban: "IBAN",
  Ssn: "SSN",
  Email: "EMAIL",
  Phone: "PHONE",
  Ip: "IP",
} as const;
export type BuiltinPiiType = (typeof PiiType)[keyof typeof PiiType];

/** Custom types are any string matching this pattern. */
export const PII_TYPE_PATTERN: RegExp = /^[A-Z][A-Z0-9_]{0,39}$/;

/** One detected value: `[start, end)` is a UTF-16 span of the scanned text, `value` its content. */
export interface Finding {
  type: string;
  start: number;
  end: number;
  /** Confidence in [0, 1]; the registry drops findings below its `minScore`. */
  score: number;
  value: string;
}

/**
 * A recogniser finds values of one type. `detect` must be synchronous, pure and fast: it runs on
 * every message before it reaches a model, so bail out early when the text cannot contain a match.
 */
export interface Recognizer {
  type: string;
  detect(text: string): Finding[];
  /** Data class used by policy (`PCI`, `BANK`, `PII`, …); defaults to `PII`. */
  dataClass?: string;
  /**
   * Canonical form used to decide that two spellings are the same value (same token),
   * e.g. card digits without separators. Defaults to the value itself.
   */
  normalize?(value: string): string;
}
