/**
 * A payment-card brand: IIN ranges and allowed card lengths. A range is a pair of equal-length
 * digit strings compared with the card's first digits (inclusive), so `["2221", "2720"]` covers
 * Mastercard's 2-series and `["0604", "0604"]` keeps its leading zero.
 */
export interface CardIssuer {
  name: string;
  ranges: ReadonlyArray<readonly [from: string, to: string]>;
  lengths: readonly number[];
}

const range = (from: string, to = from): readonly [string, string] => [from, to];
const lengths = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * IIN ranges from ISO/IEC 7812 as published by the networks. Order matters: the first issuer
 * whose range and length match wins, so narrow ranges (Discover's co-branded 622126–622925 inside
 * UnionPay's 62) come before broad ones (Maestro's 5x/6x catch-all comes last). Legacy ranges
 * still found on issued cards (JCB 1800/2131, Maestro 0604) are included.
 */
export const CARD_ISSUERS: readonly CardIssuer[] = [
  { name: "visa", ranges: [range("4")], lengths: [13, 16, 19] },
  { name: "mastercard", ranges: [range("51", "55"), range("2221", "2720")], lengths: [16] },
  { name: "amex", ranges: [range("34"), range("37")], lengths: [15] },
  {
    name: "discover",
    ranges: [range("6011"), range("644", "649"), range("65"), range("622126", "622925")],
    lengths: lengths(16, 19),
  },
  { name: "jcb", ranges: [range("3528", "3589")], lengths: lengths(16, 19) },
  { name: "jcb", ranges: [range("1800"), range("2131")], lengths: [15] },
  {
    name: "diners",
    ranges: [range("300", "305"), range("3095"), range("36"), range("38", "39")],
    lengths: lengths(14, 19),
  },
  { name: "unionpay", ranges: [range("62"), range("8100", "8171")], lengths: lengths(16, 19) },
  { name: "mir", ranges: [range("2200", "2204")], lengths: lengths(16, 19) },
  { name: "maestro", ranges: [range("50"), range("56", "69"), range("0604")], lengths: lengths(12, 19) },
];

function inRange(digits: string, [from, to]: readonly [string, string]): boolean {
  const prefix = digits.slice(0, from.length);
  return prefix >= from && prefix <= to;
}

/** The issuer whose IIN range and card length match `digits` (ASCII digits only), or `undefined`. */
export function cardIssuerOf(
  digits: string,
  issuers: readonly CardIssuer[] = CARD_ISSUERS,
): string | undefined {
  for (const issuer of issuers) {
    if (!issuer.lengths.includes(digits.length)) continue;
    if (issuer.ranges.some((r) => inRange(digits, r))) return issuer.name;
  }
  return undefined;
}
