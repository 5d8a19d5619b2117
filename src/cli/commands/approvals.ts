import { existsSync } from "node:fs";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { resolveDbPath } from "../../store/sqlite/resolve-db-path.ts";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import type { ApprovalRecord } from "../../store/store.ts";
import type { Command } from "../main.ts";
import type { CliIo } from "../output.ts";
import { parse } from "../parse.ts";

const usage = [
  "arbiter approvals list [--status pending|approved|denied|expired] [--json] [--db path]",
  "       arbiter approvals show <id> [--json] [--db path]",
  "       arbiter approvals approve <id> --by <name> [--reason text] [--edit json] [--db path]",
  "       arbiter approvals deny <id> --by <name> --reason <text> [--edit json] [--db path]",
  "",
  "  --edit on approve: the answer as the approver corrected it ({summary?, data?}).",
  "  --edit on deny of an in-doubt call: the call's result as found in the real system.",
].join("\n");

/** Opens the run database of a command; a missing file is an input error, not a new empty database. */
export function openStore(option: unknown, io: CliIo): SqliteStore {
  const path = resolveDbPath(typeof option === "string" ? option : undefined, io.env);
  if (!existsSync(path)) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `no run database at ${path}; pass --db or set ARBITER_DB`,
    );
  }
  return new SqliteStore({ path });
}

const when = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());

function describe(a: ApprovalRecord): string {
  return [
    `approval ${a.id}  ${a.status}`,
    `  run      ${a.runId}  task ${a.taskId}  worker ${a.worker}`,
    `  asks     ${a.reason}`,
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
        by: { type: "string" },
        reason: { type: "string" },
        edit: { type: "string" },
      },
      usage,
    );
    const store = openStore(values.db, io);
    try {
      if (sub === "list") {
        const status = (values.status ?? "pending") as ApprovalRecord["status"];
        const list = store.listApprovals({ status });
        if (values.json) io.out(`${JSON.stringify(list)}\n`);
        else if (list.length === 0) io.out(`no ${status} approvals\n`);
        else
          for (const a of list)
            io.out(`${a.id}  ${a.status.padEnd(8)} ${a.runId} ${a.taskId} ${a.worker}: ${a.reason}\n`);
        return 0;
      }
      if (sub === "show") {
        const a = found(store, positionals[0]);
        io.out(values.json ? `${JSON.stringify(a)}\n` : `${describe(a)}\n`);
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
        // The decision and its signal commit together; the waiting run takes it up (here, or when resumed).
        const decided = store.decideApproval(a.id, {
          status: sub === "approve" ? "approved" : "denied",
          by: values.by,
          ...(typeof values.reason === "string" ? { reason: values.reason } : {}),
          ...(edit === undefined ? {} : { edit }),
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
