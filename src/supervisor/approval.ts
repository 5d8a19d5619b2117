import { createHash } from "node:crypto";
import type { ApprovalSubject } from "../journal/events.ts";
import { type ApprovalSignal, approvalSignalOf, approvalTopic } from "../store/store.ts";
import type { PersonDecision } from "../tools/invoke-tool.ts";
import type { Shield } from "./guards.ts";
import type { RunContext } from "./run-context.ts";

export interface ApprovalSite {
  taskId: string;
  worker: string;
  /** What the person is asked to decide, in words. */
  reason: string;
  /** Stable within the run (the same on a replay): names the approval and its durable steps. */
  key: string;
  /** What is decided (journaled with the request: what `arbiter approvals show` and `--edit` go by). */
  subject?: ApprovalSubject;
}

/** What a person decided (the tool path's `PersonDecision`): `unavailable` without a store or durable waits. */
export type ApprovalOutcome = PersonDecision;

/**
 * A person's reason and edit as a run may hold them: personal data as tokens of the run's tenant (the
 * run adopts them, so its tools get the values). What `arbiter approvals` and `LocalRuntime.decide`
 * store.
 */
export async function protectDecision(
  shield: Shield,
  tenant: string,
  words: { reason?: string; edit?: unknown },
): Promise<{ reason?: string; edit?: unknown }> {
  const run = shield.open(tenant);
  return {
    ...(words.reason === undefined ? {} : { reason: (await run.protectText(words.reason)).text }),
    ...(words.edit === undefined ? {} : { edit: await run.protectValue(words.edit) }),
  };
}

/** The approval id of a site: the same in every process that replays the run. */
export function approvalId(runId: string, key: string): string {
  return `apr_${createHash("sha256").update(`${runId}\0${key}`).digest("hex").slice(0, 16)}`;
}

/**
 * Asks a person and waits durably for the answer: only this branch waits, the process may exit or
 * crash meanwhile, and the run resumes exactly here (in this process or the next one to start). An
 * approval that expires takes the profile's configured outcome.
 */
export async function requestApproval(ctx: RunContext, site: ApprovalSite): Promise<ApprovalOutcome> {
  const store = ctx.deps.store;
  const wait = ctx.durable.waitForSignal?.bind(ctx.durable);
  // A strict replay has no store: the request and the decision come from the run's recorded steps.
  if (wait === undefined || (store === undefined && ctx.deps.replaying !== true))
    return { status: "unavailable" };
  const config = ctx.profile.document.supervisor.approvals;
  const id = approvalId(ctx.runId, site.key);
  const reason = await ctx.protect(site.reason);
  await ctx.durable.step(
    `approval:${site.key}`,
    async () => {
      const createdAt = ctx.deps.clock();
      const expiresAt = config.expiresIn === undefined ? null : createdAt + config.expiresIn;
      if (store !== undefined && store.getApproval(id) === undefined) {
        store.createApproval({
          id,
          runId: ctx.runId,
          taskId: site.taskId,
          worker: site.worker,
          reason,
          createdAt,
          expiresAt,
        });
      }
      ctx.emit({
        type: "approval-request",
        approvalId: id,
        taskId: site.taskId,
        worker: site.worker,
        reason,
        ...(expiresAt === null ? {} : { expiresAt }),
        ...(site.subject === undefined ? {} : { subject: site.subject }),
      });
      return id;
    },
    { idempotent: true },
  );
  // Already decided (a resumed run): the signal is there to take; nothing waits.
  const waiting = store?.getApproval(id)?.status === "pending";
  if (waiting) {
    ctx.waitStarted();
    store?.setRunStatus(ctx.runId, "waiting", ctx.deps.clock());
  }
  try {
    const sealer = ctx.shield?.stepSealer;
    // Asked again in this run (a retried task making the same call): its one signal was taken by the
    // first ask, so waiting again would never end. The person's decision stands: read it once, recorded.
    ctx.approvalAsks ??= new Map();
    const earlier = ctx.approvalAsks.get(id) ?? 0;
    ctx.approvalAsks.set(id, earlier + 1);
    const again =
      earlier === 0
        ? undefined
        : (
            await ctx.durable.step(
              `approval:again:${site.key}#${earlier}`,
              async () => {
                const record = store?.getApproval(id);
                return record === undefined || record.status === "pending" ? null : approvalSignalOf(record);
              },
              { idempotent: true, ...(sealer === undefined ? {} : { sealer }) },
            )
          ).value;
    const received =
      again !== undefined && again !== null
        ? { status: "received" as const, payload: again }
        : await wait<ApprovalSignal>(approvalTopic(id), {
            ...(config.expiresIn === undefined ? {} : { timeoutMs: config.expiresIn }),
            signal: ctx.signal,
            // A person's words and edit may name a customer: recorded sealed, like a tool's answer.
            ...(sealer === undefined ? {} : { sealer }),
          });
    let signal: ApprovalSignal;
    if (received.status === "received") signal = received.payload;
    else {
      // Expired: record it (a decision that raced in wins), then take the configured outcome.
      const record = store?.expireApproval(id, ctx.deps.clock());
      signal = {
        approvalId: id,
        status: record === undefined || record.status === "pending" ? "expired" : record.status,
        by: record?.decidedBy ?? null,
        reason: record?.decisionReason ?? null,
        edit: record?.edit ?? null,
        at: record?.decidedAt ?? ctx.deps.clock(),
      };
    }
    // Tokenised like everything else the run holds: the journal, the task's result or input, and any
    // model see tokens (tools get the values back, the requester's answer per the profile).
    if (ctx.shield !== undefined) {
      // `arbiter approvals` tokenises what it stores: those tokens are this run's (its tools see the values).
      ctx.shield.adopt(signal);
      const reason = signal.reason === null ? null : await ctx.protect(signal.reason);
      const edit =
        signal.edit === null || signal.edit === undefined
          ? signal.edit
          : await ctx.shield.protectValue(signal.edit);
      signal = { ...signal, reason, edit };
    }
    const status =
      signal.status === "expired" ? (config.onExpire === "approve" ? "approved" : "denied") : signal.status;
    ctx.emit({
      type: "approval-decide",
      approvalId: id,
      taskId: site.taskId,
      status: signal.status,
      ...(signal.by === null ? {} : { by: signal.by }),
      ...(signal.reason === null ? {} : { reason: signal.reason }),
      ...(signal.edit === null || signal.edit === undefined ? {} : { edit: signal.edit }),
      decidedAt: signal.at,
    });
    return {
      status,
      by: signal.by,
      reason:
        signal.status === "expired" ? `the approval expired (onExpire: ${config.onExpire})` : signal.reason,
      edit: signal.edit,
      ...(signal.status === "expired" ? { expired: true } : {}),
    };
  } finally {
    if (waiting) {
      ctx.waitEnded();
      if (!ctx.signal.aborted) store?.setRunStatus(ctx.runId, "running", ctx.deps.clock());
    }
  }
}
