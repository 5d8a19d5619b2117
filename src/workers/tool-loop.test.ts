import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
} from "@ai-sdk/provider";
import { z } from "zod";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { type LoopTool, runToolLoop } from "./tool-loop.ts";

type Turn = { content: LanguageModelV4Content[]; finish?: "stop" | "tool-calls" | "length" };

/** A model that plays `turns` in order and keeps every call's options. */
function fakeModel(turns: Turn[]): LanguageModelV4 & { calls: LanguageModelV4CallOptions[] } {
  const calls: LanguageModelV4CallOptions[] = [];
  return {
    specificationVersion: "v4",
    provider: "fake",
    modelId: "fake",
    supportedUrls: {},
    calls,
    async doGenerate(options): Promise<LanguageModelV4GenerateResult> {
      calls.push(structuredClone({ ...options, abortSignal: undefined }));
      const turn = turns[calls.length - 1];
      if (turn === undefined) throw new Error("script exhausted");
      const hasCalls = turn.content.some((p) => p.type === "tool-call");
      return {
        content: turn.content,
        finishReason: { unified: turn.finish ?? (hasCalls ? "tool-calls" : "stop"), raw: undefined },
        usage: {
          inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 1, text: 1, reasoning: 0 },
        },
        warnings: [],
      };
    },
    doStream() {
      throw new Error("not used");
    },
  };
}

const call = (id: string, toolName: string, input: unknown): LanguageModelV4Content => ({
  type: "tool-call",
  toolCallId: id,
  toolName,
  input: typeof input === "string" ? input : JSON.stringify(input),
});
const answerText = (value: unknown): LanguageModelV4Content => ({
  type: "text",
  text: JSON.stringify(value),
});

const answer = {
  jsonSchema: { type: "object" as const, properties: { status: { type: "string" as const } } },
  schema: z.object({ status: z.enum(["ok", "failed"]), n: z.number().optional() }),
};

function loop(model: LanguageModelV4, tools: Record<string, LoopTool>, maxSteps = 4, signal?: AbortSignal) {
  return runToolLoop({
    model,
    instructions: "You are a tester.",
    prompt: "Task: test",
    tools,
    maxSteps,
    answer,
    signal: signal ?? new AbortController().signal,
    label: 'worker "tester"',
  });
}

const tool = (execute: (input: unknown) => Promise<unknown>): LoopTool => ({
  description: "a tool",
  inputSchema: { type: "object" },
  execute,
});

