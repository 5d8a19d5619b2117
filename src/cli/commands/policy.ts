import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import type { Command } from "../main.ts";
import type { CliIo } from "../output.ts";
import { parse } from "../parse.ts";

const usage = "arbiter policy validate <profile> [--json]";

async function validate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: "boolean" } }, usage);
  const file = positionals[0];
  if (file === undefined)
    throw new ArbiterError(ErrorCode.InvalidArgument, `a profile is required\nUsage: ${usage}`);
  // Loading the profile loads and strictly validates its bundles (file:line:column errors, exit 2).
  const profile = await loadProfile(file, { env: io.env });
  try {
    const engine = profile.policy;
    if (engine === undefined) {
      throw new ArbiterError(
        ErrorCode.InvalidProfile,
        `${file}: the profile names no policy bundle; add \`policies: ./policies\` (a folder with schema.cedarschema and policies/*.cedar)`,
      );
    }
    const describe = (b: typeof engine.active) => ({
      version: b.version,
      policies: b.policies.map((p) => ({
        id: p.id,
        effect: p.effect,
        ...(p.approval ? { approval: p.approval } : {}),
      })),
      warnings: b.warnings,
    });
    const report = {
      ok: true,
      active: describe(engine.active),
      ...(engine.shadow ? { shadow: describe(engine.shadow) } : {}),
    };
    if (values.json) io.out(`${JSON.stringify(report)}\n`);
    else {
      for (const [name, b] of Object.entries({ active: engine.active, shadow: engine.shadow })) {
        if (b === undefined) continue;
        io.out(
          `${name} bundle ${b.version.slice(0, 12)}: ${b.policies.length} policies, valid against its schema\n`,
        );
        for (const p of b.policies)
          io.out(`  ${p.effect.padEnd(6)} ${p.id}${p.approval ? `  (needs approval: ${p.approval})` : ""}\n`);
        for (const w of b.warnings) io.out(`  warning: ${w}\n`);
      }
    }
    return 0;
  } finally {
    await profile.close();
  }
}

export const policyCommand: Command = {
  name: "policy",
  summary: "validate a profile's Cedar policy bundle against its schema",
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "validate") return validate(rest, io);
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `unknown policy command "${sub ?? ""}"\nUsage: ${usage}`,
    );
  },
};
