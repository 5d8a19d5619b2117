import { createModelResolver } from "../models/model-resolver.ts";
import { parseModelSpec } from "../models/providers/parse-model-spec.ts";
import type { Profile } from "../profile/load-profile.ts";
import { LocalRuntime } from "../supervisor/local-runtime.ts";
import { createFaults, parseFaultSpec } from "../testing/fault-injection.ts";
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
  const overrides = ((options.model as string[] | undefined) ?? []).map(parseModelSpec);
  return LocalRuntime.open({
    profile,
    dbPath: options.dbPath,
    env: io.env,
    models: createModelResolver(profile, { env: io.env, overrides }),
    ...(typeof options.inject === "string" ? { faults: createFaults(parseFaultSpec(options.inject)) } : {}),
  });
}
