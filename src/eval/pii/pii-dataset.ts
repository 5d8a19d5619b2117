import { readFileSync } from "node:fs";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";

/** One gold span, as in Presidio's synthetic data (`presidio-evaluator` JSON layout). */
export interface PiiGoldSpan {
  entityType: string;
  start: number;
  end: number;
  /** The text at `[start, end)`; positions are authoritative when the file's value differs. */
  value: string;
}

export interface PiiSample {
  text: string;
  spans: PiiGoldSpan[];
}

export interface PiiDataset {
  source: string;
  samples: PiiSample[];
  /** Spans whose `entity_value` differs from the text at their positions. */
  valueMismatches: number;
}

function bad(source: string, where: string, problem: string): ArbiterError {
  return new ArbiterError(
    ErrorCode.InvalidData,
    `${source}: ${where} ${problem}. Expected a JSON array of {"full_text": string, "spans": ` +
      `[{"entity_type": string, "entity_value": string, "start_position": int, "end_position": int}]}.`,
    { details: { file: source, entry: where } },
  );
}

const isInt = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

/** Checks the layout of parsed JSON; the error names `source` and the first bad entry. */
export function parsePiiDataset(raw: unknown, source: string): PiiDataset {
  if (!Array.isArray(raw)) throw bad(source, "the top level", "is not an array");
  const samples: PiiSample[] = [];
  let valueMismatches = 0;
  raw.forEach((entry: unknown, i) => {
    const where = `entry ${i}`;
    if (entry === null || typeof entry !== "object") throw bad(source, where, "is not an object");
    const { full_text: text, spans } = entry as Record<string, unknown>;
    if (typeof text !== "string") throw bad(source, where, 'has no string "full_text"');
    if (!Array.isArray(spans)) throw bad(source, where, 'has no "spans" array');
    samples.push({
      text,
      spans: spans.map((span: unknown, j) => {
        const at = `${where}, span ${j}`;
        if (span === null || typeof span !== "object") throw bad(source, at, "is not an object");
        const s = span as Record<string, unknown>;
        if (typeof s.entity_type !== "string" || s.entity_type === "") {
          throw bad(source, at, 'has no string "entity_type"');
        }
        if (!isInt(s.start_position) || !isInt(s.end_position)) {
          throw bad(source, at, 'has no integer "start_position"/"end_position"');
        }
        if (s.start_position >= s.end_position || s.end_position > text.length) {
          throw bad(
            source,
            at,
            `has positions [${s.start_position}, ${s.end_position}) outside its text of ${text.length} characters`,
          );
        }
        const value = text.slice(s.start_position, s.end_position);
        if (s.entity_value !== value) valueMismatches++;
        return { entityType: s.entity_type, start: s.start_position, end: s.end_position, value };
      }),
    });
  });
  return { source, samples, valueMismatches };
}

/** Reads and checks a dataset file. */
export function loadPiiDataset(path: string): PiiDataset {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `Cannot read the PII dataset ${path}: ${(cause as Error).message}`,
      {
        cause,
        details: { file: path },
      },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ArbiterError(ErrorCode.InvalidData, `${path}: not valid JSON (${(cause as Error).message}).`, {
      cause,
      details: { file: path },
    });
  }
  return parsePiiDataset(raw, path);
}
