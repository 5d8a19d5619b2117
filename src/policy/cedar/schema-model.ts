import type { CedarValueJson, SchemaJson, TypeAndId } from "@cedar-policy/cedar-wasm/nodejs";

/** A type of the JSON schema format (after `schemaToJsonWithResolvedTypes`). */
interface SchemaType {
  readonly type: string;
  readonly name?: string;
  readonly element?: SchemaType;
  readonly attributes?: Readonly<Record<string, SchemaType & { readonly required?: boolean }>>;
  readonly additionalAttributes?: boolean;
}

export interface ActionShape {
  readonly uid: { readonly type: string; readonly id: string };
  readonly context: SchemaType | undefined;
  /** Qualified entity types the action applies to. */
  readonly principalTypes: ReadonlySet<string>;
  readonly resourceTypes: ReadonlySet<string>;
}

const DECIMAL_LIMIT = 922_337_203_685_477;
const DECIMAL = /^-?\d+\.\d{1,4}$/;
const EXTENSIONS = new Set(["decimal", "ipaddr", "datetime", "duration"]);

/**
 * What the hot path needs from the schema: each action's principal, resource and context types, so
 * a request is checked and its context turned into exactly the Cedar JSON the schema declares, in
 * JavaScript — cheaper than asking cedar-wasm to parse the context against the schema. Undeclared
 * attributes are dropped (strict validation already forbids policies from reading them), so tool
 * arguments the schema does not mention never make a request invalid; declared ones must have the
 * declared type.
 */
export class SchemaModel {
  readonly #actions = new Map<string, ActionShape>();
  readonly #commonTypes = new Map<string, SchemaType>();
  readonly #entityTypes = new Map<string, string>();

