/** How strongly a boundary suggests a new request starts after it. */
export const BoundaryStrength = {
  /** Sentence end or line break. */
  Sentence: 0,
  /** An explicit additive connective ("and also", "plus", "as well as", ", and"). */
  Connective: 1,
  /** A bare comma. */
  Comma: 2,
  /** A bare "and" or "then": often inside one request ("milk and eggs"). */
  Weak: 3,
} as const;
export type BoundaryStrength = (typeof BoundaryStrength)[keyof typeof BoundaryStrength];

/** A place where a message may split: `[start, end)` is the separator itself (punctuation, connective). */
export interface Boundary {
  start: number;
  end: number;
  strength: BoundaryStrength;
}

// Additive connectives that may open the next request, longest first so that "and also" wins over "and".
const CONNECTIVES = [
  "and while you're at it",
  "and while you are at it",
  "while you're at it",
  "while you are at it",
  "and after that",
  "and in addition",
  "and additionally",
  "and by the way",
  "and one more thing",
  "one more thing",
  "another thing",
  "on top of that",
  "in addition",
  "by the way",
  "after that",
  "as well as",
  "and then",
  "and also",
  "but also",
  "and please",
  "additionally",
  "afterwards",
  "besides that",
  "oh and",
  "also",
  "plus",
  "then",
  "and",
  "btw",
  "lastly",
  "finally",
  "&",
];
const WEAK = new Set(["and", "then", "&"]);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const connectiveSource = CONNECTIVES.map((c) =>
  escapeRegExp(c).replace(/ /g, "\\s+").replace(/'/g, "['’]"),
).join("|");
/** Punctuation (or a line break) optionally followed by connectives, or connectives between spaces. */
const BOUNDARY = new RegExp(
  `(?<punct>[.?!;]+(?=\\s|$)|,(?!\\d)|\\n)(?<after>(?:\\s*(?:${connectiveSource})(?=[\\s,]|$)[,]?)*)\\s*|(?<=\\S)\\s+(?<conn>(?:(?:${connectiveSource})[,]?\\s+)+)`,
  "giu",
);

/** A capitalised word right after a lower-case one: a sentence start typed without punctuation. */
const CASE_BREAK = /(?<=\p{Ll}[\p{Ll}\d]*)(\s+)(?=\p{Lu}(?:\p{Ll}|\s|['’]))/gu;
/** A change of script between words (Latin to Khmer, Cyrillic to Latin, ...). */
const SCRIPT_BREAK =
  /(?<=\p{Script=Latin}[\p{L}\d]*)(\s+)(?=[\p{L}--\p{Script=Latin}])|(?<=[\p{L}--\p{Script=Latin}])(\s+)(?=\p{Script=Latin})/gv;

/** Candidate split points of `text`, left to right, never overlapping. */
export function findBoundaries(text: string): Boundary[] {
  const out: Boundary[] = [];
  for (const m of [...text.matchAll(CASE_BREAK), ...text.matchAll(SCRIPT_BREAK)]) {
    out.push({ start: m.index, end: m.index + m[0].length, strength: BoundaryStrength.Comma });
  }
  BOUNDARY.lastIndex = 0;
  for (let m = BOUNDARY.exec(text); m !== null; m = BOUNDARY.exec(text)) {
    const groups = m.groups ?? {};
    const start = m.index;
    const end = m.index + m[0].length;
    if (end === start) {
      BOUNDARY.lastIndex++;
      continue;
    }
    let strength: BoundaryStrength;
    if (groups.punct !== undefined) {
      const punct = groups.punct;
      const after = (groups.after ?? "").trim().toLowerCase();
      if (/[.?!\n]/.test(punct)) strength = BoundaryStrength.Sentence;
      else if (after.length > 0 || punct === ";") strength = BoundaryStrength.Connective;
      else strength = BoundaryStrength.Comma;
    } else {
      const words = (groups.conn ?? "").trim().toLowerCase().replace(/,/g, "").split(/\s+/);
      strength =
        words.length === 1 && WEAK.has(words[0]!) ? BoundaryStrength.Weak : BoundaryStrength.Connective;
    }
    // Nothing after the separator (trailing "?" or "and"): not a split point.
    if (text.slice(end).trim().length === 0) continue;
    if (text.slice(0, start).trim().length === 0) continue;
    out.push({ start, end, strength });
  }
  // Keep them ordered and disjoint: a case break inside a connective boundary is dropped.
  out.sort((a, b) => a.start - b.start || b.end - a.end);
  const disjoint: Boundary[] = [];
  for (const b of out) {
    const last = disjoint[disjoint.length - 1];
    if (last && b.start < last.end) continue;
    disjoint.push(b);
  }
  return disjoint;
}

/** A stretch of text between candidate boundaries. */
export interface Piece {
  start: number;
  end: number;
  /** Strength of the boundary before this piece (null for the first). */
  before: BoundaryStrength | null;
}

/** Pieces beyond this are only split at sentence ends (keeps the search small on long messages). */
const MAX_PIECES = 40;
const TRIM_END = /[\s.?!,;:]+$/u;
const TRIM_START = /^[\s,;:]+/u;

/** The text between candidate boundaries, trimmed of spaces and punctuation, left to right. */
export function splitPieces(text: string): Piece[] {
  let cuts: Array<{ start: number; end: number; strength: BoundaryStrength | null }> = findBoundaries(text);
  if (cuts.length + 1 > MAX_PIECES) cuts = cuts.filter((b) => b.strength === BoundaryStrength.Sentence);
  if (cuts.length + 1 > MAX_PIECES) cuts = cuts.slice(0, MAX_PIECES - 1);
  const pieces: Piece[] = [];
  let start = 0;
  let before: BoundaryStrength | null = null;
  for (const cut of [...cuts, { start: text.length, end: text.length, strength: null }]) {
    const span = trim(text, start, cut.start);
    if (span) pieces.push({ ...span, before });
    start = cut.end;
    before = cut.strength;
  }
  return pieces;
}

function trim(text: string, start: number, end: number): { start: number; end: number } | null {
  const raw = text.slice(start, end);
  const lead = raw.match(TRIM_START)?.[0].length ?? 0;
  const tail = raw.slice(lead).match(TRIM_END)?.[0].length ?? 0;
  const s = start + lead;
  const e = end - tail;
  return e > s ? { start: s, end: e } : null;
}
