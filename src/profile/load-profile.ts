import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { loadPolicyBundle } from "../policy/cedar/load-policy-bundle.ts";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.ts";
import type { AnyTool } from "../tools/tool.ts";
import type { Toolkit, ToolkitFactory } from "../tools/toolkit.ts";
import type { CodeHandler } from "../workers/code-handler.ts";
import { canonicalJson } from "./canonical-json.ts";
import { type DerivedCache, openDerivedCache } from "./derived-cache.ts";
import { hashModuleGraph } from "./module-hash.ts";
import { type ProfileDocument, profileSchema, type WorkerSpec } from "./schema.ts";
import { formatPath, SourceMap } from "./source-map.ts";

export interface LoadProfileOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Where the validated policy bundle and the trained router are kept between processes.
   * Default: the cache `env` names (`openDerivedCache`); `false` derives everything afresh.
   */
  cache?: DerivedCache | false;
}

/** A validated mission profile with its toolkits instantiated. */
export interface Profile {
  readonly file: string;
  readonly dir: string;
  /** SHA-256 of the canonical document plus the content of its toolkit modules. */
  readonly version: string;
  readonly document: ProfileDocument;
  readonly workers: ReadonlyMap<string, WorkerSpec>;
  readonly tools: ReadonlyMap<string, AnyTool>;
  readonly handlers: ReadonlyMap<string, CodeHandler>;
  readonly warnings: readonly string[];
  /** The profile's policy engine (active bundle, optional shadow), when it names a bundle. */
  readonly policy: PolicyEngine | undefined;
  /** Where what is derived from the profile (the trained router) is kept between processes, if anywhere. */
  readonly cache?: DerivedCache | undefined;
  close(): Promise<void>;
}

interface Problem {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

const MAX_REPORTED = 12;

function fail(map: SourceMap, displayFile: string, problems: Problem[]): never {
  const lines = problems.slice(0, MAX_REPORTED).map((p) => {
    const pos = map.locate(p.path);
    return `${displayFile}:${pos.line}:${pos.column} ${formatPath(p.path)}: ${p.message}`;
  });
  if (problems.length > MAX_REPORTED) lines.push(`… and ${problems.length - MAX_REPORTED} more`);
  const first = problems[0]!;
  const pos = map.locate(first.path);
  throw new ArbiterError(
    ErrorCode.InvalidProfile,
    `${lines.join("\n")}\nFix the profile and run \`arbiter validate ${displayFile}\` again.`,
    {
      details: {
        file: displayFile,
        line: pos.line,
        column: pos.column,
        path: formatPath(first.path),
        problems,
      },
    },
  );
}

/** Loads, validates and versions a mission profile (YAML or JSON). Throws `ArbiterError` naming file:line:column. */
export async function loadProfile(file: string, options: LoadProfileOptions = {}): Promise<Profile> {
  const absolute = resolve(file);
  // Relative to the working directory when it is below it; else absolute (`../../x.yaml` helps nobody).
  const below = relative(process.cwd(), absolute);
  const displayFile = below === "" || below.startsWith("..") || isAbsolute(below) ? absolute : below;
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (cause) {
    throw new ArbiterError(
      ErrorCode.InvalidProfile,
      `${displayFile}: cannot read the profile (${(cause as NodeJS.ErrnoException).code ?? "error"}). Check the path.`,
      { cause, details: { file: displayFile } },
    );
  }
  const { map, errors } = SourceMap.parse(displayFile, text);
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new ArbiterError(
      ErrorCode.InvalidProfile,
      `${displayFile}:${e.line}:${e.column} ${e.message}. The profile must be valid YAML or JSON.`,
      { details: { file: displayFile, line: e.line, column: e.column } },
    );
  }
  const parsed = profileSchema.safeParse(map.toJS() ?? {});
  if (!parsed.success) {
    fail(
      map,
      displayFile,
      parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message })),
    );
  }
  const document = parsed.data;
  const problems = checkReferences(document);
  if (problems.length > 0) fail(map, displayFile, problems);

  const dir = dirname(absolute);
  const env = options.env ?? process.env;
  const cache = options.cache === false ? undefined : (options.cache ?? openDerivedCache(env));
  const toolkitHashes: Record<string, string> = {};
  const toolkits: Toolkit[] = [];
  const tools = new Map<string, AnyTool>();
  const handlers = new Map<string, CodeHandler>();
  const closeAll = async () => {
    for (const toolkit of toolkits) await toolkit.close?.();
  };
  try {
    for (const [index, entry] of document.toolkits.entries()) {
      const path = resolve(dir, entry);
      try {
        toolkitHashes[entry] = await hashModuleGraph(path, dir);
      } catch {
        fail(map, displayFile, [
          { path: ["toolkits", index], message: `toolkit module not found at ${path}` },
        ]);
      }
      let module: { default?: ToolkitFactory };
      try {
        module = (await import(pathToFileURL(path).href)) as { default?: ToolkitFactory };
      } catch (cause) {
        const pos = map.locate(["toolkits", index]);
        throw new ArbiterError(
          ErrorCode.InvalidProfile,
          `${displayFile}:${pos.line}:${pos.column} toolkits[${index}]: the module ${entry} failed to load: ` +
            `${(cause as Error).message}`,
          { cause, details: { file: displayFile, line: pos.line, column: pos.column } },
        );
      }
      if (typeof module.default !== "function") {
        fail(map, displayFile, [
          { path: ["toolkits", index], message: "the module must `export default defineToolkit(...)`" },
        ]);
      }
      const toolkit = await module.default({ env, profileDir: dir });
      toolkits.push(toolkit);
      for (const tool of toolkit.tools) tools.set(tool.name, tool);
      for (const [name, handler] of Object.entries(toolkit.handlers ?? {})) handlers.set(name, handler);
    }
    const missing = checkToolkitReferences(document, tools, handlers);
    if (missing.length > 0) fail(map, displayFile, missing);
  } catch (error) {
    await closeAll();
    throw error;
  }

  let policy: PolicyEngine | undefined;
  try {
    policy = loadPolicies(document, dir, map, displayFile, cache);
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { ...assemble(absolute, dir, document, toolkitHashes, tools, handlers, closeAll, policy), cache };
}

