import { z } from "zod";
import { modelProviders } from "../models/providers/model-spec.ts";
import { parseDuration } from "./duration.ts";

/** Persisted-format version of a mission profile document. */
export const PROFILE_SCHEMA_VERSION = 1;

const name = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'expected a lower-case name like "billing" (letters, digits, _ or -)');

/** "5s", "250ms", "2m" — or a whole number of milliseconds. */
const duration = z.union([z.number().int().positive(), z.string()]).transform((text, ctx) => {
  if (typeof text === "number") return text;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: "custom", message: 'expected a duration like "5s", "250ms" or "2m"' });
    return z.NEVER;
  }
  return ms;
});

const regexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source, "iu");
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `not a valid regular expression (${(error as Error).message})` });
  }
});

const weightedTerm = z.union([
  z.string().min(1),
  z.object({ term: z.string().min(1), weight: z.number().positive().max(10) }).strict(),
]);
const weightedPattern = z.union([
  regexSource,
  z.object({ pattern: regexSource, weight: z.number().positive().max(10) }).strict(),
]);

export const routingRulesSchema = z
  .object({
    keywords: z.array(weightedTerm).default([]),
    patterns: z.array(weightedPattern).default([]),
    /** Terms that veto this worker for a clause (e.g. "cancel" for an upgrade-only worker). */
    exclude: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const modelRefSchema = z.union([name, z.array(name).min(1)]);

/** Circuit-breaker thresholds of one model (model hopping). */
export const breakerSchema = z
  .object({
    errorRate: z.number().gt(0).max(1).optional(),
    latency: duration.optional(),
    latencyPercentile: z.number().gt(0).max(1).optional(),
    costPerCallUsd: z.number().positive().optional(),
    minCalls: z.number().int().min(1).optional(),
    window: duration.optional(),
    coolDown: duration.optional(),
  })
  .strict();

const limit = z
  .object({ tokens: z.number().int().positive().optional(), costUsd: z.number().positive().optional() })
  .strict();
const tenantLimits = z.object({ day: limit.optional(), month: limit.optional() }).strict();

/** Token and money budgets, enforced before and after every model call. */
export const budgetsSchema = z
  .object({
    perRequest: limit.optional(),
    perWorker: limit.optional(),
    workers: z.record(z.string(), limit).optional(),
    perTenant: tenantLimits.optional(),
    tenants: z.record(z.string(), tenantLimits).optional(),
    /** What a branch stopped by a budget becomes: a failed part of a partial answer, or an escalation. */
    onExceed: z.enum(["partial", "escalate"]).default("partial"),
  })
  .strict();

export const modelEntrySchema = z
  .object({
    provider: z.enum(modelProviders),
    model: z.string().min(1),
    baseURL: z.url().optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name")
      .optional(),
    /** For provider "scripted": a JSON or YAML script file, relative to the profile. */
    script: z.string().optional(),
    price: z
      .object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) })
      .strict()
      .optional(),
    contextWindow: z.number().int().positive().optional(),
    latencyObjective: duration.optional(),
    external: z.boolean().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    options: z.record(z.string(), z.unknown()).optional(),
    breaker: breakerSchema.optional(),
  })
  .strict();

export const workerSchema = z
  .object({
    name,
    description: z.string().min(1, "describe the worker's scope in one sentence"),
    instructions: z.string().default(""),
    tools: z.array(z.string().min(1)).default([]),
    /** A model name from `models` (or a chain: primary then fallbacks). */
    model: modelRefSchema.optional(),
    /** A code handler exported by one of the profile's toolkits; used when no model is configured. */
    handler: z.string().min(1).optional(),
    timeout: duration.default(30_000),
    retries: z.number().int().min(0).max(10).default(1),
    fallback: name.optional(),
    confidenceThreshold: z.number().min(0).max(1).default(0),
    maxSteps: z.number().int().min(1).max(50).default(6),
    /** At most this many of this worker's tasks run at once across all runs of the process (its pool). */
    concurrency: z.number().int().min(1).max(10_000).optional(),
    /** Example utterances for the local classifier; `{text, intent}` labels a finer intent inside the worker. */
    examples: z
      .array(
        z.union([
          z.string().min(1),
          z.object({ text: z.string().min(1), intent: z.string().min(1) }).strict(),
        ]),
      )
      .default([]),
    routing: routingRulesSchema.default({ keywords: [], patterns: [], exclude: [] }),
  })
  .strict();

