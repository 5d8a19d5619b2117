import { LocalDurableEngine } from "../../durable/local/local-durable.ts";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { openEmbeddedShield } from "../../guard/embedded-shield.ts";
import { SqliteJournal } from "../../journal/sqlite/sqlite-journal.ts";
import { createModelResolver } from "../../models/model-resolver.ts";
import { parseModelSpec } from "../../models/providers/parse-model-spec.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import { recordedModels } from "../../store/store.ts";
import { companionFiles } from "../../supervisor/companion-files.ts";
import { replayRun } from "../../supervisor/replay.ts";
import type { Command } from "../main.ts";
import { openStore } from "../open-store.ts";
import { parse } from "../parse.ts";

const usage = "arbiter replay <run-id> [--profile <file>] [--model provider:model]... [--json] [--db path]";

export const replayCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        json: { type: "boolean" },
        db: { type: "string" },
        profile: { type: "string" },
        model: { type: "string", multiple: true },
      },
      usage,
    );
    if (positionals[0] === undefined)
      throw new ArbiterError(ErrorCode.InvalidArgument, `a run id is required\nUsage: ${usage}`);
    const given = ((values.model as string[] | undefined) ?? []).map((spec) => parseModelSpec(spec));
    const store = openStore(values.db, io, "read");
    try {
      const record = store.getRun(positionals[0]);
      if (record === undefined) {
        throw new ArbiterError(
          ErrorCode.UnknownRun,
          `no run "${positionals[0]}"; \`arbiter runs list\` shows the runs`,
        );
      }
      if (["created", "running", "waiting"].includes(record.status)) {
        throw new ArbiterError(
          ErrorCode.InvalidArgument,
          `run ${record.id} is ${record.status}; replay a finished run, or \`arbiter resume\` it`,
        );
      }
      // By default the profile the run was made with (as it is now on disk): what changed is what diverges.
      const file =
        (values.profile as string | undefined) ??
        (record.request as { profileFile?: string }).profileFile ??
        "";
      const profile = await loadProfile(file, { env: io.env });
      const engine = new LocalDurableEngine({ store });
      // The vault the run was recorded with: beside the database, as the runtime opens it.
      const companions = companionFiles(store.path, { env: io.env, databaseExisted: true });
      if (profile.document.guard.pii) {
        for (const note of [companions.notes.vault, companions.notes.vaultKeyFile])
          if (note !== undefined) io.err(`arbiter: note: ${note}\n`);
      }
      const shield = profile.document.guard.pii
        ? await openEmbeddedShield({
            env: io.env,
            vaultPath: companions.vault,
            vaultKeyFile: companions.vaultKeyFile,
            revealToRequester: profile.document.guard.revealToRequester,
            // A replay records nothing, in the vault either: it reads it (as an auditor, or on a
            // read-only mount, can), and a token it would mint for a value never seen stays in memory.
            readOnly: true,
          })
        : undefined;
      try {
        const report = await replayRun({
          record,
          profile,
          store,
          engine,
          recorded: new SqliteJournal(store).read(record.id),
          // On the models the run was made with (its recorded `--model` specs), as `resume` does: a run
          // made on LLM workers replays on them (their recorded answers), not on the code handlers.
          models: createModelResolver(profile, {
            env: io.env,
            overrides: given.length > 0 ? given : recordedModels(record).map((spec) => parseModelSpec(spec)),
          }),
          ...(shield ? { shield: shield.shield } : {}),
        });
        if (values.json) io.out(`${JSON.stringify(report)}\n`);
        else if (report.identical) {
          io.out(
            `replay of ${report.runId}: routing, plan and ${report.steps} steps identical (profile ${report.replayedProfile.slice(0, 12)})\n`,
          );
        } else {
          io.out(
            `replay of ${report.runId} diverges (recorded with profile ${report.recordedProfile.slice(0, 12)}, replayed with ${report.replayedProfile.slice(0, 12)}):\n`,
          );
          for (const d of report.divergences) io.out(`  - ${d}\n`);
        }
        return report.identical ? 0 : 1;
      } finally {
        engine.close();
        await shield?.close();
        await profile.close();
      }
    } finally {
      store.close();
    }
  },
};
