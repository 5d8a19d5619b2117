import { z } from "zod";

export const TaskStatus = {
  Ok: "ok",
  Partial: "partial",
  Failed: "failed",
  Refused: "refused",
  Escalated: "escalated",
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  modelCalls: number;
}

export const zeroUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, modelCalls: 0 });

/** Adds `usage` to `into`, in place. */
export function addUsage(into: Usage, usage: Usage): void {
  into.inputTokens += usage.inputTokens;
  into.outputTokens += usage.outputTokens;
  into.modelCalls += usage.modelCalls;
}

/** What a worker returns: a handler or an LLM agent produces the `WorkerAnswer` part. */
export interface WorkerResult {
  status: TaskStatus;
  summary: string;
  data: Record<string, unknown>;
  confidence: number;
  evidence: string[];
  usage: Usage;
}

/** The structured answer an LLM worker must end with (also the shape code handlers return). */
export const workerAnswerSchema = z.object({
  status: z.enum(["ok", "partial", "failed", "refused"]),
  summary: z.string().describe("One or two sentences for the customer; facts only."),
  data: z.record(z.string(), z.unknown()).optional(),
  confidence: z.number().min(0).max(1),
  evidence: z.array(z.string()).optional().describe("Tool results the summary rests on."),
});
export type WorkerAnswer = z.output<typeof workerAnswerSchema>;
