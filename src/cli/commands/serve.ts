import { ArbiterError, describeError, ErrorCode } from "../../errors/arbiter-error.ts";
import { parseDuration } from "../../profile/duration.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import { resolveDbPath } from "../../store/sqlite/resolve-db-path.ts";
import type { RunOutcome } from "../../supervisor/local-runtime.ts";
import { journaledAnswer } from "../journaled-answer.ts";
import type { Command } from "../main.ts";
import { openCliRuntime } from "../open-runtime.ts";
import { ExitCode } from "../output.ts";
import { parse } from "../parse.ts";
import { renderProgress } from "../progress.ts";

const usage =
  "arbiter serve <profile> [--db path] [--model provider:model]... [--interval 250ms] [--concurrency 64] [--inject latency=100ms,fail=0.2,seed=7] [--json] [--quiet]";

function positive(
  name: string,
  text: unknown,
  fallback: number,
  parseValue: (t: string) => number | undefined,
  like: string,
) {
  if (typeof text !== "string") return fallback;
  const value = parseValue(text);
  if (value === undefined || !Number.isFinite(value) || value <= 0) {
    throw new ArbiterError(ErrorCode.InvalidArgument, `--${name}: "${text}" is not ${like}\nUsage: ${usage}`);
  }
  return value;
}

/**
 * `arbiter serve`: the long-running process of the embedded runtime. On start it resumes every
 * unfinished run of the profile that no live process holds; from then on it takes up runs whose
 * process died and waiting runs as soon as a person decides (`arbiter approvals approve|deny` from any
 * shell) or an approval expires. SIGINT/SIGTERM stop it; runs in flight stay unfinished and resume on
 * the next start.
 */
export const serveCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        db: { type: "string" },
        model: { type: "string", multiple: true },
        interval: { type: "string" },
        concurrency: { type: "string" },
        inject: { type: "string" },
        json: { type: "boolean" },
        quiet: { type: "boolean", short: "q" },
      },
      usage,
    );
    const [file, ...extra] = positionals;
    if (file === undefined || extra.length > 0) {
      io.err(`Usage: ${usage}\n`);
      return ExitCode.BadInput;
    }
    const intervalMs = positive(
      "interval",
      values.interval,
      250,
      parseDuration,
      'a duration like "250ms" or "2s"',
    );
    const concurrency = Math.floor(
      positive("concurrency", values.concurrency, 64, (t) => Number(t), "a positive whole number"),
    );
    const profile = await loadProfile(file, { env: io.env });
    const dbPath = resolveDbPath(values.db as string | undefined, io.env);
    const runtime = await openCliRuntime(profile, io, { dbPath, model: values.model, inject: values.inject });
    const json = values.json === true;
    const say = (line: Record<string, unknown>, text: string) =>
      json ? io.out(`${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`) : io.err(`${text}\n`);
    let unsubscribe = () => {};
    try {
      for (const warning of runtime.supervisor.warnings) io.err(`warning: ${warning}\n`);
      if (!json && !values.quiet) {
        unsubscribe = runtime.journal.subscribe((entry) => {
          const line = renderProgress(entry, io.isTty);
          if (line !== undefined) io.err(`${line}\n`);
        });
      }
      say(
        {
          event: "serving",
          profile: profile.document.name,
          version: profile.version,
          db: dbPath,
          pid: process.pid,
        },
        `arbiter serve: ${profile.document.name}@${profile.version.slice(0, 12)} on ${dbPath} (pid ${process.pid}); stop with Ctrl-C`,
      );
      const stopped = new Promise<string>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      const watch = runtime.watch({
        intervalMs,
        concurrency,
        onOutcome: ({ runId, outcome, error }) => {
          if (error !== undefined) {
            say(
              { event: "error", runId, error: describeError(error) },
              `${runId}  error  ${describeError(error)}`,
            );
            return;
          }
          const o = outcome as RunOutcome;
          if ("answer" in o) {
            // A server's log is not the requester: the answer as the journal keeps it, personal data as
            // tokens (the requester's own, e.g. an email, is revealed only to whoever ran the request).
            const [first, ...more] = journaledAnswer(runtime.journal.read(runId)).split("\n");
            say(
              { event: "finished", runId, status: o.status },
              [`${runId}  ${o.status}  ${first ?? ""}`, ...more.map((line) => `    ${line}`)].join("\n"),
            );
          } else {
            say(
              { event: "waiting", runId, approvals: o.pending.map((p) => p.approvalId) },
              `${runId}  waiting  ${o.pending.map((p) => `${p.approvalId} (${p.worker})`).join(", ")}`,
            );
          }
        },
        onError: (error) =>
          say({ event: "warning", error: describeError(error) }, `warning: ${describeError(error)}`),
        onWarning: (runId, message) =>
          say({ event: "warning", runId, warning: message }, `warning: ${message}`),
      });
      const why = await stopped;
      say(
        { event: "stopping", signal: why },
        `arbiter serve: ${why}, stopping (runs in flight resume on the next start)`,
      );
      await watch.stop();
      return ExitCode.Ok;
    } finally {
      unsubscribe();
      await runtime.close();
      await profile.close();
    }
  },
};
