import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createSqliteLedger } from "../../budget/sqlite/sqlite-ledger.ts";
import { openEmbeddedShield } from "../../guard/embedded-shield.ts";
import type { JournalEntry } from "../../journal/events.ts";
import { createModelResolver } from "../../models/model-resolver.ts";
import { createProfileGateway } from "../../models/profile-gateway.ts";
import { parseModelSpec } from "../../models/providers/parse-model-spec.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import type { RunResult } from "../../supervisor/deliver.ts";
import { createSupervisor } from "../../supervisor/supervisor.ts";
import { dbPath } from "../db-path.ts";
import type { Command } from "../main.ts";
import { ExitCode } from "../output.ts";
import { parse, parseContext } from "../parse.ts";
import { renderProgress } from "../progress.ts";

const usage =
  "arbiter run <profile> <message> [--json] [--tenant T] [--context key=value]... [--model provider:model]... [--db path] [--quiet]";

/** The JSON a run prints: the result plus each task's tool calls, read back from the journal. */
export function runJson(result: RunResult, entries: readonly JournalEntry[]) {
  const calls = new Map<
    string,
    Array<{ tool: string; ok: boolean; durationMs: number; replayed: boolean }>
  >();
  const decisions = [];
  for (const { event } of entries) {
    if (event.type === "policy-decide") {
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

export const runCommand: Command = {
  name: "run",
  summary: "run one request through a profile and print the answer",
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
      },
      usage,
    );
    const [file, ...words] = positionals;
    if (file === undefined || words.length === 0) {
      io.err(`Usage: ${usage}\n`);
      return ExitCode.BadInput;
    }
    const overrides = ((values.model as string[] | undefined) ?? []).map(parseModelSpec);
    const context = parseContext((values.context as string[] | undefined) ?? []);
    const profile = await loadProfile(file, { env: io.env });
    const closers: Array<() => unknown> = [];
    try {
      const guard = profile.document.guard;
      const embedded = guard.pii
        ? await openEmbeddedShield({ env: io.env, revealToRequester: guard.revealToRequester })
        : undefined;
      closers.push(() => embedded?.close());
      // Spend is recorded in the run database, so a tenant's period budget holds across processes.
      mkdirSync(dirname(dbPath(values.db, io.env)), { recursive: true });
      const ledger = createSqliteLedger({ path: dbPath(values.db, io.env) });
      closers.push(() => ledger.close());
      const { gateway } = createProfileGateway(profile, { ledger });
      const supervisor = createSupervisor({
        profile,
        gateway,
        models: createModelResolver(profile, { env: io.env, overrides }),
        ...(embedded ? { shield: embedded.shield } : {}),
      });
      for (const warning of supervisor.warnings) io.err(`warning: ${warning}\n`);
      const live = !values.json && !values.quiet;
      let unsubscribe = () => {};
      const result = await supervisor.run(
        {
          message: words.join(" "),
          ...(values.tenant === undefined ? {} : { tenant: values.tenant as string }),
          context,
        },
        {
          onStart: (runId) => {
            if (!live) return;
            unsubscribe = supervisor.journal.subscribe((entry) => {
              const line = renderProgress(entry, io.isTty);
              if (line !== undefined) io.err(`${line}\n`);
            }, runId);
          },
        },
      );
      unsubscribe();
      if (values.json)
        io.out(`${JSON.stringify(runJson(result, supervisor.journal.read(result.runId)), null, 2)}\n`);
      else {
        io.out(`\n${result.answer}\n`);
        if (result.pending.length > 0) {
          io.out(
            `\nPending human review: ${result.pending.map((p) => `${p.taskId} (${p.worker})`).join(", ")}\n`,
          );
        }
      }
      return result.status === "completed" ? ExitCode.Ok : ExitCode.RunNotCompleted;
    } finally {
      for (const close of closers) await close();
      await profile.close();
    }
  },
};
