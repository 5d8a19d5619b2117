import { PII_TYPE_PATTERN } from "./finding.ts";

/** A token as it appears in text: `<CARD_1>`. */
export interface TokenRef {
  token: string;
  type: string;
  number: number;
}

// The type is greedy up to the last underscore, so `<US_PASSPORT_3>` reads as US_PASSPORT #3.
const TOKEN = /<([A-Z][A-Z0-9_]{0,39})_([1-9]\d{0,15})>/g;

export function formatToken(type: string, number: number): string {
  return `<${type}_${number}>`;
}

/** Parses one token (`<CARD_1>`), or returns `undefined`. */
export function parseToken(token: string): TokenRef | undefined {
  const m = /^<([A-Z][A-Z0-9_]{0,39})_([1-9]\d{0,15})>$/.exec(token);
  if (!m || !PII_TYPE_PATTERN.test(m[1]!)) return undefined;
  return { token, type: m[1]!, number: Number(m[2]) };
}

/** Every token in `text`, in order, with repeats. */
export function findTokens(text: string): Array<TokenRef & { start: number; end: number }> {
  if (!text.includes("<")) return [];
  const out: Array<TokenRef & { start: number; end: number }> = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    out.push({ token: m[0], type: m[1]!, number: Number(m[2]), start: m.index, end: m.index + m[0].length });
  }
  return out;
}
