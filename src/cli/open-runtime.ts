import { resolve } from "node:path";
import { createModelResolver } from "../models/model-resolver.ts";
import { parseModelSpec } from "../models/providers/parse-model-spec.ts";
import type { Profile } from "../profile/load-profile.ts";
import { LocalRuntime } from "../supervisor/local-runtime.ts";
import { createFaults, parseFaultSpec } from "../testing/fault-injection.ts";
import { refuseForeign } from "./open-store.ts";
import type { CliIo } from "./output.ts";

/**
 * The embedded runtime as `run`, `resume` and `serve` open it: the run database, the profile's models
 * with any `--model` overrides, and `--inject` faults.
 */
export function openCliRuntime(
  profile: Profile,
  io: CliIo,
  options: { dbPath: string; model?: unknown; inject?: unknown },
): Promise<LocalRuntime> {
  refuseForeign(options.dbPath, "create");
  const specs = recordableSpecs((options.model as string[] | undefined) ?? []);
  const overrides = specs.map(parseModelSpec);
  return LocalRuntime.open({
    profile,
    dbPath: options.dbPath,
    env: io.env,
    models: createModelResolver(profile, { env: io.env, overrides }),
    modelSpecs: specs,
    onNote: (note) => io.err(`arbiter: note: ${note}\n`),
    ...(typeof options.inject === "string" ? { faults: createFaults(parseFaultSpec(options.inject)) } : {}),
  });
}

/**
 * `--model` specs as a run records them: trimmed, and a scripted model's file made absolute, so a
 * resume from another directory finds it. (Specs hold no secrets: keys come from the environment.)
 */
export function recordableSpecs(specs: readonly string[]): string[] {
  return specs.map((spec) => {
    const trimmed = spec.trim();
    return /^scripted:/i.test(trimmed) ? `scripted:${resolve(trimmed.slice("scripted:".length))}` : trimmed;
  });
}
