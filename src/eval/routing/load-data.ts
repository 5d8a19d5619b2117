import { readFileSync } from "node:fs";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";

/** `[text, intent]` pairs, as in CLINC150's `data_full.json`. */
export type LabelledUtterance = readonly [text: string, intent: string];

/** A data set in CLINC150's layout. `val` also accepts the spelling `valid`. */
export interface ClincLayout {
  train: LabelledUtterance[];
  val?: LabelledUtterance[];
  test?: LabelledUtterance[];
  oos_train?: LabelledUtterance[];
  oos_val?: LabelledUtterance[];
  oos_test?: LabelledUtterance[];
}

/** Which worker handles each intent. */
export interface Domains {
  readonly workers: readonly string[];
  readonly intentsOf: ReadonlyMap<string, readonly string[]>;
  readonly workerOf: ReadonlyMap<string, string>;
}

/** `[text, "intent_a,intent_b", phenomenon or null]`: one utterance with one or more intents. */
export type MultiIntentUtterance = readonly [text: string, intents: string, phenomenon: string | null];

export interface MultiIntentLayout {
  train: MultiIntentUtterance[];
  valid: MultiIntentUtterance[];
  test: MultiIntentUtterance[];
}

/** A prompt-injection row: label 1 = injection. */
export interface InjectionRow {
  readonly text: string;
  readonly label: 0 | 1;
}

const CLINC_SPLITS = ["train", "val", "test", "oos_train", "oos_val", "oos_test"] as const;

function invalid(file: string, message: string, details: Record<string, unknown> = {}): ArbiterError {
  return new ArbiterError(ErrorCode.InvalidData, `${file}: ${message}`, { details: { file, ...details } });
}

/** The file's text, or an error that names it and says to check the path. */
function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ArbiterError(
      ErrorCode.InvalidData,
      `cannot read ${file}: ${(error as Error).message}; check the path`,
      {
        cause: error,
        details: { file },
      },
    );
  }
}

function readJson(file: string): unknown {
  const text = readText(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ArbiterError(
      ErrorCode.InvalidData,
      `${file}: not valid JSON (${(error as Error).message}); fix the file`,
      {
        cause: error,
        details: { file },
      },
    );
  }
}

const preview = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Loads a JSON file in CLINC150's layout: an object with `train` (required), `val` (or `valid`),
 * `test`, and optional `oos_train`, `oos_val`, `oos_test`, each an array of `[text, intent]`.
 * Throws `invalid-data` naming the file and the first bad entry.
 */
export function loadClincLayout(file: string): ClincLayout {
  return parseClincLayout(readJson(file), file);
}

export function parseClincLayout(json: unknown, file = "<data>"): ClincLayout {
  if (!isObject(json)) {
    throw invalid(
      file,
      `expected an object with "train", "val", "test" arrays (CLINC150 layout), got ${preview(json)}`,
    );
  }
  if (json.valid !== undefined && json.val === undefined) json = { ...json, val: json.valid };
  const object = json as Record<string, unknown>;
  if (object.train === undefined) {
    throw invalid(
      file,
      `missing "train": expected arrays "train", "val", "test" of [text, intent] (CLINC150 layout)`,
    );
  }
  const out: Partial<Record<(typeof CLINC_SPLITS)[number], LabelledUtterance[]>> = {};
  for (const split of CLINC_SPLITS) {
    const value = object[split];
    if (value === undefined) continue;
    if (!Array.isArray(value))
      throw invalid(file, `"${split}" must be an array of [text, intent], got ${preview(value)}`);
    value.forEach((entry, i) => {
      if (
        !Array.isArray(entry) ||
        entry.length !== 2 ||
        typeof entry[0] !== "string" ||
        typeof entry[1] !== "string" ||
        entry[0].trim() === "" ||
        entry[1].trim() === ""
      ) {
        throw invalid(
          file,
          `${split}[${i}] must be [text, intent] (two non-empty strings), got ${preview(entry)}; fix or remove that entry`,
          { split, index: i },
        );
      }
    });
    out[split] = value as LabelledUtterance[];
  }
  return out as ClincLayout;
}

/**
 * Loads a domains file: an object mapping each worker to the intents it handles, e.g.
 * `{"banking": ["balance", "transfer"], ...}`. An intent may belong to one worker only.
 */
export function loadDomains(file: string): Domains {
  return parseDomains(readJson(file), file);
}

