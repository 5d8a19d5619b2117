import { isIPv4, isIPv6 } from "node:net";
import { type ContextWords, clampScore, contextHits } from "../context-words.ts";
import { type Finding, PiiType, type Recognizer } from "../finding.ts";

const CONTEXT: ContextWords = {
  positive:
    /\b(?:ip|ips|ipv4|ipv6|address|addr|host|hostname|server|client|remote|src|dst|source|gateway|subnet)\b/i,
  negative: /\b(?:version|ver|release|build|v)\b/i,
};

const IPV4 = /(?<![\p{L}\p{N}_.-])\d{1,3}(?:\.\d{1,3}){3}(?![\p{L}\p{N}_-]|\.\d)/gu;
// Hex groups and colons (with an optional embedded IPv4 tail); node:net decides validity.
const IPV6 =
  /(?<![\p{L}\p{N}_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\p{L}\p{N}_:]|\.\d)/gu;

// Every IPv6 text form has two colons at most four hex digits apart: a cheap test that skips the costly
// scan for text with no such run (most prose and JSON).
const MAYBE_IPV6 = /:[0-9A-Fa-f]{0,4}:/;

/** Addresses that identify no one: unspecified, loopback. */
function isNonPersonal(address: string): boolean {
  return address === "0.0.0.0" || address.startsWith("127.") || address === "::" || address === "::1";
}

/**
 * IPv4 (dotted quad, octets 0–255, no leading zeros) and IPv6 (all RFC 4291 text forms), validated
 * by `node:net`. Version-like context ("version 1.2.3.4") lowers the score; loopback and
 * unspecified addresses score below the default threshold.
 */
export function createIpRecognizer(): Recognizer {
  return {
    type: PiiType.Ip,
    dataClass: "PII",
    normalize: (value) => value.toLowerCase(),
    detect(text: string): Finding[] {
      const findings: Finding[] = [];
      const add = (start: number, value: string): void => {
        let score = isNonPersonal(value) ? 0.3 : 0.8;
        const hits = contextHits(text, start, start + value.length, CONTEXT);
        if (hits.positive) score += 0.15;
        else if (hits.negative) score -= 0.4;
        findings.push({
          type: PiiType.Ip,
          start,
          end: start + value.length,
          score: clampScore(score),
          value,
        });
      };
      if (MAYBE_IPV6.test(text)) {
        IPV6.lastIndex = 0;
        for (let m = IPV6.exec(text); m !== null; m = IPV6.exec(text)) {
          if (m[0].length >= 3 && isIPv6(m[0])) add(m.index, m[0]);
        }
      }
      if (text.includes(".")) {
        const v6 = findings.length;
        IPV4.lastIndex = 0;
        for (let m = IPV4.exec(text); m !== null; m = IPV4.exec(text)) {
          // The IPv4 tail of an IPv6 address ("::ffff:192.0.2.128") is part of that address.
          const start = m.index;
          if (findings.some((f, i) => i < v6 && f.start <= start && f.end > start)) continue;
          if (isIPv4(m[0])) add(start, m[0]);
        }
      }
      return findings;
    },
  };
}
