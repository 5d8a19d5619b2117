/** One policy's span in a `.cedar` file, in UTF-16 indices of the file text. */
export interface PolicySpan {
  /** Just after the previous policy's `;` (leading comments belong to the policy). */
  readonly start: number;
  /** Just after this policy's `;`. */
  readonly end: number;
  /** First character that is neither whitespace nor comment: where the policy really starts. */
  readonly first: number;
}

/**
 * Splits a policy file at top-level `;`. Cedar has `;` only as a policy terminator outside string
 * literals and `//` comments, so a lexer that skips those two is enough. Text after the last `;`
 * that is not blank or a comment is returned as a final span without a terminator; Cedar's parser
 * reports it (the caller parses the whole file first).
 */
export function splitPolicies(text: string): PolicySpan[] {
  const spans: PolicySpan[] = [];
  let start = 0;
  let first = -1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "/" && text[i + 1] === "/") {
      const eol = text.indexOf("\n", i);
      i = eol === -1 ? text.length : eol + 1;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    if (first === -1) first = i;
    if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    i++;
    if (ch === ";") {
      spans.push({ start, end: i, first });
      start = i;
      first = -1;
    }
  }
  if (first !== -1) spans.push({ start, end: text.length, first });
  return spans;
}
