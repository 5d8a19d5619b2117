import { type ContextWords, clampScore, contextHits } from "../context-words.ts";
import { type Finding, PiiType, type Recognizer } from "../finding.ts";
import { IBAN_LENGTHS, isValidIban } from "../iban.ts";

const CONTEXT: ContextWords = {
  positive: /\b(?:iban|bank|account|acct|transfer|wire|sepa|bic|swift|beneficiary|payee)\b/i,
};

// Country code + check digits, then up to 30 alphanumerics optionally separated by single spaces
// (the print format groups by four). The length of the country decides where the IBAN ends.
const CANDIDATE = /(?<![\p{L}\p{N}_])([A-Za-z]{2})(\d{2})((?: ?[A-Za-z0-9]){10,31})/gu;
const ALNUM = /[\p{L}\p{N}_]/u;

const compact = (value: string): string => value.replace(/ /g, "").toUpperCase();

/**
 * IBANs with or without spaces, any letter case: registered country, that country's exact length,
 * mod-97. A candidate that runs into a longer word is rejected rather than truncated.
 */
export function createIbanRecognizer(): Recognizer {
  return {
    type: PiiType.Iban,
    dataClass: "BANK",
    normalize: compact,
    detect(text: string): Finding[] {
      const findings: Finding[] = [];
      CANDIDATE.lastIndex = 0;
      for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
        const expected = IBAN_LENGTHS[m[1]!.toUpperCase()];
        if (expected === undefined) {
          CANDIDATE.lastIndex = m.index + 1;
          continue;
        }
        // Walk the match until `expected` alphanumerics are consumed.
        let count = 0;
        let end = m.index;
        const raw = m[0];
        for (let i = 0; i < raw.length && count < expected; i++) {
          if (raw[i] !== " ") count++;
          end = m.index + i + 1;
        }
        const next = text[end];
        if (count < expected || (next !== undefined && ALNUM.test(next))) {
          CANDIDATE.lastIndex = m.index + 1;
          continue;
        }
        const value = text.slice(m.index, end);
        if (!isValidIban(value)) {
          CANDIDATE.lastIndex = m.index + 1;
          continue;
        }
        let score = 0.9;
        if (contextHits(text, m.index, end, CONTEXT).positive) score += 0.1;
        findings.push({ type: PiiType.Iban, start: m.index, end, score: clampScore(score), value });
        CANDIDATE.lastIndex = end;
      }
      return findings;
    },
  };
}