/**
 * The one place a `Profile` is put together; the version covers the document, the toolkit code and the
 * policy bundles (a changed policy is a changed profile: `resume` and `replay` say so).
 */
function assemble(
  file: string,
  dir: string,
  document: ProfileDocument,
  toolkitHashes: Record<string, string> | undefined,
  tools: ReadonlyMap<string, AnyTool>,
  handlers: ReadonlyMap<string, CodeHandler>,
  close: () => Promise<void>,
  policy?: PolicyEngine,
): Profile {
  return {
    file,
    dir,
    version: createHash("sha256")
      .update(
        canonicalJson({
          document,
          toolkits: toolkitHashes,
          // Absent without policies, so a profile without any keeps the version it had.
          ...(policy === undefined
            ? {}
            : { policies: { active: policy.active.version, shadow: policy.shadow?.version ?? null } }),
        }),
      )
      .digest("hex"),
    document,
    workers: new Map(document.workers.map((w) => [w.name, w])),
    tools,
    handlers,
    warnings: [...collectWarnings(document), ...(policy?.active.warnings ?? []).map((w) => `policies: ${w}`)],
    policy,
    close,
  };
}

/** Loads the profile's policy bundles; a missing folder is reported at the profile's `policies:` line. */
function loadPolicies(
  doc: ProfileDocument,
  dir: string,
  map: SourceMap,
  displayFile: string,
  cache: DerivedCache | undefined,
): PolicyEngine | undefined {
  if (doc.policies === undefined) return undefined;
  const load = (key: "policies" | "shadowPolicies", folder: string) => {
    const path = resolve(dir, folder);
    if (!existsSync(path)) {
      fail(map, displayFile, [{ path: [key], message: `no policy bundle folder at ${path}` }]);
    }
    return loadPolicyBundle(path, { cache });
  };
  const active = load("policies", doc.policies);
  const shadow = doc.shadowPolicies === undefined ? undefined : load("shadowPolicies", doc.shadowPolicies);
  return createPolicyEngine(shadow === undefined ? { active } : { active, shadow });
}

export interface ProfileParts {
  tools?: readonly AnyTool[];
  handlers?: Readonly<Record<string, CodeHandler>>;
  /** Where relative paths (model scripts) resolve from. Default: the working directory. */
  dir?: string;
}

/**
 * Builds a profile from a document in code (tests, embedding) with the same validation as `loadProfile`;
 * errors name the path in the document.
 * @example
 * const profile = defineProfile({ name: "demo", workers: [{ name: "a", description: "…", handler: "a" }] }, { handlers: { a } });
 */
export function defineProfile(input: unknown, parts: ProfileParts = {}): Profile {
  const fail = (problems: Problem[]): never => {
    const lines = problems.slice(0, MAX_REPORTED).map((p) => `${formatPath(p.path)}: ${p.message}`);
    throw new ArbiterError(ErrorCode.InvalidProfile, lines.join("\n"), { details: { problems } });
  };
  const parsed = profileSchema.safeParse(input);
  if (!parsed.success) fail(parsed.error.issues.map((i) => ({ path: i.path, message: i.message })));
  const document = parsed.data!;
  const tools = new Map((parts.tools ?? []).map((t) => [t.name, t]));
  const handlers = new Map(Object.entries(parts.handlers ?? {}));
  const problems = [...checkReferences(document), ...checkToolkitReferences(document, tools, handlers)];
  if (problems.length > 0) fail(problems);
  const dir = parts.dir ?? process.cwd();
  return assemble(join(dir, "(in code)"), dir, document, undefined, tools, handlers, async () => {});
}

