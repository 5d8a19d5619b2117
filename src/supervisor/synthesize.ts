import { describeError } from "../errors/arbiter-error.ts";
import type { RunContext } from "./run-context.ts";
import type { TaskOutcome } from "./task-outcome.ts";

const label = (worker: string): string => {
  const words = worker.replace(/[_-]+/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** The parts of the answer that must never be left to a model: what failed and what is pending. */
export function gapsNotice(outcomes: readonly TaskOutcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    const status = o.result.status;
    if (status === "failed")
      lines.push(`- ${label(o.task.worker)}: not completed — ${o.reason ?? "the worker failed"}.`);
    else if (status === "refused")
      lines.push(`- ${label(o.task.worker)}: not handled — ${o.reason ?? "refused"}.`);
    else if (status === "escalated")
      lines.push(`- ${label(o.task.worker)}: pending human review — ${o.reason ?? "needs approval"}.`);
  }
  return lines.length === 0 ? "" : `Not resolved yet:\n${lines.join("\n")}`;
}

/** A deterministic answer: each successful branch's summary in plan order, then the gaps. */
export function templateAnswer(outcomes: readonly TaskOutcome[]): string {
  const parts: string[] = [];
  for (const o of outcomes) {
    if (o.result.status === "ok" || o.result.status === "partial") {
      const note = o.result.status === "partial" ? " (partly done)" : "";
      parts.push(`${label(o.worker)}${note}: ${o.result.summary}`);
    }
  }
  const gaps = gapsNotice(outcomes);
  if (gaps) parts.push(gaps);
  if (parts.length === 0) return "I could not complete any part of your request.";
  return parts.join("\n");
}

/**
 * Phase 7: merge results into one answer. With a synthesis model (mode "llm", or `--model`) it writes the
 * successful parts from their summaries only; the gaps notice is always appended verbatim, so a failed
 * or pending branch is stated plainly and never invented.
 */
export async function synthesize(ctx: RunContext, outcomes: readonly TaskOutcome[]): Promise<string> {
  const resolved = ctx.deps.models.synthesizer();
  const succeeded = outcomes.filter((o) => o.result.status === "ok" || o.result.status === "partial");
  if (resolved === undefined || succeeded.length === 0) {
    ctx.emit({ type: "synthesis-end", mode: "template" });
    return templateAnswer(outcomes);
  }
  try {
    // Loaded when a synthesis model is first used (a template answer needs none of the AI SDK).
    const { generateText } = await import("ai");
    const result = await generateText({
      model: ctx.observe(resolved, "synthesizer"),
      instructions:
        "Write one short, friendly reply to the customer from these results. Use only the facts given; " +
        "do not mention parts that are not listed.",
      prompt: succeeded.map((o) => `${o.worker}: ${o.result.summary}`).join("\n"),
      abortSignal: ctx.signal,
      maxRetries: 0,
    });
    const gaps = gapsNotice(outcomes);
    ctx.emit({ type: "synthesis-end", mode: "llm" });
    return gaps ? `${result.text.trim()}\n${gaps}` : result.text.trim();
  } catch (error) {
    ctx.emit({ type: "synthesis-end", mode: "template", fallbackFromLlm: describeError(error) });
    return templateAnswer(outcomes);
  }
}
