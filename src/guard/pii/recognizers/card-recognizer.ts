import { CARD_ISSUERS, type CardIssuer, cardIssuerOf } from "../card-issuers.ts";
import { type ContextWords, clampScore, contextHits } from "../context-words.ts";
import { type Finding, PiiType, type Recognizer } from "../finding.ts";
import { isLuhnValid } from "../luhn.ts";

export interface CardRecognizerOptions {
  /** Issuer table; defaults to {@link CARD_ISSUERS}. */
  issuers?: readonly CardIssuer[];
}

const CONTEXT: ContextWords = {
  positive:
    /\b(?:cards?|credit|debit|visa|master ?card|amex|american express|discover|jcb|diners|maestro|union ?pay|cc|ccn|pan|cvv|cvc|expir\w*|exp|payments?|pay|charge[ds]?|billing)\b/i,
  negative: /\b(?:order|tracking|invoice|ref|reference|isbn|imei|serial|phone|tel|fax|mobile|iban)\b/i,
};

// Digit groups joined by single spaces or dashes, not glued to letters, digits or decimals.
// Starts on a digit (so the engine can skip ahead fast) and looks behind it for a letter, digit,
// sign or decimal point. The lookahead + backreference makes the run atomic: a run that fails the
// trailing checks is skipped whole instead of being retried shorter.
const RUN = /\d(?<![\p{L}\p{N}_+-]\d)(?<!\d[.,]\d)(?=(\d*(?:[ -]\d+)*))\1(?![\p{L}\p{N}_])(?![.,]\d)/gu;

// Printed groupings of card numbers, as group lengths (a single group is a contiguous number).
const GROUPINGS: readonly (readonly number[])[] = [
  [4, 4, 4, 4],
  [4, 4, 4, 4, 3],
  [4, 4, 4, 4, 2],
  [4, 4, 4, 4, 1],
  [4, 6, 5],
  [4, 6, 4],
  [4, 4, 4, 3],
  [4, 4, 4, 2],
  [4, 4, 4, 1],
  [4, 4, 4],
];

const digitsOnly = (value: string): string => value.replace(/\D/g, "");

/** Whether all digits are the same (`0000 0000 0000 0000` passes Luhn but is a placeholder). */
function isRepeated(digits: string): boolean {
  for (let i = 1; i < digits.length; i++) if (digits[i] !== digits[0]) return false;
  return true;
}

interface Candidate {
  start: number;
  end: number;
  grouped: boolean;
}

function candidatesIn(run: string, offset: number): Candidate[] {
  if (!/[ -]/.test(run)) {
    return run.length >= 12 && run.length <= 19
      ? [{ start: offset, end: offset + run.length, grouped: false }]
      : [];
  }
  const separator = /[ -]/.exec(run)![0];
  if (run.includes(separator === " " ? "-" : " ")) return [];
  const groups = run.split(separator);
  const out: Candidate[] = [];
  let position = 0;
  for (let i = 0; i < groups.length; ) {
    const match = GROUPINGS.find((g) => g.every((len, k) => groups[i + k]?.length === len));
    if (match) {
      const length = match.reduce((a, b) => a + b, 0) + match.length - 1;
      out.push({ start: offset + position, end: offset + position + length, grouped: true });
      position += length + 1;
      i += match.length;
    } else {
      const group = groups[i]!;
      if (group.length >= 12 && group.length <= 19) {
        out.push({ start: offset + position, end: offset + position + group.length, grouped: false });
      }
      position += group.length + 1;
      i += 1;
    }
  }
  return out;
}

/**
 * Payment card numbers (PAN): printed groupings or contiguous 12–19 digits, Luhn-valid, scored by
 * issuer range and length (Visa, Mastercard incl. 2-series, Amex, Discover, JCB, Diners, UnionPay,
 * Mir, Maestro) and by context words. A Luhn-valid number of no known issuer, or a 12-digit one,
 * is only reported with card context nearby (score 0.4 alone, below the default threshold).
 */
export function createCardRecognizer(options: CardRecognizerOptions = {}): Recognizer {
  const issuers = options.issuers ?? CARD_ISSUERS;
  return {
    type: PiiType.Card,
    dataClass: "PCI",
    normalize: digitsOnly,
    detect(text: string): Finding[] {
      const findings: Finding[] = [];
      RUN.lastIndex = 0;
      for (let m = RUN.exec(text); m !== null; m = RUN.exec(text)) {
        if (m[0].length < 12) continue;
        for (const c of candidatesIn(m[0], m.index)) {
          const value = text.slice(c.start, c.end);
          const digits = digitsOnly(value);
          if (!isLuhnValid(digits) || isRepeated(digits)) continue;
          const issuer = cardIssuerOf(digits, issuers);
          if (issuer === undefined && digits.length < 13) continue;
          let score = issuer !== undefined && digits.length >= 13 ? 0.8 : 0.4;
          if (c.grouped) score += 0.1;
          const hits = contextHits(text, c.start, c.end, CONTEXT);
          if (hits.positive) score += 0.35;
          else if (hits.negative) score -= 0.3;
          findings.push({ type: PiiType.Card, start: c.start, end: c.end, score: clampScore(score), value });
        }
      }
      return findings;
    },
  };
}
