/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped.
 * Used for content hashes (profile versions, the journal's audit chain), so the output is fixed byte
 * for byte, quirks included (a Date is `{}`, a symbol member `null`): changing it breaks recorded hashes.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          const item = value[i];
          out += item === undefined || typeof item === "function" ? "null" : canonicalJson(item);
        }
        return `${out}]`;
      }
      return canonicalObject(value as Record<string, unknown>);
    default:
      // bigint throws as JSON.stringify does; undefined, functions and symbols are not JSON values.
      return JSON.stringify(value) ?? "null";
  }
}

// Keys repeat across events (type, runId, at…): their quoted form is computed once.
const quotedKeys = new Map<string, string>();
function quote(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < 10_000) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function canonicalObject(value: Record<string, unknown>): string {
  const keys = Object.keys(value).sort();
  let out = "{";
  let first = true;
  for (const key of keys) {
    const member = value[key];
    if (member === undefined || typeof member === "function") continue;
    out += `${first ? "" : ","}${quote(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
}
