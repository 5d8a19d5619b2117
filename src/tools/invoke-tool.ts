import { hash } from "node:crypto";
import { type DurableRun, InDoubtError, type StepOutcome, type StepSealer } from "../durable/durable.ts";
import { ArbiterError, describeError, ErrorCode } from "../errors/arbiter-error.ts";
import type { ApprovalSubject, RunEventInput } from "../journal/events.ts";
import { canonicalJson } from "../profile/canonical-json.ts";
import { type Authorizer, decisionEvent, describeDecision } from "./authorization.ts";
import type { AnyTool, ToolContext } from "./tool.ts";

/** What a person decided on an approval request. */
export type PersonDecision =
  | {
      status: "approved" | "denied";
      by: string | null;
      reason: string | null;
      edit: unknown;
      /** Nobody decided in time: `status` is the profile's `onExpire`. */
      expired?: boolean;
    }
  /** No store or no durable waits: the task ends escalated, as before approvals existed. */
  | { status: "unavailable" };

/** What the tool path needs of the run's PII shield. */
export interface ToolShield {
  protectValue<T>(value: T): Promise<T>;
  revealValue<T>(value: T): Promise<{ value: T; dataClasses: string[] }>;
  /** Seals a tool's answer that holds PII before the step log records it. */
  readonly stepSealer?: StepSealer;
}

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
  /** Prompt-injection score of the request. */
  readonly injectionScore: number;
  /** The run's PII shield: tokens in, values to the tool, tokens to the journal. */
  readonly shield: ToolShield | undefined;
  /** The run's counters: read for decisions, fed by completed calls. */
  readonly counters: Record<string, number | boolean>;
  /** Call ids already counted, so a replayed call is counted once per run. */
  readonly counted: Set<string>;
  /**
   * Set when a policy stopped a call (deny or needs approval). The task ends on it whatever the worker
   * does next — an LLM worker that is told "tool failed" cannot talk its way past a policy.
   */
  policyStop: ArbiterError | undefined;
  /** Asks a person and waits durably (absent when the runtime has no durable approvals). */
  /** Injected latency and failures (testing resilience on the real paths). */
  readonly faults?: { before(site: string, signal: AbortSignal | undefined): Promise<void> };
  readonly askApproval?: (site: {
    key: string;
    reason: string;
    subject?: ApprovalSubject;
  }) => Promise<PersonDecision>;
  emit(event: RunEventInput): void;
  /** Identical calls within one attempt are numbered so each is its own step. */
  readonly occurrences: Map<string, number>;
  /** `arbiter replay`: recorded steps only, nothing executes. */
  readonly replaying?: boolean;
  toolCalls: number;
}

/**
 * The facts a call is authorised on (read from systems of record), recorded as a step: a resumed run
 * decides on what it first saw, so the same call meets the same decision and the same approval.
 */
async function factsOf(
  scope: ToolCallScope,
  stepName: string,
  read: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const compute = async () => (await read()) ?? {};
  // A replay executes nothing; a run recorded before facts were has none on record: read them now.
  if (scope.replaying === true && scope.durable.hasResult?.(stepName) !== true) return compute();
  return (await scope.durable.step(stepName, compute, sealed(scope))).value;
}

/** Step options that seal what the step records when the run has a PII shield. */
function sealed(scope: ToolCallScope): { idempotent: true; sealer?: StepSealer } {
  const sealer = scope.shield?.stepSealer;
  return sealer === undefined ? { idempotent: true } : { idempotent: true, sealer };
}

/**
 * A call's arguments as an approver changed them: the edit (a JSON object of the arguments to change)
 * over the model's, validated by the tool's schema. A string says why it cannot be used.
 */