export const supervisorSchema = z
  .object({
    maxConcurrency: z.number().int().min(1).max(1024).default(8),
    /** Worker that receives out-of-scope requests. */
    fallbackWorker: name.optional(),
    /** Minimum rule score for a clause to count as a confident intent. */
    routeThreshold: z.number().positive().default(1),
    /** The local classifier, trained from the workers' examples when the profile loads. */
    classifier: z
      .object({
        enabled: z.boolean().default(true),
        /** Confidence below which a part is out of scope; tuned on held-out examples when absent. */
        oosThreshold: z.number().min(0).max(1).optional(),
        /** Prompt-injection score from which text is kept away from routing. */
        injectionThreshold: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .default({ enabled: true, injectionThreshold: 0.5 }),
    planner: z.object({ model: modelRefSchema }).strict().optional(),
    synthesizer: z
      .object({ model: modelRefSchema.optional(), mode: z.enum(["llm", "template"]).default("template") })
      .strict()
      .default({ mode: "template" }),
    /** Model calls: provider retries and the response cache (deterministic calls only). */
    gateway: z
      .object({ retries: z.number().int().min(0).max(10).default(2), cacheTtl: duration.default(3_600_000) })
      .strict()
      .default({ retries: 2, cacheTtl: 3_600_000 }),
    /** Human approvals: how long a request waits, and what an expired one becomes. */
    approvals: z
      .object({ expiresIn: duration.optional(), onExpire: z.enum(["deny", "approve"]).default("deny") })
      .strict()
      .default({ onExpire: "deny" }),
    retryBackoff: z
      .object({ base: duration.default(200), max: duration.default(5_000) })
      .strict()
      .default({ base: 200, max: 5_000 }),
  })
  .strict();

export const limitsSchema = z
  .object({
    maxRequestChars: z.number().int().min(1).max(1_000_000).default(8_000),
    maxTasks: z.number().int().min(1).max(100).default(10),
    runTimeout: duration.default(120_000),
  })
  .strict();

export const profileSchema = z
  .object({
    schemaVersion: z.literal(PROFILE_SCHEMA_VERSION).default(PROFILE_SCHEMA_VERSION),
    name,
    description: z.string().default(""),
    /** Modules (relative to the profile) that export `tools` and `handlers`. */
    toolkits: z.array(z.string().min(1)).default([]),
    /** PII protection: values become tokens before any model or the journal sees them. */
    guard: z
      .object({
        pii: z.boolean().default(true),
        /** Types restored in the answer for the requester; cards, IBANs and SSNs stay tokens by default. */
        revealToRequester: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/)).default(["EMAIL", "PHONE", "IP"]),
      })
      .strict()
      .default({ pii: true, revealToRequester: ["EMAIL", "PHONE", "IP"] }),
    /** A Cedar policy bundle folder (schema.cedarschema + policies/*.cedar), relative to the profile. */
    policies: z.string().min(1).optional(),
    /** A candidate bundle decided beside `policies` and never enforced (shadow mode). */
    shadowPolicies: z.string().min(1).optional(),
    supervisor: supervisorSchema.default(() => supervisorSchema.parse({})),
    models: z.record(name, modelEntrySchema).default({}),
    budgets: budgetsSchema.default({ onExceed: "partial" }),
    workers: z.array(workerSchema).min(1, "a profile needs at least one worker"),
    limits: limitsSchema.default(() => limitsSchema.parse({})),
  })
  .strict();

export type ProfileDocument = z.output<typeof profileSchema>;
export type WorkerSpec = z.output<typeof workerSchema>;
export type ModelEntry = z.output<typeof modelEntrySchema>;
export type RoutingRules = z.output<typeof routingRulesSchema>;
