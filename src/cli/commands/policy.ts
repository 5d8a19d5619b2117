import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { RunEvent } from "../../journal/events.ts";
import { parseDuration } from "../../profile/duration.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import { withStoreError } from "../../store/sqlite/sqlite-error.ts";
import type { Command } from "../main.ts";
import { openStore } from "../open-store.ts";
import type { CliIo } from "../output.ts";
import { parse } from "../parse.ts";

const usage = [
  "arbiter policy validate <profile> [--json]",
  "       arbiter policy diff --since <ISO time | duration such as 1h> [--json] [--db path]",
].join("\n");

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

/** Where the shadow bundle decided differently from the active one, from the journal. */
async function diff(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { since: { type: "string" }, json: { type: "boolean" }, db: { type: "string" } },
    usage,
  );
  if (typeof values.since !== "string") {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `--since is required (e.g. 2026-11-21T10:00:00Z or 24h)\nUsage: ${usage}`,
    );
  }
  const ago = parseDuration(values.since);
  const since = ago !== undefined ? Date.now() - ago : Date.parse(values.since);
  if (Number.isNaN(since)) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `--since "${values.since}": expected an ISO time or a duration like 24h`,
    );
  }
  const store = openStore(values.db, io, "read");
  try {
    const rows = withStoreError(
      store.path,
      "reading the journal failed",
      () =>
        store.database
          .prepare("SELECT event FROM journal_entries WHERE type = 'policy-decide' AND at >= ? ORDER BY at")
          .all(since) as Array<{ event: string }>,
    );
    const differences = rows
      .map((r) => JSON.parse(r.event) as RunEvent)
      .filter((e) => e.type === "policy-decide" && e.shadow?.differs === true)
      .map((e) =>
        e.type === "policy-decide"
          ? {
              at: new Date(e.at).toISOString(),
              runId: e.runId,
              taskId: e.taskId,
              kind: e.kind,
              worker: e.worker,
              ...(e.tool ? { tool: e.tool } : {}),
              active: { decision: e.decision, policyIds: e.policyIds, bundleVersion: e.bundleVersion },
              shadow: e.shadow,
            }
          : undefined,
      );
    if (values.json) io.out(`${JSON.stringify({ since: new Date(since).toISOString(), differences })}\n`);
    else if (differences.length === 0)
      io.out(`no differences between the active and shadow bundles since ${new Date(since).toISOString()}\n`);
    else {
      for (const d of differences) {
        if (d === undefined) continue;
        io.out(
          `${d.at} ${d.runId} ${d.taskId} ${d.kind} ${d.worker}${d.tool ? `.${d.tool}` : ""}: active ${d.active.decision} (${d.active.policyIds.join(", ")}) vs shadow ${d.shadow?.outcome} (${d.shadow?.policyIds.join(", ")})\n`,
        );
      }
    }
    return 0;
  } finally {
    store.close();
  }
}

export const policyCommand: Command = {
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "validate") return validate(rest, io);
    if (sub === "diff") return diff(rest, io);
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `unknown policy command "${sub ?? ""}"\nUsage: ${usage}`,
    );
  },
};
