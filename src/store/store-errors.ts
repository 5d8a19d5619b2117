import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import type { ApprovalRecord } from "./store.ts";

export function unknownRun(id: string): ArbiterError {
  return new ArbiterError(
    ErrorCode.UnknownRun,
    `no run "${id}" in this database; list runs with \`arbiter runs list\` (or check --db / ARBITER_DB)`,
    { details: { runId: id } },
  );
}

export function runExists(id: string): ArbiterError {
  return new ArbiterError(ErrorCode.InvalidArgument, `a run "${id}" already exists; use a new run id`, {
    details: { runId: id },
  });
}

export function unknownApproval(id: string): ArbiterError {
  return new ArbiterError(
    ErrorCode.UnknownApproval,
    `no approval "${id}" in this database; list pending ones with \`arbiter approvals list\``,
    { details: { approvalId: id } },
  );
}

export function approvalExists(id: string): ArbiterError {
  return new ArbiterError(ErrorCode.InvalidArgument, `an approval "${id}" already exists; use a new id`, {
    details: { approvalId: id },
  });
}

/** The error for deciding an approval that is no longer pending (or whose time ran out). */
export function notPending(approval: ApprovalRecord): ArbiterError {
  const details = { approvalId: approval.id, status: approval.status };
  if (approval.status === "expired") {
    return new ArbiterError(
      ErrorCode.ApprovalExpired,
      `approval "${approval.id}" expired${approval.expiresAt === null ? "" : ` at ${new Date(approval.expiresAt).toISOString()}`} ` +
        "and can no longer be decided; the run takes the profile's expiry outcome (supervisor.approvals.onExpire) " +
        "where it waits (at once in a running `arbiter serve`, else on `arbiter resume`)",
      { details },
    );
  }
  return new ArbiterError(
    ErrorCode.ApprovalDecided,
    `approval "${approval.id}" was already ${approval.status} by ${approval.decidedBy ?? "someone"}` +
      `${approval.decidedAt === null ? "" : ` at ${new Date(approval.decidedAt).toISOString()}`}; ` +
      "a decision cannot be changed — see it with `arbiter approvals show`",
    { details },
  );
}
