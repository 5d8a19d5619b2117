import { createHash } from "node:crypto";
import type { DurableRun } from "../durable/durable.ts";
import { ArbiterError, describeError, ErrorCode } from "../errors/arbiter-error.ts";
import type { RunEventInput } from "../journal/events.ts";
import { canonicalJson } from "../profile/canonical-json.ts";
import type { Authorizer } from "./authorization.ts";
import type { AnyTool } from "./tool.ts";

/** The slice of a running task that tool calls need. */
export interface ToolCallScope {
  readonly runId: string;
  readonly tenant: string;
  readonly taskId: string;
  readonly worker: string;
  /** The tools this worker may call (from its profile entry). */
  readonly allowedTools: readonly string[];
  readonly tools: ReadonlyMap<string, AnyTool>;
  readonly requestContext: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  readonly durable: DurableRun;
  readonly authorizer: Authorizer | undefined;
  emit(event: RunEventInput): void;
  /** Identical calls within one attempt are numbered so each is its own step. */
  readonly occurrences: Map<string, number>;
  toolCalls: number;
}

function summariseIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.map((i) => `${i.path.length ? i.path.join(".") : "(input)"}: ${i.message}`).join("; ");
}

/**
 * Calls a tool the governed way: the worker must own it, the input must validate, the authorizer
 * must allow it, and the call is a durable step keyed by run, task, tool and arguments, so a retried
 * task gets the recorded result instead of repeating a completed side effect.
 */
export async function invokeTool(scope: ToolCallScope, name: string, rawInput: unknown): Promise<unknown> {
  const started = performance.now();
  const fail = (code: ErrorCode, message: string): never => {
    scope.emit({
      type: "tool-call-end",
      taskId: scope.taskId,
      worker: scope.worker,
      tool: name,
      callId: `${scope.taskId}/${name}/rejected`,
      ok: false,
      error: message,
      replayed: false,
      durationMs: performance.now() - started,
    });
    throw new ArbiterError(code, message);
  };
  const tool = scope.tools.get(name);
  if (tool === undefined || !scope.allowedTools.includes(name)) {
    fail(
      ErrorCode.UnknownTool,
      `worker "${scope.worker}" may not call tool "${name}"; its tools are: ${scope.allowedTools.join(", ") || "none"}`,
    );
  }
  const parsed = tool!.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    fail(
      ErrorCode.ToolInputInvalid,
      `invalid input for tool "${name}": ${summariseIssues(parsed.error.issues)}`,
    );
  }
  const input = parsed.data;
  if (scope.authorizer !== undefined) {
    const decision = await scope.authorizer.authorizeToolCall({
      runId: scope.runId,
      tenant: scope.tenant,
      taskId: scope.taskId,
      worker: scope.worker,
      tool: name,
      input,
    });
    if (decision.outcome !== "allow") {
      fail(ErrorCode.PolicyError, `tool call "${name}" ${decision.outcome}: ${decision.reason}`);
    }
  }
  const argsHash = createHash("sha256").update(canonicalJson(input)).digest("hex").slice(0, 16);
  const base = `${scope.taskId}/${name}/${argsHash}`;
  const occurrence = scope.occurrences.get(base) ?? 0;
  scope.occurrences.set(base, occurrence + 1);
  const callId = `${base}#${occurrence}`;
  const idempotencyKey = `${scope.runId}:${callId}`;
  scope.toolCalls++;
  const outcome = await scope.durable
    .step(
      `tool:${callId}`,
      async () => {
        scope.emit({
          type: "tool-call-start",
          taskId: scope.taskId,
          worker: scope.worker,
          tool: name,
          callId,
          idempotencyKey,
          input,
        });
        return tool!.execute(input, {
          runId: scope.runId,
          taskId: scope.taskId,
          worker: scope.worker,
          tenant: scope.tenant,
          idempotencyKey,
          signal: scope.signal,
          requestContext: scope.requestContext,
        });
      },
      { idempotent: tool!.idempotent ?? !tool!.sideEffect },
    )
    .catch((error: unknown) => {
      scope.emit({
        type: "tool-call-end",
        taskId: scope.taskId,
        worker: scope.worker,
        tool: name,
        callId,
        ok: false,
        error: describeError(error),
        replayed: false,
        durationMs: performance.now() - started,
      });
      throw ArbiterError.is(error)
        ? error
        : new ArbiterError(ErrorCode.ToolFailed, `tool "${name}" failed: ${describeError(error)}`, {
            cause: error,
          });
    });
  scope.emit({
    type: "tool-call-end",
    taskId: scope.taskId,
    worker: scope.worker,
    tool: name,
    callId,
    ok: true,
    output: outcome.value,
    replayed: outcome.replayed,
    durationMs: performance.now() - started,
  });
  return outcome.value;
}
