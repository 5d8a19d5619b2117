import type {
  LanguageModelV4Content,
  LanguageModelV4Middleware,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import type { Budget, BudgetHold, CallEstimate, CallUsage } from "../../budget/budget.ts";
import { BudgetExceededError } from "../../budget/budget-exceeded-error.ts";
import type { Price } from "../../budget/cost.ts";
import { callOf, type GatewayCall } from "./gateway-call.ts";
import { promised } from "./promised.ts";
import { tapStream } from "./tap-stream.ts";

export interface BudgetMiddlewareOptions {
  readonly budget: Budget;
  /** Catalog name of the model. */
  readonly name: string;
  readonly price?: Price | undefined;
}

/**
 * Holds a call's estimate (prompt tokens + max output tokens, priced from the catalog) against the
 * request, worker and tenant budgets before the call, and settles it with the actual usage after:
 * `budget-exceed` and a typed `BudgetExceededError` when it does not fit, `budget-charge` when charged.
 */
export function budgetMiddleware(options: BudgetMiddlewareOptions): LanguageModelV4Middleware {
  const { budget, name, price } = options;

  /** Holds the estimate against the budgets of the call's task (its `GatewayCall`). */
  async function reserve(call: GatewayCall, provider: string, estimate: CallEstimate): Promise<BudgetHold> {
    try {
      return await budget.reserve(call.context, { name, provider, price }, estimate);
    } catch (error) {
      if (error instanceof BudgetExceededError) {
        call.emit({
          type: "budget-exceed",
          model: name,
          scope: error.scope,
          subject: error.subject,
          unit: error.unit,
          limit: error.limit,
          spent: error.spent,
          estimate: error.estimate,
        });
      }
      throw error;
    }
  }

  async function charge(
    call: GatewayCall,
    hold: BudgetHold,
    usage: CallUsage & { estimated: boolean },
  ): Promise<void> {
    const entry = await budget.settle(hold, usage);
    // A call under no budget, with usage the provider reported, is already journaled with exactly these
    // tokens and cost (the gateway's `model-attempt`): a charge event would only repeat it.
    if (entry !== undefined && (hold.held || usage.estimated)) {
      call.emit({
        type: "budget-charge",
        model: name,
        inputTokens: entry.inputTokens,
        outputTokens: entry.outputTokens,
        costUsd: entry.costUsd,
      });
    }
  }

  const release = (hold: BudgetHold) => budget.settle(hold, undefined).catch(() => {}); // an unreleased hold lapses

  return {
    specificationVersion: "v4",
    wrapGenerate({ doGenerate, params, model }) {
      let estimate: CallEstimate;
      // Continuations, not an async function: nothing is held per call while the model answers.
      const call = callOf(params);
      return promised(() => {
        estimate = budget.estimate(name, price, params);
        return reserve(call, model.provider, estimate);
      }).then((hold) => {
        const failed = (error: unknown) =>
          release(hold).then(() => {
            throw error;
          });
        return promised(doGenerate).then(
          (result) =>
            charge(call, hold, actualUsage(result.usage, estimate, outputChars(result.content))).then(
              () => result,
            ),
          failed,
        );
      });
    },
    async wrapStream({ doStream, params, model }) {
      const call = callOf(params);
      const estimate = budget.estimate(name, price, params);
      const hold = await reserve(call, model.provider, estimate);
      let result: Awaited<ReturnType<typeof doStream>>;
      try {
        result = await doStream();
      } catch (error) {
        await release(hold);
        throw error;
      }
      // Whatever streamed was billed, even if the stream failed or was cancelled half-way.
      const stream = tapStream(result.stream, (summary) =>
        charge(call, hold, actualUsage(summary.usage, estimate, summary.outputChars)),
      );
      return { ...result, stream };
    },
  };
}

/** Reported usage; where a provider reports none, the input estimate and output characters / 4. */
function actualUsage(
  usage: LanguageModelV4Usage | undefined,
  estimate: CallEstimate,
  chars: number,
): CallUsage & { estimated: boolean } {
  const input = usage?.inputTokens.total;
  const output = usage?.outputTokens.total;
  return {
    inputTokens: input ?? estimate.inputTokens,
    outputTokens: output ?? Math.ceil(chars / 4),
    estimated: input === undefined || output === undefined,
  };
}

function outputChars(content: readonly LanguageModelV4Content[]): number {
  let chars = 0;
  for (const part of content) {
    if (part.type === "text" || part.type === "reasoning") chars += part.text.length;
    else if (part.type === "tool-call") chars += part.input.length;
  }
  return chars;
}
