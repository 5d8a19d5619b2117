import { type Document, isNode, LineCounter, parseDocument } from "yaml";

export interface Position {
  line: number;
  column: number;
}

/** A parsed YAML/JSON document that can answer "where is this path in the file?". */
export class SourceMap {
  readonly file: string;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;

  constructor(file: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
  }

  static parse(
    file: string,
    text: string,
  ): { map: SourceMap; errors: Array<{ message: string } & Position> } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const errors = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
      return { message: e.message.split("\n")[0] ?? e.message, line: pos.line, column: pos.col };
    });
    return { map: new SourceMap(file, doc, lines), errors };
  }

  toJS(): unknown {
    return this.#doc.toJS();
  }

  /** Position of the deepest existing node on `path` (falls back to the parent when a key is missing). */
  locate(path: ReadonlyArray<PropertyKey>): Position {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.#doc.getIn(path.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) {
        const pos = this.#lines.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: 1, column: 1 };
  }
}

/** `workers[1].routing.keywords[0]` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(document)" : out;
}
