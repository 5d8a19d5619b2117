import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { parseModelSpec } from "../../models/providers/parse-model-spec.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import { resolveDbPath } from "../../store/sqlite/resolve-db-path.ts";
import { type RunRecord, recordedModels, UNFINISHED_RUN_STATUSES } from "../../store/store.ts";
import type { RunOutcome } from "../../supervisor/local-runtime.ts";
import { parseFaultSpec } from "../../testing/fault-injection.ts";
import type { Command } from "../main.ts";
import { openCliRuntime, recordableSpecs } from "../open-runtime.ts";
import { openStore } from "../open-store.ts";
import { ExitCode } from "../output.ts";
import { parse, positiveInteger } from "../parse.ts";
import { StopOnSignals } from "../stop-on-signals.ts";

const usage =
  "arbiter resume [--run <id>] [--concurrency N] [--json] [--db path] [--model provider:model]... [--inject latency=100ms,fail=0.2,seed=7]";

/** Runs taken up at once by default: each holds its lease, its heartbeat and its state in memory. */
const DEFAULT_CONCURRENCY = 64;

/**
 * `arbiter resume`: continues every unfinished run (or one) from its last completed step, and returns
 * when each has finished or waits for a person.
 */
export const resumeCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(
      args,
      {
        run: { type: "string" },
        concurrency: { type: "string" },
        json: { type: "boolean" },
        db: { type: "string" },
        model: { type: "string", multiple: true },
        inject: { type: "string" },
      },
      usage,
    );
    // Checked before anything starts, whether or not a run is there to resume on them.
    const concurrency = positiveInteger("concurrency", values.concurrency, DEFAULT_CONCURRENCY, usage);
    for (const spec of (values.model as string[] | undefined) ?? []) parseModelSpec(spec);
    if (typeof values.inject === "string") parseFaultSpec(values.inject);
    const dbPath = resolveDbPath(values.db as string | undefined, io.env);
    const probe = openStore(values.db, io);
    let runs: RunRecord[];
    try {
      if (typeof values.run === "string") {
        const run = probe.getRun(values.run);
        if (run === undefined) throw new ArbiterError(ErrorCode.UnknownRun, `no run "${values.run}"`);
        runs = [run];
      } else runs = probe.listUnfinished();
    } finally {
      probe.close();
    }
    const results: Array<{ runId: string; status: string; detail?: string }> = [];
    // `--run` names a run that ended already: nothing to do, and said so (with how it ended).
    runs = runs.filter((run) => {
      if (UNFINISHED_RUN_STATUSES.includes(run.status)) return true;
      results.push({ runId: run.id, status: run.status, detail: "already finished: nothing to resume" });
      return false;
    });
    // Each run resumes on the models it ran on (its recorded `--model` specs) unless --model is given.
    const given = (values.model as string[] | undefined) ?? [];
    const byProfile = new Map<string, { file: string; models: string[]; runs: RunRecord[] }>();
    for (const run of runs) {
      const file = (run.request as { profileFile?: string }).profileFile ?? "";
      const recorded = recordedModels(run);
      if (given.length > 0 && recorded.length > 0 && recordableSpecs(given).join(" ") !== recorded.join(" "))
        io.err(
          `warning: ${run.id} ran on --model ${recorded.join(" ")}; resuming it on ${given.join(" ")} as asked\n`,
        );
      const models = given.length > 0 ? given : recorded;
      const key = JSON.stringify([file, models]);
      const group = byProfile.get(key) ?? { file, models, runs: [] };
      group.runs.push(run);
      byProfile.set(key, group);
    }
    // Ctrl-C or SIGTERM stops the runs where they are (unfinished, their leases released); a second
    // signal ends the process at once.
    const stop = new StopOnSignals();
    try {
      // One profile at a time: each runtime commits to the run database in groups from its own connection.
      for (const { file, models, runs: group } of byProfile.values()) {
        if (stop.by !== undefined) {
          for (const record of group)
            results.push({ runId: record.id, status: "stopped", detail: `not started: ${stop.by}` });
          continue;
        }
        // A group that cannot be taken up (its profile gone or broken, a model's credentials missing)
        // is reported run by run; the other groups resume all the same.
        let profile: Awaited<ReturnType<typeof loadProfile>> | undefined;
        let runtime: Awaited<ReturnType<typeof openCliRuntime>>;
        try {
          profile = await loadProfile(file, { env: io.env });
          runtime = await openCliRuntime(profile, io, { dbPath, model: models, inject: values.inject });
        } catch (error) {
          await profile?.close();
          const why = `cannot resume: ${(error as Error).message}`;
          for (const record of group) results.push({ runId: record.id, status: "error", detail: why });
          continue;
        }
        try {
          const resumeOne = async (record: RunRecord): Promise<void> => {
            if (stop.by !== undefined) {
              results.push({ runId: record.id, status: "stopped", detail: `not started: ${stop.by}` });
              return;
            }
            if (record.profile.version !== profile.version) {
              io.err(
                `warning: ${record.id} ran on profile version ${record.profile.version.slice(0, 12)}; ${file} is now ${profile.version.slice(0, 12)}\n`,
              );
            }
            // Waiting for people who have not answered yet: a resume would only park it again.
            const blocked = runtime.blockedOnPeople(record);
            if (blocked !== undefined) {
              results.push({
                runId: record.id,
                status: "waiting",
                detail: blocked.map((a) => a.id).join(", "),
              });
              return;
            }
            try {
              const outcome: RunOutcome | undefined = await runtime.resume(record, { signal: stop.signal });
              if (outcome === undefined) {
                // Another process has it: still going there (skipped), or finished meanwhile (as it ended).
                const now = runtime.store.getRun(record.id)?.status ?? record.status;
                results.push(
                  UNFINISHED_RUN_STATUSES.includes(now)
                    ? { runId: record.id, status: "skipped", detail: "another process holds it" }
                    : { runId: record.id, status: now, detail: "another process finished it meanwhile" },
                );
              } else if ("answer" in outcome)
                results.push({ runId: record.id, status: outcome.status, detail: outcome.answer });
              else
                results.push({
                  runId: record.id,
                  status: "waiting",
                  detail: outcome.pending.map((p) => p.approvalId).join(", "),
                });
            } catch (error) {
              if (stop.by !== undefined)
                results.push({ runId: record.id, status: "stopped", detail: `unfinished: ${stop.by}` });
              else results.push({ runId: record.id, status: "error", detail: (error as Error).message });
            }
          };
          // At most `concurrency` runs at once, oldest first: thousands of unfinished runs (after a crash
          // under load) are taken up in turn, not all in memory together.
          let next = 0;
          const lane = async () => {
            while (next < group.length) await resumeOne(group[next++]!);
          };
          await Promise.all(Array.from({ length: Math.min(concurrency, group.length) }, lane));
        } finally {
          await runtime.close();
          await profile.close();
        }
      }
    } finally {
      stop.dispose();
    }
    if (values.json) io.out(`${JSON.stringify({ runs: results })}\n`);
    else if (results.length === 0) io.out("no unfinished runs\n");
    else
      for (const r of results) {
        // An answer is printed whole, below its run's line; other details fit on the line.
        const [first, ...more] = (r.detail ?? "").split("\n");
        io.out(`${r.runId}  ${r.status}${first ? `  ${first}` : ""}\n`);
        for (const line of more) io.out(`    ${line}\n`);
      }
    if (stop.by !== undefined) {
      io.err(`arbiter: stopped by ${stop.by}; \`arbiter resume\` continues the unfinished runs\n`);
      return stop.exitCode;
    }
    // As `arbiter run`: 0 when every run it names is completed (or taken up by another process now),
    // 1 when one ended partial, failed or escalated, still waits for a person, or could not resume.
    return results.every((r) => r.status === "completed" || r.status === "skipped")
      ? ExitCode.Ok
      : ExitCode.RunNotCompleted;
  },
};