async function editedInput(
  scope: ToolCallScope,
  tool: AnyTool,
  name: string,
  input: Record<string, unknown>,
  edit: unknown,
  by: string | null,
): Promise<Record<string, unknown> | string> {
  const who = by ?? "the approver";
  if (typeof edit !== "object" || edit === null || Array.isArray(edit))
    return `${who}'s edit of ${name} is not an object of arguments (${JSON.stringify(edit)}); the call was not made`;
  const revealed = scope.shield ? (await scope.shield.revealValue(edit)).value : edit;
  const parsed = tool.input.safeParse({ ...input, ...(revealed as Record<string, unknown>) });
  if (!parsed.success)
    return `${who}'s edit of ${name} is not valid input (${summariseIssues(parsed.error.issues)}); the call was not made`;
  return parsed.data as Record<string, unknown>;
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
  /** Journals the call as failed (`callId` is `…/rejected` when it never got one) and throws `error`. */
  const endFailed = (callId: string, message: string, error: ArbiterError): never => {
    scope.emit({
      type: "tool-call-end",
      taskId: scope.taskId,
      worker: scope.worker,
      tool: name,
      callId,
      ok: false,
      error: message,
      replayed: false,
      durationMs: performance.now() - started,
    });
    throw error;
  };
  const fail = (code: ErrorCode, message: string): never =>
    endFailed(`${scope.taskId}/${name}/rejected`, message, new ArbiterError(code, message));
  const tool = scope.tools.get(name);
  if (tool === undefined || !scope.allowedTools.includes(name)) {
    fail(
      ErrorCode.UnknownTool,
      `worker "${scope.worker}" may not call tool "${name}"; its tools are: ${scope.allowedTools.join(", ") || "none"}`,
    );
  }
  // The model works with tokens; the tool gets this run's real values back (policy sees which classes).
  const revealed = scope.shield
    ? await scope.shield.revealValue(rawInput ?? {})
    : { value: rawInput, dataClasses: [] };
  const parsed = tool!.input.safeParse(revealed.value ?? {});
  if (!parsed.success) {
    fail(
      ErrorCode.ToolInputInvalid,
      `invalid input for tool "${name}": ${summariseIssues(parsed.error.issues)}`,
    );
  }
  // `let`: an approver may change the arguments (`arbiter approvals approve --edit`).
  let input = parsed.data;
  // What the journal and the policy request may hold of the arguments: tokens, never values.
  let recordedInput = scope.shield ? await scope.shield.protectValue(input) : input;
  // One-shot: the same digest, without a Hash object per call.
  const argsHash = hash("sha256", canonicalJson(input)).slice(0, 16);
  const base = `${scope.taskId}/${name}/${argsHash}`;
  const occurrence = scope.occurrences.get(base) ?? 0;
  scope.occurrences.set(base, occurrence + 1);
  const callId = `${base}#${occurrence}`;
  const idempotencyKey = `${scope.runId}:${callId}`;
  const toolContext: ToolContext = {
    runId: scope.runId,
    taskId: scope.taskId,
    worker: scope.worker,
    tenant: scope.tenant,
    idempotencyKey,
    signal: scope.signal,
    requestContext: scope.requestContext,
  };
  // A call whose result is on record (a resumed or replayed run) was authorised when it ran: deciding
  // again on today's data could ask a person about what already happened, or deny it.
  const onRecord = scope.durable.hasResult?.(`tool:${callId}`) === true;
  /** The call as the policy is asked about it: its arguments as recorded, their facts, the run's counters. */
  const request = async () => ({
    runId: scope.runId,
    tenant: scope.tenant,
    taskId: scope.taskId,
    injectionScore: scope.injectionScore,
    worker: scope.worker,
    tool: name,
    input: recordedInput,
    facts:
      tool!.facts === undefined
        ? {}
        : await factsOf(scope, `facts:${callId}`, () => tool!.facts!(input, toolContext)),
    run: { ...scope.counters },
    dataClasses: revealed.dataClasses,
  });
  if (scope.authorizer !== undefined && onRecord && scope.replaying === true) {
    // `arbiter replay`: the call comes from the record whatever is decided now, but the policy as it
    // now stands decides it again (on the call as the worker made it, before any approver's edit, as
    // it was first decided) and the decision is journaled, so a policy change shows as a divergence.
    const decision = await scope.authorizer.authorizeToolCall(await request());
    scope.emit(decisionEvent("tool-call", scope.taskId, scope.worker, decision, name));
  }
  const editStep = `edit:${callId}`;
  if (onRecord && scope.durable.hasResult?.(editStep) === true) {
    // It ran with the arguments as an approver edited them: those count (and are journaled).
    input = (await scope.durable.step(editStep, async () => input, sealed(scope))).value as typeof input;
    recordedInput = scope.shield ? await scope.shield.protectValue(input) : input;
  }
  if (scope.authorizer !== undefined && !onRecord) {
    const asked = await request();
    let decision = await scope.authorizer.authorizeToolCall(asked);
    scope.emit(decisionEvent("tool-call", scope.taskId, scope.worker, decision, name));
    let deniedBy: string | undefined;
    if (decision.outcome === "needs-approval" && scope.askApproval !== undefined) {
      // Only this branch waits for the person; then the policy decides again with the approval.
      const answer = await scope.askApproval({
        key: `tool:${callId}`,
        reason: `${name}: ${describeDecision(decision)}`,
        subject: { kind: "tool-call", tool: name, input: recordedInput },
      });
      if (answer.status === "approved") {
        let approvedRequest = { ...asked, approved: decision.policyIds };
        if (answer.edit !== null && answer.edit !== undefined) {
          // Approved with changed arguments: validated like the model's, recorded (a resumed run makes
          // the call as approved), and decided again by the policy as they now are.
          const edited = await editedInput(scope, tool!, name, input, answer.edit, answer.by);
          if (typeof edited === "string") {
            // The person's edit, not the model's call, is wrong: no retry or fallback repeats it; the
            // task is escalated with why (someone decides again).
            const stop = new ArbiterError(ErrorCode.ToolInputInvalid, edited);
            scope.policyStop ??= stop;
            endFailed(callId, edited, stop);
          }
          input = (await scope.durable.step(editStep, async () => edited, sealed(scope)))
            .value as typeof input;
          recordedInput = scope.shield ? await scope.shield.protectValue(input) : input;
          approvedRequest = {
            ...approvedRequest,
            input: recordedInput,
            facts:
              tool!.facts === undefined
                ? {}
                : await factsOf(scope, `facts:${callId}:edited`, () => tool!.facts!(input, toolContext)),
          };
        }
        decision = await scope.authorizer.authorizeToolCall(approvedRequest);
        scope.emit(decisionEvent("tool-call", scope.taskId, scope.worker, decision, name));
      } else if (answer.status === "denied") {
        deniedBy =
          answer.expired === true
            ? `not approved in time: ${answer.reason ?? "the approval expired"}`
            : `denied by ${answer.by ?? "a person"}${answer.reason ? `: ${answer.reason}` : ""}`;
      }
    }
    if (decision.outcome !== "allow" || deniedBy !== undefined) {
      const stop = new ArbiterError(
        decision.outcome === "needs-approval" && deniedBy === undefined
          ? ErrorCode.ApprovalRequired
          : ErrorCode.PolicyDenied,
        `${name}: ${deniedBy ?? describeDecision(decision)}`,
        { details: { policyIds: decision.policyIds, bundleVersion: decision.bundleVersion } },
      );
      scope.policyStop ??= stop;
      fail(stop.code, stop.message);
    }
  }
  scope.toolCalls++;
  const effect = tool!.sideEffect === true;
  const step = (idempotent: boolean, execute = () => tool!.execute(input, toolContext)) =>
    scope.durable.step(
      `tool:${callId}`,
      async () => {
        scope.emit({
          type: "tool-call-start",
          taskId: scope.taskId,
          worker: scope.worker,
          tool: name,
          callId,
          idempotencyKey,
          input: recordedInput,
        });
        await scope.faults?.before(`tool ${name}`, scope.signal);
        return execute();
      },
      scope.shield?.stepSealer === undefined
        ? { idempotent, effect }
        : { idempotent, effect, sealer: scope.shield.stepSealer },
    );
  const failed = (error: unknown): never =>
    endFailed(
      callId,
      describeError(error),
      ArbiterError.is(error)
        ? error
        : new ArbiterError(ErrorCode.ToolFailed, `tool "${name}" failed: ${describeError(error)}`, {
            cause: error,
          }),
    );
  let outcome: StepOutcome<unknown>;
  try {
    outcome = await step(tool!.idempotent ?? !tool!.sideEffect);
  } catch (error) {
    // Started by a process that died before recording the end, and not safe to repeat blindly:
    // a person checks the real system (by the idempotency key) and says what happened.
    if (!(error instanceof InDoubtError) || scope.askApproval === undefined) return failed(error);
    // Only this branch waits; a suspension or shutdown meanwhile is not the tool's failure.
    const answer = await scope.askApproval({
      key: `in-doubt:${callId}@${error.startedAt}`,
      subject: { kind: "in-doubt", tool: name, input: recordedInput, idempotencyKey },
      reason:
        `${name} (idempotency key ${idempotencyKey}) started at ${new Date(error.startedAt).toISOString()} and its ` +
        "process stopped before recording whether it finished; it is not declared idempotent. Check the system: " +
        "approve to run it again (it did not take effect), or deny if it did (--edit <json> records its result).",
    });
    // Nobody checked in time: neither repeating nor assuming is safe, so the task ends escalated.
    if (answer.status === "unavailable" || answer.expired === true) return failed(error);
    const by = answer.by ?? "a person";
    const tookEffect = async () =>
      answer.edit === null || answer.edit === undefined
        ? {
            outcome: "took-effect",
            note: `${by} confirmed the call took effect${answer.reason ? ` (${answer.reason})` : ""}; its result was not recorded`,
          }
        : answer.edit;
    outcome = await step(true, answer.status === "approved" ? undefined : tookEffect).catch(failed);
  }
  const countOnce = !scope.counted.has(callId);
  scope.counted.add(callId);
  for (const [counter, spec] of countOnce ? Object.entries(tool!.counters ?? {}) : []) {
    const add = spec.add(input, outcome.value);
    const current = scope.counters[counter] ?? spec.initial;
    scope.counters[counter] = typeof add === "boolean" ? Boolean(current) || add : Number(current) + add;
  }
  scope.emit({
    type: "tool-call-end",
    taskId: scope.taskId,
    worker: scope.worker,
    tool: name,
    callId,
    ok: true,
    output: scope.shield ? await scope.shield.protectValue(outcome.value) : outcome.value,
    replayed: outcome.replayed,
    durationMs: performance.now() - started,
  });
  return outcome.value;
}
