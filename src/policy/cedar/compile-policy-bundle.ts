import {
  checkParsePolicySet,
  checkParseSchema,
  type DetailedError,
  getCedarSDKVersion,
  type PolicyJson,
  policyToJson,
  preparsePolicySet,
  preparseSchema,
  schemaToJsonWithResolvedTypes,
  validate,
} from "@cedar-policy/cedar-wasm/nodejs";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { cacheKey, codeFingerprint, type DerivedCache } from "../../profile/derived-cache.ts";
import type { PolicyBundle, PolicyInfo } from "../decision.ts";
import { bundleVersion, normaliseText } from "./bundle-version.ts";
import { createCedarPolicyBundle } from "./cedar-policy-bundle.ts";
import { SchemaModel } from "./schema-model.ts";
import { indexOfByteOffset, positionAt } from "./source-position.ts";
import { splitPolicies } from "./split-policies.ts";

export const SCHEMA_FILE = "schema.cedarschema";
export const POLICY_DIR = "policies";

export interface PolicyBundleSources {
  /** How file names are shown in messages, e.g. `examples/telecom/policies`. Default: none. */
  readonly displayRoot?: string;
  /** Text of `schema.cedarschema` (Cedar human schema format). */
  readonly schema: string;
  /** The `.cedar` files of `policies/`, by file name (`billing.cedar`). */
  readonly policies: readonly { readonly name: string; readonly text: string }[];
}

/** One problem of a bundle, located in its file. */
export interface PolicyProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

