import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import type { BudgetSubject } from "../../budget/budget.ts";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { GatewayChainEntry } from "./create-gateway-model.ts";
import type { GatewayEventInput } from "./gateway-events.ts";

/**
 * Who one model call is for, and where its events go: what a task's gateway model adds to every call.
 * The layers of a chain are built once per gateway and chain, and shared by every task; each call
 * carries its task's `GatewayCall` in its parameters.
 */
export interface GatewayCall {
  /** Budget subject and event context of the task. */
  readonly context: BudgetSubject;
  /** Stamps an event with the task's context and hands it to the task's listener (and telemetry). */
  emit(event: GatewayEventInput): void;
  /** The entry's model for this task: `inner` behind the caller's own middleware for the entry, if any. */
  entryModel(entry: GatewayChainEntry, inner: LanguageModelV4): LanguageModelV4;
}

// A symbol-keyed property: providers read only the options they know, JSON (cache keys) skips it, and a
// spread of the parameters (an attempt's own abort signal) keeps it.
const CALL = Symbol("arbiter.gateway.call");

type WithCall = LanguageModelV4CallOptions & { [CALL]?: GatewayCall };

/** The parameters of one call, carrying its task's `GatewayCall`. */
export function withCall(params: LanguageModelV4CallOptions, call: GatewayCall): LanguageModelV4CallOptions {
  return { ...params, [CALL]: call } as WithCall;
}

/** The `GatewayCall` a call's parameters carry. */
export function callOf(params: LanguageModelV4CallOptions): GatewayCall {
  const call = (params as WithCall)[CALL];
  if (call === undefined) {
    throw new ArbiterError(
      ErrorCode.Internal,
      "A gateway layer was called without its task's context: call the model a gateway made for the task.",
    );
  }
  return call;
}
