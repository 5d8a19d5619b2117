import { type ContextWords, clampScore, contextHits } from "../context-words.ts";
import { type Finding, PiiType, type Recognizer } from "../finding.ts";

const CONTEXT: ContextWords = {
  positive: /\b(?:ssn|ssns|ss#|ss ?no|social security|social sec|soc ?sec|taxpayer|tin|itin)\b/i,
  negative: /\b(?:phone|tel|fax|mobile|call|zip|postal|order|invoice|tracking|routing|aba|isbn)\b/i,
};

// AAA-GG-SSSS with one consistent separator (dash, space or dot), or nine contiguous digits.
const CANDIDATE = /(?<![\p{L}\p{N}_\-.])(\d{3})([- .]?)(\d{2})\2(\d{4})(?![\p{L}\p{N}_]|[-.]\d)/gu;

/** Numbers the SSA never issues or published as examples (advertising, the Woolworth card). */
const NOT_ISSUED: ReadonlySet<string> = new Set(["078051120", "219099999", "123456789"]);

/**
 * The SSA's structural rules: area 001–899 except 666 (so 000, 666 and 9xx are excluded), group
 * 01–99, serial 0001–9999, minus known example numbers and nine identical digits.
 */
export function isValidSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  if (area === "000" || area === "666" || area[0] === "9") return false;
  if (digits.slice(3, 5) === "00" || digits.slice(5) === "0000") return false;
  if (NOT_ISSUED.has(digits) || /^(\d)\1{8}$/.test(digits)) return false;
  // 987-65-4320 … 987-65-4329 are reserved for advertising (already excluded as 9xx).
  return true;
}

/**
 * US Social Security numbers. `AAA-GG-SSSS` scores 0.7 on its own; spaced, dotted and unformatted
 * nine-digit numbers collide with phone, postal and routing numbers, so they need SSN context words.
 */
export function createSsnRecognizer(): Recognizer {
  return {
    type: PiiType.Ssn,
    dataClass: "PII",
    normalize: (value) => value.replace(/\D/g, ""),
    detect(text: string): Finding[] {
      const findings: Finding[] = [];
      CANDIDATE.lastIndex = 0;
      for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
        const digits = m[1]! + m[3]! + m[4]!;
        if (!isValidSsn(digits)) continue;
        const separator = m[2]!;
        let score = separator === "-" ? 0.7 : separator === "" ? 0.2 : 0.4;
        const start = m.index;
        const end = start + m[0].length;
        const hits = contextHits(text, start, end, CONTEXT);
        if (hits.positive) score += 0.35;
        else if (hits.negative) score -= 0.3;
        findings.push({ type: PiiType.Ssn, start, end, score: clampScore(score), value: m[0] });
      }
      return findings;
    },
  };
}