interface PolicySource extends PolicyInfo {
  readonly text: string;
  /** Where `text` starts in `fileText`: Cedar's offsets are relative to it. */
  readonly start: number;
  readonly fileText: string;
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*\.cedar$/;
const POLICY_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const MAX_REPORTED = 20;

/** What a bundle that validated keeps in the derived cache: everything but the pre-parse. */
interface CachedBundle {
  policies: Array<Omit<PolicyInfo, "file"> & { fileName: string; start: number; length: number }>;
  warnings: string[];
  schema: unknown;
}

/**
 * Validates a bundle against its schema (strict mode), versions it and pre-parses it once.
 * Throws `ArbiterError` (`policy-error`) listing every problem as `file:line:column message`.
 * With a `cache`, a bundle that validated before (same files, same Cedar, same code) skips the
 * validation: only the pre-parse runs (a third of the time).
 */
export function compilePolicyBundle(
  sources: PolicyBundleSources,
  options: { cache?: DerivedCache | undefined } = {},
): PolicyBundle {
  const display = (path: string) => (sources.displayRoot ? `${sources.displayRoot}/${path}` : path);
  const schemaText = normaliseText(sources.schema);
  const files = [...sources.policies]
    .map((p) => ({ name: p.name, path: `${POLICY_DIR}/${p.name}`, text: normaliseText(p.text) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const cache = options.cache;
  const key =
    cache &&
    cacheKey([
      getCedarSDKVersion(),
      codeFingerprint(import.meta.dirname),
      sources.displayRoot ?? "",
      schemaText,
      ...files.flatMap((f) => [f.name, f.text]),
    ]);
  const cached = key === undefined ? undefined : fromCache(cache?.get("cedar-bundle", key), files, display);
  if (cached !== undefined) {
    try {
      return finish(schemaText, files, cached.policies, cached.warnings, cached.schema);
    } catch {
      // An entry that does not pre-parse is not trusted: the bundle is validated again below.
    }
  }
  const validated = validateBundle(schemaText, files, display);
  const bundle = finish(schemaText, files, validated.policies, validated.warnings, validated.schema);
  if (key !== undefined) {
    const value: CachedBundle = {
      policies: validated.policies.map(({ text, start, fileText: _f, file, ...info }) => ({
        ...info,
        fileName: files.find((f) => display(f.path) === file)?.name ?? "",
        start,
        length: text.length,
      })),
      warnings: validated.warnings,
      schema: validated.schema,
    };
    cache?.put("cedar-bundle", key, value);
  }
  return bundle;
}

/** A cached entry turned back into policy sources; undefined when it does not fit the files. */
function fromCache(
  value: unknown,
  files: ReadonlyArray<{ name: string; path: string; text: string }>,
  display: (path: string) => string,
): { policies: PolicySource[]; warnings: string[]; schema: unknown } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const entry = value as Partial<CachedBundle>;
  if (!Array.isArray(entry.policies) || !Array.isArray(entry.warnings) || entry.schema === undefined)
    return undefined;
  const policies: PolicySource[] = [];
  for (const { fileName, start, length, ...info } of entry.policies) {
    const file = files.find((f) => f.name === fileName);
    if (file === undefined || !(start >= 0 && length > 0 && start + length <= file.text.length))
      return undefined;
    policies.push({
      ...info,
      file: display(file.path),
      text: file.text.slice(start, start + length),
      start,
      fileText: file.text,
    });
  }
  return { policies, warnings: entry.warnings, schema: entry.schema };
}

/** Parses and validates every file; throws the problems, or returns the policies and warnings. */
function validateBundle(
  schemaText: string,
  files: ReadonlyArray<{ name: string; path: string; text: string }>,
  display: (path: string) => string,
): { policies: PolicySource[]; warnings: string[]; schema: unknown } {
  const schemaFile = display(SCHEMA_FILE);
  const problems: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];
  const report = (list: PolicyProblem[], file: string, text: string, index: number, message: string) =>
    list.push({ file, ...positionAt(text, index), message });
  const reportCedar = (
    list: PolicyProblem[],
    file: string,
    text: string,
    base: number,
    error: DetailedError,
  ) => {
    const location = error.sourceLocations?.[0];
    const index = location === undefined ? base : indexOfByteOffset(text, location.start, base);
    report(list, file, text, index, describeCedarError(error));
  };

  const schemaParse = checkParseSchema(schemaText);
  if (schemaParse.type === "failure") {
    for (const error of schemaParse.errors) reportCedar(problems, schemaFile, schemaText, 0, error);
  }
  if (files.length === 0) {
    problems.push({
      file: display(POLICY_DIR),
      line: 1,
      column: 1,
      message: `no .cedar files; add at least one policy file to ${display(POLICY_DIR)}/`,
    });
  }

  const policies: PolicySource[] = [];
  for (const file of files) {
    const shown = display(file.path);
    if (!FILE_NAME.test(file.name)) {
      report(
        problems,
        shown,
        file.text,
        0,
        "rename the file: use letters, digits, - and _ before .cedar (no dots)",
      );
      continue;
    }
    const parsed = checkParsePolicySet({ staticPolicies: file.text });
    if (parsed.type === "failure") {
      for (const error of parsed.errors) reportCedar(problems, shown, file.text, 0, error);
      continue;
    }
    const stem = file.name.slice(0, -".cedar".length);
    const seen = new Map<string, number>();
    const spans = splitPolicies(file.text);
    if (spans.length === 0) report(warnings, shown, file.text, 0, "the file holds no policy");
    for (const span of spans) {
      const text = file.text.slice(span.start, span.end);
      const json = policyToJson(text);
      if (json.type === "failure") {
        for (const error of json.errors) reportCedar(problems, shown, file.text, span.start, error);
        continue;
      }
      const at = positionAt(file.text, span.first);
      const info = describePolicy(json.json, `${stem}.`, (message) =>
        report(problems, shown, file.text, span.first, message),
      );
      if (info === undefined) continue;
      const earlier = seen.get(info.localId);
      if (earlier !== undefined) {
        report(
          problems,
          shown,
          file.text,
          span.first,
          `duplicate @id("${info.localId}") (first at line ${earlier})`,
        );
        continue;
      }
      seen.set(info.localId, at.line);
      policies.push({ ...info.policy, file: shown, ...at, text, start: span.start, fileText: file.text });
    }
  }

  if (problems.length === 0) {
    const answer = validate({
      schema: schemaText,
      policies: { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) },
      validationSettings: { mode: "strict" },
    });
    const locate = (list: PolicyProblem[], policyId: string, error: DetailedError) => {
      const policy = policies.find((p) => p.id === policyId);
      if (policy === undefined) list.push(atStart(schemaFile, error));
      else reportCedar(list, policy.file, policy.fileText, policy.start, error);
    };
    if (answer.type === "failure") {
      for (const error of answer.errors) reportCedar(problems, schemaFile, schemaText, 0, error);
    } else {
      for (const e of answer.validationErrors) locate(problems, e.policyId, e.error);
      for (const e of answer.validationWarnings) locate(warnings, e.policyId, e.error);
      for (const e of answer.otherWarnings) warnings.push(atStart(schemaFile, e));
    }
  }
  if (problems.length > 0) throw bundleError(problems);
  const resolved = schemaToJsonWithResolvedTypes(schemaText);
  if (resolved.type === "failure") throw bundleError(resolved.errors.map((e) => atStart(schemaFile, e)));
  return { policies, warnings: warnings.map(formatProblem), schema: resolved.json };
}

/** Versions the bundle and pre-parses its schema and policy sets for the authorizer. */
function finish(
  schemaText: string,
  files: ReadonlyArray<{ path: string; text: string }>,
  policies: readonly PolicySource[],
  warnings: readonly string[],
  schema: unknown,
): PolicyBundle {
  const version = bundleVersion([
    { path: SCHEMA_FILE, text: schemaText },
    ...files.map((f) => ({ path: f.path, text: f.text })),
  ]);
  const schemaName = `arbiter:${version}:schema`;
  const fullSetId = `arbiter:${version}:all`;
  const hardSetId = `arbiter:${version}:without-approvals`;
  const set = (list: readonly PolicySource[]) => ({
    staticPolicies: Object.fromEntries(list.map((p) => [p.id, p.text])),
  });
  for (const answer of [
    preparseSchema(schemaName, schemaText),
    preparsePolicySet(fullSetId, set(policies)),
    preparsePolicySet(hardSetId, set(policies.filter((p) => p.approval === undefined))),
  ]) {
    if (answer.type === "failure") {
      throw new ArbiterError(
        ErrorCode.Internal,
        `cedar-wasm refused a bundle that validated: ${answer.errors.map((e) => e.message).join("; ")}`,
      );
    }
  }
  return createCedarPolicyBundle({
    version,
    policies: policies.map(({ text: _t, start: _s, fileText: _f, ...info }) => Object.freeze(info)),
    warnings: [...warnings],
    schema: new SchemaModel(schema as ConstructorParameters<typeof SchemaModel>[0]),
    schemaName,
    fullSetId,
    hardSetId,
    referencedContext: referencedContext(policies.map((p) => p.text)),
  });
}

/**
 * The top-level context attribute names the policies can read: every identifier after `context.` or
 * `context has`. A policy that uses `context` any other way (compares or passes it whole) disables pruning.
 */
function referencedContext(texts: readonly string[]): ReadonlySet<string> | undefined {
  const names = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(
      /\bcontext\b(\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\s+has\s+([A-Za-z_][A-Za-z0-9_]*|"[^"]*")|)/g,
    )) {
      const name = m[2] ?? m[3]?.replaceAll('"', "");
      if (name === undefined) return undefined;
      names.add(name);
    }
  }
  return names;
}