export function parseDomains(json: unknown, file = "<domains>"): Domains {
  if (!isObject(json) || Object.keys(json).length === 0) {
    throw invalid(
      file,
      `expected an object mapping each worker to an array of intents, got ${preview(json)}`,
    );
  }
  const intentsOf = new Map<string, string[]>();
  const workerOf = new Map<string, string>();
  for (const [worker, intents] of Object.entries(json)) {
    if (worker.trim() === "") throw invalid(file, `a worker name is empty; name every worker`);
    if (!Array.isArray(intents) || intents.length === 0) {
      throw invalid(file, `"${worker}" must be a non-empty array of intent names, got ${preview(intents)}`, {
        worker,
      });
    }
    intents.forEach((intent, i) => {
      if (typeof intent !== "string" || intent.trim() === "") {
        throw invalid(
          file,
          `${worker}[${i}] must be an intent name (a non-empty string), got ${preview(intent)}`,
          {
            worker,
            index: i,
          },
        );
      }
      const owner = workerOf.get(intent);
      if (owner !== undefined) {
        throw invalid(
          file,
          `${worker}[${i}]: intent "${intent}" already belongs to "${owner}"; list each intent once`,
          {
            worker,
            index: i,
          },
        );
      }
      workerOf.set(intent, worker);
    });
    intentsOf.set(worker, intents as string[]);
  }
  return { workers: [...intentsOf.keys()], intentsOf, workerOf };
}

/** Checks that every intent of `splits` has a worker; throws naming the first entry that has none. */
export function checkIntentsCovered(
  data: ClincLayout,
  domains: Domains,
  file: string,
  splits: readonly (keyof ClincLayout)[] = ["train", "val", "test"],
): void {
  for (const split of splits) {
    const rows = data[split];
    if (!rows) continue;
    for (let i = 0; i < rows.length; i++) {
      const intent = rows[i]![1];
      if (!domains.workerOf.has(intent)) {
        throw invalid(
          file,
          `${split}[${i}] has intent "${intent}", which no worker in the domains file handles; add it to a worker or fix the label`,
          { split, index: i },
        );
      }
    }
  }
}

/** Loads multi-intent data: `{train, valid, test}` arrays of `[text, "intent_a,intent_b", phenomenon|null]`. */
export function loadMultiIntent(file: string, domains?: Domains): MultiIntentLayout {
  return parseMultiIntent(readJson(file), file, domains);
}

export function parseMultiIntent(json: unknown, file = "<data>", domains?: Domains): MultiIntentLayout {
  if (!isObject(json)) {
    throw invalid(
      file,
      `expected an object with "train", "valid", "test" arrays of [text, "intent_a,intent_b", phenomenon]`,
    );
  }
  const out: Partial<MultiIntentLayout> = {};
  for (const split of ["train", "valid", "test"] as const) {
    const value = json[split] ?? (split === "valid" ? json.val : undefined);
    if (value === undefined) {
      out[split] = [];
      continue;
    }
    if (!Array.isArray(value)) throw invalid(file, `"${split}" must be an array, got ${preview(value)}`);
    value.forEach((entry, i) => {
      const bad =
        !Array.isArray(entry) ||
        entry.length < 2 ||
        entry.length > 3 ||
        typeof entry[0] !== "string" ||
        entry[0].trim() === "" ||
        typeof entry[1] !== "string" ||
        entry[1].split(",").some((intent: string) => intent.trim() === "") ||
        (entry[2] !== undefined && entry[2] !== null && typeof entry[2] !== "string");
      if (bad) {
        throw invalid(
          file,
          `${split}[${i}] must be [text, "intent_a,intent_b", phenomenon or null], got ${preview(entry)}; fix or remove that entry`,
          { split, index: i },
        );
      }
      if (domains) {
        for (const intent of (entry[1] as string).split(",")) {
          if (!domains.workerOf.has(intent.trim())) {
            throw invalid(
              file,
              `${split}[${i}] has intent "${intent.trim()}", which no worker in the domains file handles; add it to a worker or fix the label`,
              { split, index: i },
            );
          }
        }
      }
    });
    out[split] = (value as unknown[][]).map(
      (entry) =>
        [entry[0] as string, entry[1] as string, (entry[2] as string | null | undefined) ?? null] as const,
    );
  }
  return out as MultiIntentLayout;
}

/** Loads JSON-lines prompt-injection data: one `{"text": ..., "label": 0|1}` per line. */
export function loadInjectionRows(file: string): InjectionRow[] {
  const text = readText(file);
  const rows: InjectionRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw invalid(
        file,
        `line ${i + 1} is not valid JSON (${(error as Error).message}); fix or remove that line`,
        {
          line: i + 1,
        },
      );
    }
    if (!isObject(row) || typeof row.text !== "string" || (row.label !== 0 && row.label !== 1)) {
      throw invalid(file, `line ${i + 1} must be {"text": string, "label": 0 or 1}, got ${preview(row)}`, {
        line: i + 1,
      });
    }
    rows.push({ text: row.text, label: row.label });
  }
  return rows;
}
