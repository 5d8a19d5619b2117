import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { SqliteJournal } from "../../journal/sqlite/sqlite-journal.ts";
import { effectiveStatus, RUN_STATUSES, recordedModels } from "../../store/store.ts";
import type { Command } from "../main.ts";
import { openStore } from "../open-store.ts";
import { oneOf, parse, positiveInteger } from "../parse.ts";
import { renderProgress } from "../progress.ts";
import { describeTask, taskStates } from "../task-states.ts";

const usage = [
  "arbiter runs list [--status S] [--limit N] [--json] [--db path]   (newest first; N defaults to 100)",
  "       arbiter runs show <id> [--json] [--db path]",
].join("\n");

export const runsCommand: Command = {
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    const { values, positionals } = parse(
      rest,
      {
        json: { type: "boolean" },
        db: { type: "string" },
        status: { type: "string" },
        limit: { type: "string" },
      },
      usage,
    );
    // Arguments are checked before the database is opened: a typo is said as such.
    if (sub === "list" && positionals.length > 0)
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `runs list takes no arguments (got "${positionals.join(" ")}"); \`arbiter runs show <id>\` shows one\nUsage: ${usage}`,
      );
    if (sub === "show" && positionals[0] === undefined)
      throw new ArbiterError(ErrorCode.InvalidArgument, `a run id is required\nUsage: ${usage}`);
    if (sub !== "list" && sub !== "show")
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `unknown runs command "${sub ?? ""}"\nUsage: ${usage}`,
      );
    if (sub === "show" && positionals.length > 1)
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `runs show takes one run id (got "${positionals.join(" ")}")\nUsage: ${usage}`,
      );
    const status = oneOf("status", values.status, RUN_STATUSES, usage);
    const limit = positiveInteger("limit", values.limit, 100, usage);
    const store = openStore(values.db, io, "read");
    try {
      if (sub === "list") {
        // One more than shown: whether there are more to say so.
        const found = store.listRuns({ ...(status === undefined ? {} : { status }), limit: limit + 1 });
        const runs = found.slice(0, limit);
        if (values.json) io.out(`${JSON.stringify(runs.map(({ request: _r, ...run }) => run))}\n`);
        else if (runs.length === 0) io.out("no runs\n");
        else {
          for (const r of runs) {
            io.out(
              `${r.id}  ${r.status.padEnd(9)} ${new Date(r.createdAt).toISOString()}  ${r.tenant}  ${r.profile.name}@${r.profile.version.slice(0, 12)}\n`,
            );
          }
          if (found.length > limit)
            io.err(
              `arbiter: note: the newest ${limit} ${status ?? ""}${status ? " " : ""}runs; there are more: --limit N shows N\n`,
            );
        }
        return 0;
      }
      // sub === "show", with one id (checked above)
      const id = positionals[0]!;
      const run = store.getRun(id);
      if (run === undefined) {
        throw new ArbiterError(ErrorCode.UnknownRun, `no run "${id}"; \`arbiter runs list\` shows the runs`);
      }
      const events = new SqliteJournal(store).read(run.id);
      const plan = events.map((e) => e.event).find((e) => e.type === "plan-create");
      // Every planned task and where it stands (ended, waiting for a person, running, not started).
      const tasks = taskStates(events.map((e) => e.event));
      const steps = store.loadSteps(run.id).map(({ result: _r, ...s }) => s);
      // As of now: a pending request past its expiry shows as expired (as `approvals list` shows it).
      const now = Date.now();
      const approvals = store
        .listApprovals({ runId: run.id })
        .map((a) => ({ ...a, status: effectiveStatus(a, now) }));
      const { request, ...rest } = run;
      // Where it resumes from: its profile file and the --model specs it runs on (none: the profile's).
      const { profileFile } = request as { profileFile?: string };
      const record = { ...rest, profileFile: profileFile ?? null, models: recordedModels(run) };
      if (values.json) {
        io.out(
          `${JSON.stringify({ run: record, plan: plan?.type === "plan-create" ? plan.tasks : [], tasks, steps, approvals, events })}\n`,
        );
        return 0;
      }
      io.out(
        `run ${run.id}  ${run.status}  tenant ${run.tenant}  profile ${run.profile.name}@${run.profile.version.slice(0, 12)}\n`,
      );
      if (record.models.length > 0) io.out(`models: ${record.models.join(" ")}\n`);
      io.out(`steps: ${steps.length} (${steps.filter((s) => s.state === "completed").length} completed)\n`);
      if (tasks.length > 0) {
        io.out("tasks:\n");
        for (const task of tasks) io.out(`  ${describeTask(task)}\n`);
      }
      for (const a of approvals) io.out(`approval ${a.id} ${a.status}: ${a.reason}\n`);
      io.out("events:\n");
      for (const entry of events) {
        const line = renderProgress(entry, false);
        io.out(`${String(entry.seq).padStart(4)} ${line ?? `  ${entry.event.type}`}\n`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