function describePolicy(
  json: PolicyJson,
  prefix: string,
  problem: (message: string) => void,
): { localId: string; policy: Omit<PolicyInfo, "file" | "line" | "column"> } | undefined {
  const annotations = json.annotations ?? {};
  const localId = annotations.id;
  if (typeof localId !== "string" || localId === "") {
    problem('add an @id("…") annotation: every policy needs a stable id, unique in its file');
    return undefined;
  }
  if (!POLICY_ID.test(localId)) {
    problem(`@id("${localId}") may hold only letters, digits, - and _ (no dots: the id becomes <file>.<id>)`);
    return undefined;
  }
  const approval = annotations.approval;
  if ("approval" in annotations) {
    if (json.effect !== "forbid") {
      problem(
        "@approval belongs on a forbid: it marks a restriction a human may waive (see src/policy/README.md)",
      );
      return undefined;
    }
    if (typeof approval !== "string" || approval.trim() === "") {
      problem('give @approval the reason a human reads, e.g. @approval("credits above $50 need approval")');
      return undefined;
    }
  }
  const reason = annotations.reason;
  return {
    localId,
    policy: {
      id: `${prefix}${localId}`,
      effect: json.effect,
      ...(typeof approval === "string" ? { approval } : {}),
      ...(typeof reason === "string" && reason !== "" ? { reason } : {}),
    },
  };
}

function describeCedarError(error: DetailedError): string {
  const label = error.sourceLocations?.[0]?.label;
  let message = error.message;
  if (label) message += ` (${label})`;
  if (error.help) message += `; ${error.help}`;
  return message;
}

function atStart(file: string, error: DetailedError): PolicyProblem {
  return { file, line: 1, column: 1, message: describeCedarError(error) };
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.line}:${p.column} ${p.message}`;
}

function bundleError(unsorted: PolicyProblem[]): ArbiterError {
  const problems = [...unsorted].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column,
  );
  const lines = problems.slice(0, MAX_REPORTED).map(formatProblem);
  if (problems.length > MAX_REPORTED) lines.push(`… and ${problems.length - MAX_REPORTED} more`);
  const first = problems[0]!;
  return new ArbiterError(
    ErrorCode.PolicyError,
    `${lines.join("\n")}\nFix the policy bundle, then check it with \`arbiter policy validate <profile>\`.`,
    { details: { file: first.file, line: first.line, column: first.column, problems } },
  );
}
