import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join, relative } from "node:path";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { JournalEntry } from "../../journal/events.ts";
import type { Journal } from "../../journal/journal.ts";
import { parseModelSpec } from "../../models/providers/parse-model-spec.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import { resolveDbPath } from "../../store/sqlite/resolve-db-path.ts";
import type { RunResult } from "../../supervisor/deliver.ts";
import type { RunOutcome } from "../../supervisor/local-runtime.ts";
import { newRunId } from "../../supervisor/run-id.ts";
import { parseFaultSpec } from "../../testing/fault-injection.ts";
import { journaledAnswer } from "../journaled-answer.ts";
import type { Command } from "../main.ts";
import { openCliRuntime } from "../open-runtime.ts";
import { type CliIo, ExitCode } from "../output.ts";
import { parse, parseContext } from "../parse.ts";
import { renderProgress } from "../progress.ts";
import { StopOnSignals } from "../stop-on-signals.ts";

const usage =
  "arbiter run <profile> <message> [--json] [--tenant T] [--context key=value]... [--model provider:model]... [--db path] [--detach] [--inject latency=100ms,fail=0.2,seed=7] [--quiet]";

/** The JSON a run prints: the result plus each task's tool calls, read back from the journal. */
/** The policy decisions of a run, as `run --json` prints them. */
export function decisionsOf(entries: readonly JournalEntry[]) {
  const decisions = [];
  for (const { event } of entries) {
    if (event.type !== "policy-decide") continue;
    const { kind, taskId, worker, tool, decision, policyIds, reason, bundleVersion } = event;
    decisions.push({
      kind,
      taskId,
      worker,
      ...(tool ? { tool } : {}),
      decision,
      policyIds,
      reason,
      bundleVersion,
    });
  }
  return decisions;
}

export function runJson(result: RunResult, entries: readonly JournalEntry[]) {
  const calls = new Map<
    string,
    Array<{ tool: string; ok: boolean; durationMs: number; replayed: boolean }>
  >();
  const decisions = decisionsOf(entries);
  for (const { event } of entries) {
    if (event.type !== "tool-call-end") continue;
    const list = calls.get(event.taskId) ?? [];
    list.push({
      tool: event.tool,
      ok: event.ok,
      durationMs: Math.round(event.durationMs * 100) / 100,
      replayed: event.replayed,
    });
    calls.set(event.taskId, list);
  }
  return {
    runId: result.runId,
    status: result.status,
    profile: result.profile.name,
    profileVersion: result.profile.version,
    tenant: result.tenant,
    plan: result.plan,
    tasks: result.tasks.map((t) => ({ ...t, toolCalls: calls.get(t.id) ?? [], toolCallCount: t.toolCalls })),
    pending: result.pending,
    decisions,
    answer: result.answer,
    usage: result.usage,
    durationMs: result.durationMs,
  };
}

/** Prints what a run that stopped to wait for a person is waiting for. */
export function printOutcome(io: CliIo, outcome: RunOutcome, json: boolean, journal: Journal): number {
  if ("answer" in outcome) {
    if (json) io.out(`${JSON.stringify(runJson(outcome, journal.read(outcome.runId)), null, 2)}\n`);
    else {
      io.out(`\n${outcome.answer}\n`);
      if (outcome.pending.length > 0) {
        io.out(
          `\nPending human review: ${outcome.pending.map((p) => `${p.taskId} (${p.worker})`).join(", ")}\n`,
        );
      }
    }
    return outcome.status === "completed" ? ExitCode.Ok : ExitCode.RunNotCompleted;
  }
  if (json) {
    io.out(
      `${JSON.stringify({ ...outcome, decisions: decisionsOf(journal.read(outcome.runId)) }, null, 2)}\n`,
    );
  } else {
    io.out(`\nRun ${outcome.runId} is waiting for a person:\n`);
    for (const p of outcome.pending) io.out(`  ${p.approvalId}  ${p.taskId} ${p.worker}: ${p.reason}\n`);
    io.out("Decide with `arbiter approvals approve|deny <id> --by <name>`, then `arbiter resume`.\n");
  }
  return ExitCode.RunNotCompleted;
}

