/** Which features the router extracts from a text. */
export interface FeatureConfig {
  /** Smallest character n-gram (inside word boundaries "<word>"); 0 disables character n-grams. */
  readonly charMin: number;
  /** Largest character n-gram. */
  readonly charMax: number;
  /** Word bigrams (including a start-of-text bigram). */
  readonly wordBigrams: boolean;
  /** Light suffix-stripped word stems ("charges", "charged" → "charg"). */
  readonly stems: boolean;
}

export const defaultFeatureConfig: FeatureConfig = Object.freeze({
  charMin: 3,
  charMax: 4,
  wordBigrams: true,
  stems: true,
});

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const NS_WORD = 0x1b873593;
const NS_BIGRAM = 0x5bd1e995;
const NS_CHAR = 0x68e31da4;
const NS_STEM = 0x2f6b1c3d;
const BOUNDARY_OPEN = 60; // "<"
const BOUNDARY_CLOSE = 62; // ">"
/** Texts longer than this are cut for routing: the head of a message carries its intent. */
const MAX_CHARS = 4096;

/** murmur3 finaliser: spreads FNV's weak low bits; never returns 0 (0 marks an empty slot). */
function mix(h: number, ns: number): number {
  let x = (h ^ ns) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x === 0 ? 1 : x;
}

// Character classes: 0 = separator, -1 = joiner (apostrophes inside words), otherwise the folded code.
const foldTable = new Int32Array(0x250);
for (let c = 0; c < foldTable.length; c++) {
  const ch = String.fromCharCode(c);
  if (c >= 48 && c <= 57) foldTable[c] = 48;
  else if (/\p{L}/u.test(ch)) foldTable[c] = ch.toLowerCase().charCodeAt(0);
  else foldTable[c] = 0;
}
foldTable[39] = -1;

function fold(c: number): number {
  if (c < 0x250) return foldTable[c]!;
  if (c === 0x2019 || c === 0x2018) return -1;
  // General punctuation, CJK punctuation, and the surrogate halves of emoji and symbols.
  if ((c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return c;
}

function endsWith(codes: Int32Array, end: number, suffix: string): boolean {
  if (end - 1 < suffix.length) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (codes[end - suffix.length + i] !== suffix.charCodeAt(i)) return false;
  }
  return true;
}

const SUFFIXES = ["ing", "ed", "es", "s", "ly", "er", "ation"];

/** Hash of the word in `codes[1 .. len-1)` (between boundaries) with one common English suffix removed. */
function stemHash(codes: Int32Array, len: number): number {
  let end = len - 1;
  for (const suffix of SUFFIXES) {
    if (end - 1 - suffix.length >= 3 && endsWith(codes, end, suffix)) {
      if (suffix === "s" && codes[end - 2] === 115) break; // "ss"
      end -= suffix.length;
      break;
    }
  }
  let h = FNV_OFFSET;
  for (let k = 1; k < end; k++) h = Math.imul(h ^ codes[k]!, FNV_PRIME);
  return h;
}

/**
 * Turns text into 32-bit feature hashes without allocating per call: lower-cased word unigrams,
 * word bigrams and character n-grams. Digits fold to "0" so amounts and dates generalise.
 * Not re-entrant: one instance per classifier, used synchronously.
 */
export class Featurizer {
  readonly config: FeatureConfig;
  private codes = new Int32Array(MAX_CHARS + 2);
  private out = new Int32Array(1024);

  constructor(config: FeatureConfig = defaultFeatureConfig) {
    this.config = config;
  }

  /** Feature hashes of `text`, valid until the next call; `count` of them. */
  extract(text: string): { hashes: Int32Array; count: number } {
    const count = this.run(text, 0, Math.min(text.length, MAX_CHARS));
    return { hashes: this.out, count };
  }

  /** Same as `extract` for `text.slice(start, end)` without slicing. Returns the count; read `buffer`. */
  extractRange(text: string, start: number, end: number): number {
    return this.run(text, start, Math.min(end, start + MAX_CHARS));
  }

  get buffer(): Int32Array {
    return this.out;
  }

  private run(text: string, start: number, end: number): number {
    const { charMin, charMax, wordBigrams, stems } = this.config;
    const codes = this.codes;
    let n = 0;
    let prevWord = 0x2545f491; // start-of-text marker for the first bigram

    let i = start;
    while (i < end) {
      // Skip separators.
      let f = fold(text.charCodeAt(i));
      if (f <= 0) {
        i++;
        continue;
      }
      let len = 0;
      codes[len++] = BOUNDARY_OPEN;
      let h = FNV_OFFSET;
      while (i < end) {
        f = fold(text.charCodeAt(i));
        if (f === 0) break;
        i++;
        if (f < 0) continue;
        if (len < codes.length - 1) codes[len++] = f;
        h = Math.imul(h ^ f, FNV_PRIME);
      }
      codes[len++] = BOUNDARY_CLOSE;
      const need = n + 3 + (charMin > 0 ? (charMax - charMin + 1) * len : 0);
      if (need > this.out.length) this.grow(need);
      const out = this.out;
      out[n++] = mix(h, NS_WORD);
      if (wordBigrams) out[n++] = mix(Math.imul(prevWord, 31) ^ h, NS_BIGRAM);
      prevWord = h;
      if (stems) out[n++] = mix(stemHash(codes, len), NS_STEM);
      if (charMin > 0) {
        for (let g = charMin; g <= charMax; g++) {
          for (let s = 0; s + g <= len; s++) {
            let gh = FNV_OFFSET ^ g;
            for (let k = s; k < s + g; k++) gh = Math.imul(gh ^ codes[k]!, FNV_PRIME);
            out[n++] = mix(gh, NS_CHAR);
          }
        }
      }
    }
    return n;
  }

  private grow(need: number): void {
    let size = this.out.length;
    while (size < need) size *= 2;
    const next = new Int32Array(size);
    next.set(this.out);
    this.out = next;
  }
}