describe("runToolLoop", () => {
  it("runs the tool calls of a turn concurrently, sends their results back and returns the validated answer", async () => {
    let running = 0;
    let overlapped = false;
    const slow = (result: unknown) =>
      tool(async () => {
        running++;
        await new Promise((r) => setTimeout(r, 10));
        overlapped ||= running > 1;
        running--;
        return result;
      });
    const model = fakeModel([
      { content: [call("c1", "lookup", { id: 1 }), call("c2", "notes", {})] },
      { content: [answerText({ status: "ok", n: 2 })] },
    ]);
    const result = await loop(model, { lookup: slow({ charges: [1, 2] }), notes: slow("all good") });
    assert.deepEqual(result, { status: "ok", n: 2 });
    assert.ok(overlapped, "both calls ran at once");
    assert.equal(model.calls.length, 2);
    const first = model.calls[0]!;
    assert.deepEqual(
      first.tools?.map((t) => t.type === "function" && t.name),
      ["lookup", "notes"],
    );
    assert.deepEqual(first.toolChoice, { type: "auto" });
    assert.deepEqual(first.responseFormat, { type: "json", schema: answer.jsonSchema });
    assert.deepEqual(first.prompt, [
      { role: "system", content: "You are a tester." },
      { role: "user", content: [{ type: "text", text: "Task: test" }] },
    ]);
    const second = model.calls[1]!.prompt;
    assert.deepEqual(second.slice(2), [
      {
        role: "assistant",
        content: [
          { type: "tool-call", toolCallId: "c1", toolName: "lookup", input: { id: 1 } },
          { type: "tool-call", toolCallId: "c2", toolName: "notes", input: {} },
        ],
      },
      {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: "c1",
            toolName: "lookup",
            output: { type: "json", value: { charges: [1, 2] } },
          },
          {
            type: "tool-result",
            toolCallId: "c2",
            toolName: "notes",
            output: { type: "text", value: "all good" },
          },
        ],
      },
    ]);
  });

  it("tells the model about failed calls, unknown tools and unparsable input, and goes on", async () => {
    const model = fakeModel([
      {
        content: [
          call("c1", "broken", {}),
          call("c2", "nope", {}),
          call("c3", "echo", "{not json"),
          call("c4", "echo", ""),
        ],
      },
      { content: [answerText({ status: "failed" })] },
    ]);
    const seen: unknown[] = [];
    const result = await loop(model, {
      broken: tool(async () => {
        throw new ArbiterError(ErrorCode.ToolFailed, "the line test timed out");
      }),
      echo: tool(async (input) => {
        seen.push(input);
        return input;
      }),
    });
    assert.deepEqual(result, { status: "failed" });
    assert.deepEqual(seen, [{}], "only the call with (empty) valid input ran");
    const results = model.calls[1]!.prompt[3]!;
    assert.equal(results.role, "tool");
    const outputs = (results.content as Array<{ output: { type: string; value: unknown } }>).map(
      (p) => p.output,
    );
    assert.deepEqual(outputs[0], { type: "error-text", value: "the line test timed out" });
    assert.equal(outputs[1]!.type, "error-text");
    assert.match(String(outputs[1]!.value), /no tool named "nope"; available: broken, echo/);
    assert.equal(outputs[2]!.type, "error-text");
    assert.match(String(outputs[2]!.value), /invalid JSON input for "echo"/);
    assert.deepEqual(outputs[3], { type: "json", value: {} });
  });

  it("does not run tool calls made on the last allowed step, and says how to give it more", async () => {
    let ran = 0;
    const model = fakeModel([{ content: [call("c1", "act", {})] }, { content: [call("c2", "act", {})] }]);
    const error = await loop(
      model,
      {
        act: tool(async () => {
          ran++;
          return "done";
        }),
      },
      2,
    ).catch((e: unknown) => e);
    assert.ok(error instanceof ArbiterError && error.code === ErrorCode.ModelFailed, String(error));
    assert.match(error.message, /worker "tester" used its 2 model steps without answering.*maxSteps/);
    assert.equal(ran, 1, "the call of step 1 ran; the one of step 2 did not");
  });

  it("does not run tool calls cut off by the output limit", async () => {
    let ran = 0;
    const model = fakeModel([{ content: [call("c1", "act", {})], finish: "length" }]);
    const error = await loop(model, {
      act: tool(async () => {
        ran++;
        return "done";
      }),
    }).catch((e: unknown) => e);
    assert.match(String(error), /cut off \(finish reason "length"\); none was run/);
    assert.equal(ran, 0);
  });

  it("refuses an answer that is not JSON or does not match the schema, naming the worker", async () => {
    const notJson = await loop(
      fakeModel([{ content: [{ type: "text", text: "Sure! Here it is" }] }]),
      {},
    ).catch((e: unknown) => e);
    assert.match(String(notJson), /worker "tester": the model's answer is not JSON/);
    const wrong = await loop(fakeModel([{ content: [answerText({ status: "maybe" })] }]), {}).catch(
      (e: unknown) => e,
    );
    assert.match(String(wrong), /does not match the answer schema: status:/);
    const empty = await loop(fakeModel([{ content: [], finish: "length" }]), {}).catch((e: unknown) => e);
    assert.match(String(empty), /ended without an answer \(finish reason "length"\)/);
  });

  it("prefers the provider's structured output text and leaves provider-executed calls to the provider", async () => {
    const model = fakeModel([
      {
        content: [
          { type: "tool-call", toolCallId: "w", toolName: "web_search", input: "{}", providerExecuted: true },
          { type: "text", text: "draft" },
        ],
        finish: "stop",
      },
    ]);
    const inner = model.doGenerate.bind(model);
    model.doGenerate = async (options) => ({
      ...(await inner(options)),
      structuredOutputText: JSON.stringify({ status: "ok" }),
    });
    assert.deepEqual(await loop(model, {}), { status: "ok" });
    assert.equal(model.calls[0]!.tools, undefined, "no tools offered when the worker has none");
  });

  it("stops when the attempt is aborted, without calling the model again", async () => {
    const controller = new AbortController();
    const model = fakeModel([
      { content: [call("c1", "act", {})] },
      { content: [answerText({ status: "ok" })] },
    ]);
    const error = await loop(
      model,
      {
        act: tool(async () => {
          controller.abort(new ArbiterError(ErrorCode.Timeout, "attempt timed out"));
          throw new Error("interrupted");
        }),
      },
      4,
      controller.signal,
    ).catch((e: unknown) => e);
    assert.match(String(error), /attempt timed out/);
    assert.equal(model.calls.length, 1);
  });
  it("runs tools without an execute of their own through the loop's executor, by name", async () => {
    const ran: Array<[string, unknown]> = [];
    const shared: Record<string, LoopTool> = {
      lookup: { description: "a tool", inputSchema: { type: "object" } },
    };
    const model = fakeModel([
      { content: [call("c1", "lookup", { id: 7 }), call("c2", "lookup", { id: 8 })] },
      { content: [answerText({ status: "ok" })] },
    ]);
    const result = await runToolLoop({
      model,
      instructions: "You are a tester.",
      prompt: "Task: test",
      tools: shared,
      execute: async (name, input) => {
        ran.push([name, input]);
        return { found: input };
      },
      maxSteps: 3,
      answer,
      signal: new AbortController().signal,
      label: 'worker "tester"',
    });
    assert.deepEqual(result, { status: "ok" });
    assert.deepEqual(ran, [
      ["lookup", { id: 7 }],
      ["lookup", { id: 8 }],
    ]);
    // Without any executor, the model is told so (and the loop goes on).
    const lonely = fakeModel([
      { content: [call("c1", "lookup", {})] },
      { content: [answerText({ status: "ok" })] },
    ]);
    assert.deepEqual(await loop(lonely, shared), { status: "ok" });
    const sent = lonely.calls[1]!.prompt.at(-1)!;
    assert.match(JSON.stringify(sent), /has no executor/);
  });
});
