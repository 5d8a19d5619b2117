import type { EntityRef, PolicyRequest } from "./decision.ts";

/** Entity types of the Arbiter policy schema. */
export const EntityType = {
  Supervisor: "Supervisor",
  Worker: "Worker",
  Tool: "Tool",
  Model: "Model",
} as const;
export type EntityType = (typeof EntityType)[keyof typeof EntityType];

/** Action ids of the Arbiter policy schema: one per kind of decision. */
export const PolicyAction = {
  Delegate: "delegate",
  CallTool: "call_tool",
  CallModel: "call_model",
} as const;
export type PolicyAction = (typeof PolicyAction)[keyof typeof PolicyAction];

/**
 * Data classes the policies reason about. `PCI`: payment card numbers; `BANK`: bank accounts
 * (IBAN, routing/account numbers); `PII`: other personal data. Custom classes are plain strings.
 */
export const DataClass = { PCI: "PCI", BANK: "BANK", PII: "PII" } as const;
export type DataClass = (typeof DataClass)[keyof typeof DataClass];

/** Where a decision is asked from: every request carries these. */
export interface RunScope {
  readonly runId: string;
  readonly tenant: string;
  readonly taskId: string;
  /** Prompt-injection score of the input that led here, 0 (clean) to 1 (certain). Default 0. */
  readonly injectionScore?: number;
}

/**
 * Run-level counters the runtime keeps for tool-call decisions (trusted: never from a model). Tools
 * declare the counters their completed calls feed (telecom: `creditsIssuedCents`,
 * `failedLineTestInRun`); a counter a policy reads but no tool declares fails the decision closed.
 */
export type RunCounters = Readonly<Record<string, number | boolean>>;

export interface DelegationRequestInput extends RunScope {
  readonly worker: string;
  /** Supervisor id; default `"supervisor"`. */
  readonly supervisor?: string;
  /** Data classes the sub-task carries (tokenised or not), e.g. `["PCI", "PII"]`. */
  readonly dataClasses?: readonly string[];
}

export interface ToolCallRequestInput extends RunScope {
  readonly worker: string;
  readonly tool: string;
  /** The tool arguments as the model produced them (untrusted). */
  readonly args?: Readonly<Record<string, unknown>>;
  /**
   * What the call would do, computed by the tool's code from the validated arguments and the
   * systems of record — never taken from the model. Telecom: `issue_credit` →
   * `{ amountCents }`; `change_plan` → `{ isDowngrade, earlyTerminationFeeCents }`.
   */
  readonly facts?: Readonly<Record<string, unknown>>;
  readonly run: RunCounters;
  /** Data classes present in clear in the arguments (after detokenisation, if any). */
  readonly dataClasses?: readonly string[];
}

export type ModelEgressCaller = { readonly worker: string } | { readonly supervisor: string };

export type ModelEgressRequestInput = RunScope &
  ModelEgressCaller & {
    readonly provider: string;
    readonly model: string;
    /** The provider is outside the organisation's boundary (a public API, not a local model). */
    readonly external: boolean;
    /** Data classes present in clear in the prompt (tokens do not count). */
    readonly dataClasses?: readonly string[];
  };

const ref = (type: EntityType, id: string): EntityRef => ({ type, id });

function scope(input: RunScope): Record<string, unknown> {
  return {
    runId: input.runId,
    tenant: input.tenant,
    taskId: input.taskId,
    injectionScore: input.injectionScore ?? 0,
  };
}

/** Supervisor → worker: may this sub-task, carrying these data classes, go to that worker? */
export function delegationRequest(input: DelegationRequestInput): PolicyRequest {
  return {
    principal: ref(EntityType.Supervisor, input.supervisor ?? "supervisor"),
    action: PolicyAction.Delegate,
    resource: ref(EntityType.Worker, input.worker),
    context: { ...scope(input), dataClasses: [...(input.dataClasses ?? [])] },
  };
}

/** Worker → tool: may this worker call this tool with these arguments, given the run so far? */
export function toolCallRequest(input: ToolCallRequestInput): PolicyRequest {
  return {
    principal: ref(EntityType.Worker, input.worker),
    action: PolicyAction.CallTool,
    resource: ref(EntityType.Tool, input.tool),
    context: {
      ...scope(input),
      args: { ...(input.args ?? {}) },
      facts: { ...(input.facts ?? {}) },
      run: { ...input.run },
      dataClasses: [...(input.dataClasses ?? [])],
    },
  };
}

/** Worker or supervisor → model provider: may this prompt leave for that model? */
export function modelEgressRequest(input: ModelEgressRequestInput): PolicyRequest {
  const principal =
    "worker" in input ? ref(EntityType.Worker, input.worker) : ref(EntityType.Supervisor, input.supervisor);
  return {
    principal,
    action: PolicyAction.CallModel,
    resource: ref(EntityType.Model, `${input.provider}/${input.model}`),
    context: {
      ...scope(input),
      provider: input.provider,
      model: input.model,
      external: input.external,
      dataClasses: [...(input.dataClasses ?? [])],
    },
  };
}
