import { type Finding, PiiType, type Recognizer } from "../finding.ts";

// A practical subset of RFC 5322 addr-spec: dot-atoms of letters (any script), digits and the
// common specials, a host of LDH labels and an alphabetic (or punycode) TLD. Quoted local parts
// and IP-literal hosts are rare in chat text and left out.
const LOCAL_CHAR = /[\p{L}\p{N}._%+-]/u;
const LOCAL = /^[\p{L}\p{N}_%+-]+(?:\.[\p{L}\p{N}_%+-]+)*$/u;
const DOMAIN =
  /(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+(?:\p{L}{2,63}|xn--[a-z0-9-]{1,59})(?![\p{L}\p{N}_-]|\.[\p{L}\p{N}])/iuy;

/**
 * E-mail addresses. The address itself is the evidence, so no context words are needed. The scan
 * is anchored on each `@` (a regex starting with the local part is ~10× slower on long text).
 */
export function createEmailRecognizer(): Recognizer {
  return {
    type: PiiType.Email,
    dataClass: "PII",
    normalize: (value) => value.toLowerCase(),
    detect(text: string): Finding[] {
      const findings: Finding[] = [];
      for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
        let start = at;
        while (start > 0 && LOCAL_CHAR.test(text[start - 1]!)) start--;
        while (text[start] === ".") start++;
        if (start === at || !LOCAL.test(text.slice(start, at))) continue;
        DOMAIN.lastIndex = at + 1;
        const domain = DOMAIN.exec(text);
        if (!domain) continue;
        const end = at + 1 + domain[0].length;
        findings.push({ type: PiiType.Email, start, end, score: 0.95, value: text.slice(start, end) });
        at = end - 1;
      }
      return findings;
    },
  };
}