function checkReferences(doc: ProfileDocument): Problem[] {
  const problems: Problem[] = [];
  const names = new Map<string, number>();
  const known = () => [...names.keys()].join(", ");
  doc.workers.forEach((worker, i) => {
    if (names.has(worker.name)) {
      problems.push({
        path: ["workers", i, "name"],
        message: `duplicate worker name "${worker.name}" (also workers[${names.get(worker.name)}]); names must be unique`,
      });
    } else names.set(worker.name, i);
  });
  const modelNames = Object.keys(doc.models);
  const checkModelRef = (ref: string | string[] | undefined, path: PropertyKey[]) => {
    if (ref === undefined) return;
    for (const [j, m] of (Array.isArray(ref) ? ref : [ref]).entries()) {
      if (!(m in doc.models)) {
        problems.push({
          path: Array.isArray(ref) ? [...path, j] : path,
          message: `unknown model "${m}"; define it under models (known: ${modelNames.join(", ") || "none"})`,
        });
      }
    }
  };
  doc.workers.forEach((worker, i) => {
    if (worker.fallback !== undefined) {
      if (!names.has(worker.fallback)) {
        problems.push({
          path: ["workers", i, "fallback"],
          message: `unknown worker "${worker.fallback}"; known workers: ${known()}`,
        });
      } else if (worker.fallback === worker.name) {
        problems.push({ path: ["workers", i, "fallback"], message: "a worker cannot be its own fallback" });
      }
    }
    checkModelRef(worker.model, ["workers", i, "model"]);
    if (worker.model === undefined && worker.handler === undefined) {
      problems.push({
        path: ["workers", i],
        message: `worker "${worker.name}" has neither a model nor a handler; give it one of them`,
      });
    }
  });
  // Fallback chains must end: follow each chain and report the first cycle once.
  const reported = new Set<string>();
  for (const [i, worker] of doc.workers.entries()) {
    const seen = [worker.name];
    let next = worker.fallback;
    while (next !== undefined && names.has(next) && next !== worker.name) {
      if (seen.includes(next)) break;
      seen.push(next);
      next = doc.workers[names.get(next)!]?.fallback;
    }
    if (next === worker.name && seen.length > 1) {
      const key = [...seen].sort().join(">");
      if (!reported.has(key)) {
        reported.add(key);
        problems.push({
          path: ["workers", i, "fallback"],
          message: `fallback cycle ${[...seen, worker.name].join(" → ")}; a fallback chain must end`,
        });
      }
    }
  }
  const sup = doc.supervisor;
  if (sup.fallbackWorker !== undefined && !names.has(sup.fallbackWorker)) {
    problems.push({
      path: ["supervisor", "fallbackWorker"],
      message: `unknown worker "${sup.fallbackWorker}"; known workers: ${known()}`,
    });
  }
  checkModelRef(sup.planner?.model, ["supervisor", "planner", "model"]);
  checkModelRef(sup.synthesizer.model, ["supervisor", "synthesizer", "model"]);
  if (sup.synthesizer.mode === "llm" && sup.synthesizer.model === undefined) {
    problems.push({
      path: ["supervisor", "synthesizer"],
      message: 'mode "llm" needs a model; add `model:` or use mode "template"',
    });
  }
  for (const [name, entry] of Object.entries(doc.models)) {
    if (entry.provider === "scripted" && entry.script === undefined) {
      problems.push({
        path: ["models", name],
        message: 'a "scripted" model needs `script:` (a JSON or YAML file)',
      });
    }
    if (entry.provider === "openai-compatible" && entry.baseURL === undefined) {
      problems.push({ path: ["models", name], message: 'an "openai-compatible" model needs `baseURL:`' });
    }
  }
  return problems;
}

function checkToolkitReferences(
  doc: ProfileDocument,
  tools: ReadonlyMap<string, AnyTool>,
  handlers: ReadonlyMap<string, CodeHandler>,
): Problem[] {
  const problems: Problem[] = [];
  const toolList = () => [...tools.keys()].join(", ") || "none (add a toolkit)";
  doc.workers.forEach((worker, i) => {
    worker.tools.forEach((tool, j) => {
      if (!tools.has(tool)) {
        problems.push({
          path: ["workers", i, "tools", j],
          message: `unknown tool "${tool}"; the toolkits define: ${toolList()}`,
        });
      }
    });
    if (worker.handler !== undefined && !handlers.has(worker.handler)) {
      problems.push({
        path: ["workers", i, "handler"],
        message: `unknown handler "${worker.handler}"; the toolkits define: ${[...handlers.keys()].join(", ") || "none"}`,
      });
    }
  });
  return problems;
}

function collectWarnings(doc: ProfileDocument): string[] {
  const warnings: string[] = [];
  for (const worker of doc.workers) {
    const rules = worker.routing.keywords.length + worker.routing.patterns.length;
    if (rules === 0 && worker.examples.length === 0 && worker.name !== doc.supervisor.fallbackWorker) {
      warnings.push(
        `worker "${worker.name}" has no routing keywords, patterns or examples; only the planner can reach it`,
      );
    }
  }
  return warnings;
}
