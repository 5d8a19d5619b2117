import { existsSync } from "node:fs";
import type { z } from "zod";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { openEmbeddedShield } from "../../guard/embedded-shield.ts";
import type { ApprovalSubject } from "../../journal/events.ts";
import { SqliteJournal } from "../../journal/sqlite/sqlite-journal.ts";
import { loadProfile, type Profile } from "../../profile/load-profile.ts";
import type { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import { APPROVAL_STATUSES, type ApprovalRecord, effectiveStatus } from "../../store/store.ts";
import { protectDecision } from "../../supervisor/approval.ts";
import { checkEdit, checkToolEdit, subjectOf } from "../../supervisor/approval-edit.ts";
import { companionFiles } from "../../supervisor/companion-files.ts";
import type { Command } from "../main.ts";
import { openStore } from "../open-store.ts";
import type { CliIo } from "../output.ts";
import { oneOf, parse, positiveInteger } from "../parse.ts";

const usage = [
  "arbiter approvals list [--status pending|approved|denied|expired] [--limit N] [--json] [--db path]   (oldest first; N defaults to 100)",
  "       arbiter approvals show <id> [--json] [--db path]",
  "       arbiter approvals approve <id> --by <name> [--reason text] [--edit json] [--db path]",
  "       arbiter approvals deny <id> --by <name> --reason <text> [--edit json] [--db path]",
  "",
  '  --edit on approve of a tool call held by policy: the arguments to change ({"amount": 40}).',
  "  --edit on approve of a worker's answer: the answer as corrected ({summary?, data?}).",
  "  --edit on approve of a delegation held for review: the task's input, as a JSON string.",
  "  --edit on deny of a call left in doubt: the call's result as found in the real system.",
].join("\n");

const when = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());

/** What is decided; while it is pending, with what `--edit` would change. */
function describeSubject(subject: ApprovalSubject, pending: boolean): string {
  const hint = (text: string) => (pending ? ` (${text})` : "");
  switch (subject.kind) {
    case "tool-call":
      return `tool call ${subject.tool} ${JSON.stringify(subject.input)}${hint(`approve --edit '{"<argument>": …}' changes arguments`)}`;
    case "in-doubt":
      return `tool call ${subject.tool} ${JSON.stringify(subject.input)} left in doubt, idempotency key ${subject.idempotencyKey}${hint("deny --edit <result> records what it did")}`;
    case "answer":
      return `a worker's answer${hint(`approve --edit '{"summary": "…"}' corrects it`)}`;
    case "delegation":
      return `a delegation, input ${JSON.stringify(subject.input)}${hint(`approve --edit '"<input>"' replaces it`)}`;
  }
}

function describe(a: ApprovalRecord, subject: ApprovalSubject | undefined, now: number): string {
  return [
    `approval ${a.id}  ${effectiveStatus(a, now)}`,
    `  run      ${a.runId}  task ${a.taskId}  worker ${a.worker}`,
    `  asks     ${a.reason}`,
    ...(subject === undefined
      ? []
      : [`  about    ${describeSubject(subject, effectiveStatus(a, now) === "pending")}`]),
    `  created  ${when(a.createdAt)}   expires ${when(a.expiresAt)}`,
    ...(a.decidedBy
      ? [
          `  decided  ${when(a.decidedAt)} by ${a.decidedBy}${a.decisionReason ? `: ${a.decisionReason}` : ""}`,
        ]
      : []),
    ...(a.edit !== null && a.edit !== undefined ? [`  edit     ${JSON.stringify(a.edit)}`] : []),
  ].join("\n");
}

function found(store: SqliteStore, id: string | undefined): ApprovalRecord {
  if (id === undefined)
    throw new ArbiterError(ErrorCode.InvalidArgument, `an approval id is required\nUsage: ${usage}`);
  const approval = store.getApproval(id);
  if (approval === undefined) {
    throw new ArbiterError(
      ErrorCode.UnknownApproval,
      `no approval "${id}"; \`arbiter approvals list\` shows the pending ones`,
    );
  }
  return approval;
}