export const runCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        json: { type: "boolean" },
        quiet: { type: "boolean", short: "q" },
        tenant: { type: "string" },
        context: { type: "string", multiple: true },
        model: { type: "string", multiple: true },
        db: { type: "string" },
        detach: { type: "boolean" },
        "run-id": { type: "string" },
        inject: { type: "string" },
        // Internal: the process `--detach` starts tells its parent when the run is on record.
        "report-start": { type: "boolean" },
      },
      usage,
    );
    const [file, ...words] = positionals;
    if (file === undefined || words.length === 0) {
      io.err(`Usage: ${usage}\n`);
      return ExitCode.BadInput;
    }
    // Checked before anything starts (a detached run would only fail in the background).
    for (const spec of (values.model as string[] | undefined) ?? []) parseModelSpec(spec);
    const context = parseContext((values.context as string[] | undefined) ?? []);
    const profile = await loadProfile(file, { env: io.env });
    if (typeof values.inject === "string") parseFaultSpec(values.inject);
    if (values.detach) {
      await profile.close();
      return detach(args, io, resolveDbPath(values.db as string | undefined, io.env), {
        json: values.json === true,
        quiet: values.quiet === true,
      });
    }
    const runtime = await openCliRuntime(profile, io, {
      dbPath: resolveDbPath(values.db as string | undefined, io.env),
      model: values.model,
      inject: values.inject,
    });
    // Ctrl-C or SIGTERM stops the run where it is (unfinished, its lease released): `arbiter resume`
    // continues it. A second signal ends the process at once.
    const stop = new StopOnSignals();
    let runId: string | undefined;
    try {
      for (const warning of runtime.supervisor.warnings) io.err(`warning: ${warning}\n`);
      const live = !values.json && !values.quiet;
      let unsubscribe = () => {};
      const outcome = await runtime
        .run(
          {
            message: words.join(" "),
            ...(values.tenant === undefined ? {} : { tenant: values.tenant as string }),
            context,
          },
          {
            ...(typeof values["run-id"] === "string" ? { runId: values["run-id"] } : {}),
            signal: stop.signal,
            onStart: (id) => {
              runId = id;
              if (values["report-start"]) reportStart(runtime.journal, id);
              if (!live) return;
              unsubscribe = runtime.journal.subscribe((entry) => {
                const line = renderProgress(entry, io.isTty);
                if (line !== undefined) io.err(`${line}\n`);
              }, id);
            },
          },
        )
        .catch((error: unknown) => {
          if (stop.by === undefined) throw error;
          return undefined;
        });
      unsubscribe();
      if (outcome === undefined) {
        const id = runId ?? "the run";
        io.err(`arbiter: stopped by ${stop.by}; ${id} is unfinished: \`arbiter resume\` continues it\n`);
        if (values.json)
          io.out(`${JSON.stringify({ runId: runId ?? null, status: "stopped", signal: stop.by })}\n`);
        return stop.exitCode;
      }
      // The detached process writes to a log file, not to the requester: the answer as the journal keeps
      // it (personal data as tokens), as `serve` logs it.
      const shown =
        values["report-start"] === true && "answer" in outcome
          ? { ...outcome, answer: journaledAnswer(runtime.journal.read(outcome.runId)) }
          : outcome;
      return printOutcome(io, shown, values.json === true, runtime.journal);
    } finally {
      stop.dispose();
      await runtime.close();
      await profile.close();
    }
  },
};

/**
 * `run --detach`: the run goes on in a background process of its own. This one returns once that
 * process has the run on record (its id then works with `runs show` and `resume`), or, when it could
 * not start it (credentials, database, input), relays why with its exit code. The background
 * process writes to `logs/<run-id>.log` beside the database.
 */
async function detach(
  args: string[],
  io: CliIo,
  dbPath: string,
  { json, quiet }: { json: boolean; quiet: boolean },
): Promise<number> {
  if (dbPath === ":memory:")
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      "--detach needs a database file (the run goes on in another process), and --db / ARBITER_DB say :memory:; name a file",
      { details: { field: "db" } },
    );
  const runId = newRunId();
  const logs = join(dirname(dbPath), "logs");
  let log: number;
  const madeLogs = !existsSync(logs);
  try {
    mkdirSync(logs, { recursive: true });
    log = openSync(join(logs, `${runId}.log`), "a", 0o600);
  } catch (cause) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `cannot write the detached run's log in ${logs}: ${(cause as Error).message}; choose another --db`,
      { cause, details: { field: "db" } },
    );
  }
  const logFile = join(logs, `${runId}.log`);
  const rest = args.filter((a) => a !== "--detach");
  const child = spawn(
    process.execPath,
    [process.argv[1]!, "run", ...rest, "--run-id", runId, "--quiet", "--report-start"],
    { detached: true, stdio: ["ignore", log, log, "ipc"], env: io.env as NodeJS.ProcessEnv },
  );
  closeSync(log);
  // Ctrl-C (or SIGTERM) before the run is on record stops it there too: the background process is in a
  // process group of its own, so it is told; it says what became of the run, relayed below.
  // Once it is on record, a signal no longer stops it: this process only finishes saying its id.
  let started = false;
  const forward = (signal: NodeJS.Signals) => {
    if (!started) child.kill(signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const outcome = await new Promise<{ started: true } | { started: false; code: number }>((resolve) => {
    child.on("message", (message: { type?: string }) => {
      if (message?.type === "started") resolve({ started: true });
    });
    // "close", not "exit": it comes after the channel has delivered every message.
    child.on("close", (code, signal) =>
      resolve({
        started: false,
        code: code ?? (signal === null ? ExitCode.RunNotCompleted : 128 + (constants.signals[signal] ?? 0)),
      }),
    );
    child.on("error", () => resolve({ started: false, code: ExitCode.RunNotCompleted }));
  });
  started = outcome.started;
  if (!outcome.started) {
    // What the background process said, as it said it (it reports errors the way every command does).
    let said = "";
    try {
      said = readFileSync(logFile, "utf8").trim();
    } catch {}
    io.err(said === "" ? `arbiter: the detached run did not start (exit ${outcome.code})\n` : `${said}\n`);
    // Said here: a run that never started leaves no log behind (nor a logs folder made for it).
    rmSync(logFile, { force: true });
    if (madeLogs) {
      try {
        rmdirSync(logs); // only if empty: another run may have written there meanwhile
      } catch {}
    }
    return outcome.code;
  }
  if (child.connected) child.disconnect();
  child.unref();
  const where = relative(process.cwd(), logFile) || logFile;
  io.out(`${json ? JSON.stringify({ runId, status: "running", detached: true, log: logFile }) : runId}\n`);
  if (!json && !quiet) io.err(`running in the background (pid ${child.pid}); its output goes to ${where}\n`);
  return ExitCode.Ok;
}

/** In the process `--detach` started: tells the parent once the run is on record, then lets it go. */
function reportStart(journal: Journal, runId: string): void {
  if (typeof process.send !== "function") return;
  const unsubscribe = journal.subscribe((entry) => {
    if (entry.event.type !== "run-start") return;
    unsubscribe();
    process.send!({ type: "started", runId }, () => process.disconnect?.());
  }, runId);
}
