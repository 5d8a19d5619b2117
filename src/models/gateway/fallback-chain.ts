import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamResult,
} from "@ai-sdk/provider";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { circuitOpenDetails } from "./breaker-middleware.ts";
import { classifyFailure } from "./classify-failure.ts";
import type { EventContext, ModelHopEvent } from "./gateway-events.ts";
import { promised } from "./promised.ts";

export interface ChainLink {
  /** Catalog name of the model. */
  readonly name: string;
  readonly model: LanguageModelV4;
}

export type HopInput = Omit<ModelHopEvent, keyof EventContext>;

interface LinkFailure {
  readonly model: string;
  readonly error: unknown;
}

/**
 * A model made of a chain: the primary first, then each fallback. A call goes to the first model
 * whose breaker admits it; when that model fails (after its own retries) or is refused by its
 * breaker, the call moves to the next model and the move is reported as a `model-hop` with the
 * reason and the measured value. Anything else — a budget refusal, a ledger failure, the caller
 * aborting — ends the call where it happens.
 */
export function createFallbackChain(
  links: readonly ChainLink[],
  options: {
    readonly onHop: (hop: HopInput, params: LanguageModelV4CallOptions) => void;
    /** Whether an error came out of a model (else it is the gateway's own: a budget refusal, a ledger failure). */
    readonly isModelFailure: (error: unknown) => boolean;
  },
): LanguageModelV4 {
  const { onHop, isModelFailure } = options;
  const primary = links[0];
  if (primary === undefined) {
    throw new ArbiterError(ErrorCode.InvalidArgument, "A model chain needs at least one model.");
  }

  // Continuations, not an async loop: nothing is held per call while a model answers.
  function run<T extends LanguageModelV4GenerateResult | LanguageModelV4StreamResult>(
    params: LanguageModelV4CallOptions,
    call: (model: LanguageModelV4) => PromiseLike<T>,
  ): Promise<T> {
    const failures: LinkFailure[] = [];
    const from = (i: number): Promise<T> => {
      const link = links[i]!;
      return promised(() => call(link.model)).then(
        (result) => annotate(result, link.name),
        (error: unknown) => {
          if (params.abortSignal?.aborted) throw error;
          if (circuitOpenDetails(error) === undefined && !isModelFailure(error)) throw error;
          failures.push({ model: link.name, error });
          const next = links[i + 1];
          if (next === undefined) throw chainFailed(failures);
          onHop(hopOf(link.name, next.name, error), params);
          return from(i + 1);
        },
      );
    };
    return from(0);
  }

  return {
    specificationVersion: "v4",
    provider: "arbiter.gateway",
    modelId: links.map((link) => link.name).join(" > "),
    supportedUrls: primary.model.supportedUrls,
    doGenerate: (params) => run(params, (model) => model.doGenerate(params)),
    doStream: (params) => run(params, (model) => model.doStream(params)),
  };
}

function hopOf(from: string, to: string, error: unknown): HopInput {
  const open = circuitOpenDetails(error);
  if (open !== undefined) {
    return {
      type: "model-hop",
      from,
      to,
      reason: open.reason,
      measured: open.measured,
      threshold: open.threshold,
    };
  }
  const failure = classifyFailure(error);
  return {
    type: "model-hop",
    from,
    to,
    reason: "error",
    error: failure.message,
    ...(failure.status === undefined ? {} : { status: failure.status }),
  };
}

/** Which model answered, for callers that look (`providerMetadata.arbiter.model`). */
function annotate<T extends LanguageModelV4GenerateResult | LanguageModelV4StreamResult>(
  result: T,
  model: string,
): T {
  if (!("content" in result)) return result;
  const metadata = result.providerMetadata ?? {};
  return { ...result, providerMetadata: { ...metadata, arbiter: { ...metadata.arbiter, model } } };
}

function chainFailed(failures: readonly LinkFailure[]): ArbiterError {
  const allOpen = failures.every((f) => circuitOpenDetails(f.error) !== undefined);
  const summary = failures.map((f) => `${f.model}: ${classifyFailure(f.error).message}`).join("; ");
  const last = failures.at(-1)?.error;
  const details = {
    failures: failures.map((f) => {
      const failure = classifyFailure(f.error);
      return {
        model: f.model,
        fault: circuitOpenDetails(f.error) === undefined ? failure.kind : "circuit-open",
        ...(failure.status === undefined ? {} : { status: failure.status }),
        error: failure.message,
      };
    }),
  };
  return allOpen
    ? new ArbiterError(
        ErrorCode.CircuitOpen,
        `Every model in the chain has its circuit breaker open (${summary}). Wait for the cool-down or add a fallback model.`,
        { cause: last, details },
      )
    : new ArbiterError(
        ErrorCode.ModelFailed,
        `Every model in the chain failed (${summary}). Check the providers' status and credentials, or add a fallback model.`,
        { cause: last, details },
      );
}
