import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Middleware,
} from "@ai-sdk/provider";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { dataClassesOf } from "../guard/pii/data-class.ts";
import type { RecognizerRegistry } from "../guard/pii/recognizer-registry.ts";
import { decisionEvent, describeDecision } from "../tools/authorization.ts";
import type { RunContext } from "./run-context.ts";

/** Where a task keeps the first policy stop of its attempt (its tool-call scope). */
export interface PolicyStops {
  policyStop: ArbiterError | undefined;
}

// What each prompt message holds in clear, by message: a tool loop sends its earlier messages again on
// every step (the same objects), so each is scanned once.
const scannedMessages = new WeakMap<object, readonly string[]>();
/** What most messages hold in clear: one shared empty list, not one per message of every run in flight. */
const NONE: readonly string[] = Object.freeze([]);

/** The data classes in clear anywhere in a prompt, sorted. */
function dataClassesInPrompt(
  detector: RecognizerRegistry,
  prompt: LanguageModelV4CallOptions["prompt"],
): string[] {
  const classes = new Set<string>();
  for (const message of prompt) {
    let found = scannedMessages.get(message);
    if (found === undefined) {
      found = dataClassesOf(detector.detect(JSON.stringify(message.content)));
      if (found.length === 0) found = NONE;
      scannedMessages.set(message, found);
    }
    for (const c of found) classes.add(c);
  }
  return [...classes].sort();
}

/**
 * The model-egress decision for one caller and model: the data classes still in clear in the prompt
 * (after the shield, normally none) are asked of the authorizer before the prompt leaves. The same
 * request within a run is decided and journaled once. A deny stops the call (and, through `stops`,
 * the task).
 */
export function egressCheck(
  ctx: RunContext,
  detector: RecognizerRegistry | undefined,
  caller: { worker: string } | { supervisor: string },
  resolved: { model: LanguageModelV4; external?: boolean | undefined },
  taskId: string,
  stops?: PolicyStops,
): EgressGate | undefined {
  if (ctx.deps.authorizer === undefined) return undefined;
  return new EgressGate(ctx, detector, caller, resolved, taskId, stops);
}

/**
 * The model-egress decision of one caller and model (see `egressCheck`): `check` before a prompt
 * leaves, or, as the outermost middleware of a gateway chain entry, `transformParams`. An object, not
 * closures: one lives per task and chain entry, for each of thousands of runs in flight.
 */
export class EgressGate implements LanguageModelV4Middleware {
  readonly specificationVersion = "v4";
  readonly #ctx: RunContext;
  readonly #detector: RecognizerRegistry | undefined;
  readonly #caller: { worker: string } | { supervisor: string };
  readonly #model: LanguageModelV4;
  readonly #external: boolean;
  readonly #taskId: string;
  readonly #stops: PolicyStops | undefined;

  constructor(
    ctx: RunContext,
    detector: RecognizerRegistry | undefined,
    caller: { worker: string } | { supervisor: string },
    resolved: { model: LanguageModelV4; external?: boolean | undefined },
    taskId: string,
    stops: PolicyStops | undefined,
  ) {
    this.#ctx = ctx;
    this.#detector = detector;
    this.#caller = caller;
    this.#model = resolved.model;
    this.#external = resolved.external ?? resolved.model.provider !== "scripted";
    this.#taskId = taskId;
    this.#stops = stops;
  }

  async transformParams({
    params,
  }: {
    params: LanguageModelV4CallOptions;
  }): Promise<LanguageModelV4CallOptions> {
    await this.check(params);
    return params;
  }

  async check(options: LanguageModelV4CallOptions): Promise<void> {
    const ctx = this.#ctx;
    const authorizer = ctx.deps.authorizer!;
    const detector = this.#detector;
    const caller = this.#caller;
    const model = this.#model;
    const external = this.#external;
    const taskId = this.#taskId;
    // With the run's shield on, the prompt was just tokenised by the same recognisers: nothing they find
    // is left in clear, so only an unshielded run needs the scan.
    const scan = detector !== undefined && ctx.shield === undefined;
    const dataClasses = scan ? dataClassesInPrompt(detector, options.prompt) : [];
    const name = "worker" in caller ? caller.worker : caller.supervisor;
    const key = `${name}|${model.provider}/${model.modelId}|${external}|${dataClasses.join(",")}`;
    let decision = ctx.egressDecisions.get(key);
    if (decision === undefined) {
      decision = authorizer.authorizeModelEgress({
        runId: ctx.runId,
        tenant: ctx.request.tenant,
        taskId,
        injectionScore: ctx.injectionScore,
        caller,
        provider: model.provider,
        model: model.modelId,
        external,
        dataClasses,
      });
      ctx.egressDecisions.set(key, decision);
      ctx.emit(decisionEvent("model-egress", taskId, name, await decision));
    }
    const settled = await decision;
    if (settled.outcome !== "allow") {
      const error = new ArbiterError(
        ErrorCode.PolicyDenied,
        `prompt to ${model.provider}:${model.modelId}: ${describeDecision(settled)}`,
        { details: { policyIds: settled.policyIds } },
      );
      if (this.#stops !== undefined) this.#stops.policyStop ??= error;
      throw error;
    }
  }
}