/**
 * A person's reason and edit as the run may hold them: tokenised with the PII vault beside the database
 * when its runs use one (the runtime made it; never a new key here), else as typed.
 */
async function protectedWords(
  store: SqliteStore,
  runId: string,
  io: CliIo,
  words: { reason?: string; edit?: unknown },
): Promise<{ reason?: string; edit?: unknown }> {
  if (words.reason === undefined && words.edit === undefined) return words;
  const companions = companionFiles(store.path, { env: io.env, databaseExisted: true });
  if (!existsSync(companions.vault)) return words;
  for (const note of [companions.notes.vault, companions.notes.vaultKeyFile])
    if (note !== undefined) io.err(`arbiter: note: ${note}\n`);
  const shield = await openEmbeddedShield({
    env: io.env,
    vaultPath: companions.vault,
    vaultKeyFile: companions.vaultKeyFile,
    generate: false,
  });
  try {
    return await protectDecision(shield.shield, store.getRun(runId)?.tenant ?? "default", words);
  } finally {
    await shield.close();
  }
}

/**
 * The input schema of a held call's tool in the profile the run resumes on (the file its record names,
 * as it is now): undefined, with a note, when that profile does not load here — the run checks the
 * edit when it makes the call.
 */
async function toolInputOf(
  store: SqliteStore,
  a: ApprovalRecord,
  tool: string,
  io: CliIo,
): Promise<z.ZodType | undefined> {
  const file = (store.getRun(a.runId)?.request as { profileFile?: unknown } | undefined)?.profileFile;
  const unchecked = (why: string) => {
    io.err(
      `arbiter: note: the edit was checked against the call, not against ${tool}'s input schema (${why}); ` +
        "the run checks it when it makes the call\n",
    );
    return undefined;
  };
  if (typeof file !== "string") return unchecked("the run does not name its profile file");
  let profile: Profile;
  try {
    profile = await loadProfile(file, { env: io.env });
  } catch (error) {
    return unchecked(`its profile did not load: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return profile.tools.get(tool)?.input ?? unchecked(`${file} has no tool ${tool} now`);
  } finally {
    await profile.close();
  }
}

export const approvalsCommand: Command = {
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
        by: { type: "string" },
        reason: { type: "string" },
        edit: { type: "string" },
      },
      usage,
    );
    const store = openStore(values.db, io, sub === "list" || sub === "show" ? "read" : "write");
    try {
      const now = Date.now();
      if (sub === "list") {
        if (positionals.length > 0)
          throw new ArbiterError(
            ErrorCode.InvalidArgument,
            `approvals list takes no arguments (got "${positionals.join(" ")}"); \`arbiter approvals show <id>\` shows one\nUsage: ${usage}`,
          );
        const status = oneOf("status", values.status, APPROVAL_STATUSES, usage) ?? "pending";
        const limit = positiveInteger("limit", values.limit, 100, usage);
        // By status as of now: a pending request past its expiry is listed as expired.
        const stored =
          status === "expired"
            ? [...store.listApprovals({ status: "expired" }), ...store.listApprovals({ status: "pending" })]
            : store.listApprovals({ status });
        // What each asks about (a held call's tool and arguments), from its run's journal: read once a run.
        const journal = new SqliteJournal(store);
        const entries = new Map<string, ReturnType<SqliteJournal["read"]>>();
        const entriesOf = (runId: string) => {
          const read = entries.get(runId) ?? journal.read(runId);
          entries.set(runId, read);
          return read;
        };
        const matching = stored
          .filter((a) => effectiveStatus(a, now) === status)
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
        // The oldest first (the first to expire), and only those shown have their runs' journals read.
        const list = matching.slice(0, limit).map((a) => {
          const subject = subjectOf(entriesOf(a.runId), a);
          return { ...a, status: effectiveStatus(a, now), ...(subject ? { subject } : {}) };
        });
        if (values.json) io.out(`${JSON.stringify(list)}\n`);
        else if (list.length === 0) io.out(`no ${status} approvals\n`);
        else {
          for (const a of list) {
            io.out(`${a.id}  ${a.status.padEnd(8)} ${a.runId} ${a.taskId} ${a.worker}: ${a.reason}\n`);
            if (a.subject?.kind === "tool-call" || a.subject?.kind === "in-doubt")
              io.out(`    ${a.subject.tool} ${JSON.stringify(a.subject.input)}\n`);
          }
          if (matching.length > limit)
            io.err(
              `arbiter: note: the oldest ${limit} of ${matching.length} ${status} approvals; --limit N shows N\n`,
            );
        }
        return 0;
      }
      if (sub === "show") {
        if (positionals.length > 1)
          throw new ArbiterError(
            ErrorCode.InvalidArgument,
            `approvals show takes one approval id (got "${positionals.join(" ")}")\nUsage: ${usage}`,
          );
        const a = found(store, positionals[0]);
        const subject = subjectOf(new SqliteJournal(store).read(a.runId), a);
        io.out(
          values.json
            ? `${JSON.stringify({ ...a, status: effectiveStatus(a, now), ...(subject ? { subject } : {}) })}\n`
            : `${describe(a, subject, now)}\n`,
        );
        return 0;
      }
      if (sub === "approve" || sub === "deny") {
        const a = found(store, positionals[0]);
        if (typeof values.by !== "string" || values.by.trim() === "") {
          throw new ArbiterError(
            ErrorCode.InvalidArgument,
            `--by <name> is required: who decides is journaled\nUsage: ${usage}`,
          );
        }
        if (sub === "deny" && typeof values.reason !== "string") {
          throw new ArbiterError(ErrorCode.InvalidArgument, `--reason is required to deny\nUsage: ${usage}`);
        }
        let edit: unknown;
        if (typeof values.edit === "string") {
          try {
            edit = JSON.parse(values.edit);
          } catch (cause) {
            throw new ArbiterError(
              ErrorCode.InvalidArgument,
              `--edit: not valid JSON (${(cause as Error).message})`,
            );
          }
        }
        if (edit !== undefined) {
          const subject = subjectOf(new SqliteJournal(store).read(a.runId), a);
          const decision = sub === "approve" ? "approved" : "denied";
          checkEdit(subject, decision, edit);
          // Then against the tool's own schema, in the profile the run resumes on (a request decided
          // or expired already is refused as such below, with no profile loaded for it).
          if (
            subject?.kind === "tool-call" &&
            decision === "approved" &&
            effectiveStatus(a, now) === "pending"
          ) {
            const toolInput = await toolInputOf(store, a, subject.tool, io);
            if (toolInput !== undefined) checkToolEdit(subject, edit, toolInput);
          }
        }
        // Personal data in the reason or the edit becomes tokens of the run's tenant before anything
        // stores it, as in the run's own request (the run's tools get the values back).
        const words = await protectedWords(store, a.runId, io, {
          ...(typeof values.reason === "string" ? { reason: values.reason } : {}),
          ...(edit === undefined ? {} : { edit }),
        });
        // The decision and its signal commit together; the waiting run takes it up (here, or when resumed).
        const decided = store.decideApproval(a.id, {
          status: sub === "approve" ? "approved" : "denied",
          by: values.by,
          ...words,
          at: Date.now(),
        });
        io.out(
          values.json
            ? `${JSON.stringify(decided)}\n`
            : `${decided.id} ${decided.status} by ${decided.decidedBy}; run ${decided.runId} resumes with \`arbiter resume\` (at once in a running \`arbiter serve\`)\n`,
        );
        return 0;
      }
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `unknown approvals command "${sub ?? ""}"\nUsage: ${usage}`,
      );
    } finally {
      store.close();
    }
  },
};
