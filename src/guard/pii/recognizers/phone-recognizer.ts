import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { ArbiterError, ErrorCode } from "../../../errors/arbiter-error.ts";
import { type ContextWords, clampScore, contextHits } from "../context-words.ts";
import { type Finding, PiiType, type Recognizer } from "../finding.ts";

export interface PhoneRecognizerOptions {
  /**
   * Regions (ISO 3166 alpha-2) used to read numbers written without a country code, the first
   * being the default. Default `["US"]`. Numbers with `+`/`00` are read on their own.
   */
  regions?: readonly string[];
}

const CONTEXT: ContextWords = {
  positive:
    /\b(?:phone|phones|telephone|tel|mobile|mob|cell|cellphone|fax|desk|office|landline|hotline|call|calls|called|calling|ring|dial|sms|text|whatsapp|signal|contact|reach|ext|extension)\b/i,
  negative:
    /\b(?:order|invoice|account|acct|ref|reference|id|zip|postal|postcode|serial|isbn|iban|ssn|card|tracking|version|amount|total)\b/i,
  before: 40,
  after: 16,
};

// Digits with the separators people put in phone numbers, an optional leading `+` or `(`, and an
// optional extension. Newlines are not separators, so numbers on consecutive lines stay apart.
const MEMO_SIZE = 4096;

const CANDIDATE =
  /(?<![\p{L}\p{N}_@.+\-/])(?:\+ ?|\()?\d(?:[\d \-.()/]{0,24}\d)?(?: ?(?:x|ext\.?|extension) ?\d{1,6})?(?![\p{L}\p{N}_@])/giu;
const EXTENSION = / ?(?:x|ext\.?|extension) ?\d{1,6}$/i;
const IPV4_SHAPE = /^\d{1,3}(?:\.\d{1,3}){3}$/;
// A date, possibly followed by the hour of a time ("2015-12-22 04:34").
const DATE_SHAPE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2}(?:\d{2})?)(?: \d{1,2})?$/;
const TIME_AFTER = /^:\d/;
const REPEATED_SEPARATOR = /[ \-./]{2,}/;
const DECIMAL = /^\d+[.,]\d{1,2}$/;

function countDigits(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

interface Reading {
  /** How sure libphonenumber is: valid in a region > possible length > only the shape of one. */
  score: number;
  /** E.164 form when the number parsed, so "+1 212 456 7890" and "(212) 456-7890" share a token. */
  e164?: string;
}

function read(value: string, regions: readonly CountryCode[]): Reading {
  const international = value.startsWith("+") || value.startsWith("00");
  if (international) {
    // "+41 (0)44 …": the bracketed trunk zero is dialled only nationally.
    const e164ish = value.startsWith("00") ? "+" + value.slice(2) : value;
    const parsed = parsePhoneNumberFromString(e164ish.replace(/\(0\) ?/, ""));
    if (parsed?.isValid()) return { score: 0.75, e164: parsed.number };
    return { score: parsed?.isPossible() ? 0.45 : 0.3 };
  }
  let possible = false;
  for (let i = 0; i < regions.length; i++) {
    const parsed = parsePhoneNumberFromString(value, regions[i]);
    // Short national plans (DE, AT, …) validate many street numbers and dates: a number valid
    // only outside the default region needs context.
    if (parsed?.isValid()) return { score: i === 0 ? 0.65 : 0.45, e164: parsed.number };
    possible ||= parsed?.isPossible() ?? false;
  }
  return { score: possible ? 0.35 : 0.3 };
}

/**
 * Phone numbers, read and validated with libphonenumber (full metadata). Valid international
 * numbers score 0.75 and numbers valid in the default region 0.65 on their own; numbers valid only
 * in another configured region, merely possible, or of a phone's shape need phone context words
 * ("call", "mobile", "fax", …). Candidates next to other-number words ("order", "invoice",
 * "account", …) without phone words are not reported at all.
 */
export function createPhoneRecognizer(options: PhoneRecognizerOptions = {}): Recognizer {
  const regions = (options.regions ?? ["US"]).map((region) => {
    const code = region.toUpperCase();
    if (!isSupportedCountry(code)) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `Unknown phone region "${region}". Use ISO 3166 alpha-2 codes such as "US", "GB" or "DE".`,
        { details: { field: "regions", value: region } },
      );
    }
    return code;
  });
  // libphonenumber needs 15–40 µs per parse; conversations resend the same numbers on every turn.
  const memo = new Map<string, Reading>();
  const reading = (value: string): Reading => {
    let known = memo.get(value);
    if (known === undefined) {
      known = read(value, regions);
      if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
      memo.set(value, known);
    }
    return known;
  };
  return {
    type: PiiType.Phone,
    dataClass: "PII",
    normalize: (value) => {
      const ext = EXTENSION.exec(value)?.[0].replace(/\D/g, "");
      const base = reading(value).e164 ?? value.replace(/[^\d+]/g, "");
      return ext ? `${base};ext=${ext}` : base;
    },
    detect(text: string): Finding[] {
      const findings: Finding[] = [];
      CANDIDATE.lastIndex = 0;
      for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
        const value = m[0];
        const main = value.replace(EXTENSION, "");
        const digits = countDigits(main) - (main.startsWith("00") ? 2 : 0);
        if (digits < 7 || digits > 15) continue;
        if (IPV4_SHAPE.test(main) || DATE_SHAPE.test(main) || DECIMAL.test(main)) continue;
        if (REPEATED_SEPARATOR.test(main)) continue;
        if (TIME_AFTER.test(text.slice(m.index + value.length, m.index + value.length + 2))) continue;
        const hits = contextHits(text, m.index, m.index + value.length, CONTEXT);
        // No base score reaches the threshold against negative context: skip the costly parse.
        if (hits.negative && !hits.positive) continue;
        let score = reading(value).score;
        if (hits.positive) score += 0.3;
        findings.push({
          type: PiiType.Phone,
          start: m.index,
          end: m.index + value.length,
          score: clampScore(score),
          value,
        });
      }
      return findings;
    },
  };
}