  constructor(json: SchemaJson<string>) {
    for (const [namespace, definition] of Object.entries(json)) {
      const qualify = (name: string) => (namespace === "" ? name : `${namespace}::${name}`);
      for (const [name, type] of Object.entries(definition.commonTypes ?? {})) {
        this.#commonTypes.set(qualify(name), type as SchemaType);
      }
      for (const name of Object.keys(definition.entityTypes)) {
        if (!this.#entityTypes.has(name)) this.#entityTypes.set(name, qualify(name));
        this.#entityTypes.set(qualify(name), qualify(name));
      }
      for (const [id, action] of Object.entries(definition.actions)) {
        const qualifyRef = (name: string) => (name.includes("::") ? name : qualify(name));
        const shape: ActionShape = {
          uid: { type: qualify("Action"), id },
          context: action.appliesTo?.context as SchemaType | undefined,
          principalTypes: new Set((action.appliesTo?.principalTypes ?? []).map(qualifyRef)),
          resourceTypes: new Set((action.appliesTo?.resourceTypes ?? []).map(qualifyRef)),
        };
        if (!this.#actions.has(id)) this.#actions.set(id, shape);
        this.#actions.set(`${qualify("Action")}::"${id}"`, shape);
      }
    }
  }

  get actionIds(): string[] {
    return [...this.#actions.keys()].filter((key) => !key.includes("::"));
  }

  action(id: string): ActionShape | undefined {
    return this.#actions.get(id);
  }

  /** `Worker` becomes `Ns::Worker` when the schema declares it in namespace `Ns`. */
  entityType(type: string): string {
    return this.#entityTypes.get(type) ?? type;
  }

  /** Converts `value` to Cedar JSON of `type`; problems are pushed to `errors` as `path: message`. */
  project(value: unknown, type: SchemaType | undefined, path: string, errors: string[]): CedarValueJson {
    if (type === undefined) return toCedarValue(value, path, errors);
    const kind = type.type.startsWith("__cedar::") ? type.type.slice(9) : type.type;
    switch (kind) {
      case "Long":
        if (typeof value === "number" && Number.isSafeInteger(value)) return value;
        return fail(errors, path, "an integer (Long)", value);
      case "String":
        return typeof value === "string" ? value : fail(errors, path, "a string", value);
      case "Bool":
      case "Boolean":
        return typeof value === "boolean" ? value : fail(errors, path, "a boolean", value);
      case "Set":
        if (!Array.isArray(value) && !(value instanceof Set)) return fail(errors, path, "an array", value);
        return [...value].map((item, i) => this.project(item, type.element, `${path}[${i}]`, errors));
      case "Record":
        return this.#record(value, type, path, errors);
      case "Entity":
        return entityValue(value, path, errors, (t) => this.entityType(t));
      case "Extension":
        return extensionValue(type.name ?? "", value, path, errors);
      default: {
        if (EXTENSIONS.has(kind)) return extensionValue(kind, value, path, errors);
        const common = this.#commonTypes.get(kind);
        return this.project(value, common, path, errors);
      }
    }
  }

  #record(value: unknown, type: SchemaType, path: string, errors: string[]): CedarValueJson {
    if (!isPlainObject(value)) return fail(errors, path, "an object", value);
    const out: Record<string, CedarValueJson> = {};
    const declared = type.attributes ?? {};
    for (const [name, attribute] of Object.entries(declared)) {
      const item = value[name];
      if (item === undefined || item === null) {
        if (attribute.required !== false) errors.push(`${path}.${name}: required by the schema but missing`);
        continue;
      }
      out[name] = this.project(item, attribute, `${path}.${name}`, errors);
    }
    if (type.additionalAttributes === true) {
      for (const [name, item] of Object.entries(value)) {
        if (!(name in declared) && item !== undefined && item !== null) {
          out[name] = toCedarValue(item, `${path}.${name}`, errors);
        }
      }
    }
    return out;
  }
}

/** Schema-less conversion (entity attributes, open records). */
export function toCedarValue(value: unknown, path: string, errors: string[]): CedarValueJson {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return value;
    return extensionValue("decimal", value, path, errors);
  }
  if (Array.isArray(value)) return value.map((item, i) => toCedarValue(item, `${path}[${i}]`, errors));
  if (isPlainObject(value)) {
    if ("__entity" in value || "__extn" in value) return value as CedarValueJson;
    const out: Record<string, CedarValueJson> = {};
    for (const [name, item] of Object.entries(value)) {
      if (item !== undefined && item !== null) out[name] = toCedarValue(item, `${path}.${name}`, errors);
    }
    return out;
  }
  return fail(errors, path, "a JSON value", value);
}

function extensionValue(name: string, value: unknown, path: string, errors: string[]): CedarValueJson {
  if (isPlainObject(value) && "__extn" in value) return value as CedarValueJson;
  if (name === "decimal" && typeof value === "number") {
    if (!Number.isFinite(value) || Math.abs(value) >= DECIMAL_LIMIT) {
      return fail(errors, path, "a decimal within ±922337203685477", value);
    }
    return { __extn: { fn: "decimal", arg: value.toFixed(4) } };
  }
  if (name === "decimal" && typeof value === "string" && !DECIMAL.test(value)) {
    return fail(errors, path, 'a decimal such as "0.25" (at most 4 decimal places)', value);
  }
  if (name === "datetime" && value instanceof Date) return { __extn: { fn: name, arg: value.toISOString() } };
  if (typeof value === "string") return { __extn: { fn: name === "ipaddr" ? "ip" : name, arg: value } };
  return fail(errors, path, `a ${name} (number or string)`, value);
}

function entityValue(
  value: unknown,
  path: string,
  errors: string[],
  qualify: (type: string) => string,
): CedarValueJson {
  if (isPlainObject(value)) {
    if ("__entity" in value) return value as CedarValueJson;
    if (typeof value.type === "string" && typeof value.id === "string") {
      return { __entity: { type: qualify(value.type), id: value.id } };
    }
  }
  return fail(errors, path, "an entity reference { type, id }", value);
}

/** Checks and qualifies an `EntityRef` given by a caller. */
export function entityUid(
  value: unknown,
  path: string,
  errors: string[],
  qualify: (type: string) => string,
): TypeAndId {
  if (
    isPlainObject(value) &&
    typeof value.type === "string" &&
    value.type !== "" &&
    typeof value.id === "string"
  ) {
    return { type: qualify(value.type), id: value.id };
  }
  errors.push(`${path}: expected an entity reference { type, id } with string fields`);
  return { type: "", id: "" };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Names only the type of a bad value: request values may hold personal data. */
function fail(errors: string[], path: string, expected: string, value: unknown): CedarValueJson {
  const got = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
  const detail =
    typeof value !== "number"
      ? ""
      : !Number.isFinite(value)
        ? " that is not finite"
        : Number.isInteger(value)
          ? " out of range"
          : " with a fraction";
  errors.push(`${path}: expected ${expected}, got ${got}${detail}`);
  return null;
}

/**
 * Cedar quotes offending values in its messages; request values may hold personal data, so every
 * string of the request is masked before a message leaves the engine.
 */
export function redactValues(messages: readonly string[], ...sources: unknown[]): string[] {
  const strings = new Set<string>();
  const walk = (value: unknown, depth: number) => {
    if (depth > 32) return;
    if (typeof value === "string") {
      if (value.length >= 3) strings.add(value);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
    } else if (typeof value === "object" && value !== null) {
      const extension = (value as { __extn?: { arg?: unknown } }).__extn;
      if (extension !== undefined) walk(extension.arg, depth + 1);
      else for (const item of Object.values(value)) walk(item, depth + 1);
    }
  };
  for (const source of sources) walk(source, 0);
  const sorted = [...strings].sort((a, b) => b.length - a.length);
  return messages.map((message) => sorted.reduce((m, s) => m.split(s).join("‹redacted›"), message));
}
