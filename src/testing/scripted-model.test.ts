import assert from "node:assert/strict";
import { test } from "node:test";
import { generateText, isStepCount, Output, tool } from "ai";
import { z } from "zod";
import { ScriptedModel } from "./scripted-model.ts";

test("plays replies in order through the real AI SDK tool loop and records every prompt", async () => {
  const model = new ScriptedModel({
    replies: [{ toolCalls: [{ name: "add", input: { a: 2, b: 3 } }] }, { text: "It is 5." }],
  });
  const result = await generateText({
    model,
    instructions: "You add.",
    prompt: "2+3?",
    tools: {
      add: tool({
        description: "add",
        inputSchema: z.object({ a: z.number(), b: z.number() }),
        execute: async ({ a, b }) => a + b,
      }),
    },
    stopWhen: isStepCount(3),
  });
  assert.equal(result.text, "It is 5.");
  assert.equal(model.calls.length, 2);
  assert.equal(model.calls[0]!.system, "You add.");
  assert.equal(model.calls[0]!.user, "2+3?");
  assert.equal(model.calls[1]!.step, 1);
  const toolMessage = model.calls[1]!.prompt.find((m) => m.role === "tool");
  assert.match(JSON.stringify(toolMessage), /"value":5/);
});

test("answers structured output, matches rules by prompt and step, and fails loudly on unexpected calls", async () => {
  const model = new ScriptedModel({
    rules: [{ when: { user: "weather" }, reply: [{ object: { sunny: true } }] }],
  });
  const { output } = await generateText({
    model,
    prompt: "weather today?",
    output: Output.object({ schema: z.object({ sunny: z.boolean() }) }),
  });
  assert.deepEqual(output, { sunny: true });
  await assert.rejects(
    generateText({ model, prompt: "something else", maxRetries: 0 }),
    /unexpected call #2/,
  );
});

test("scripted errors and delays reach the caller; a delay honours the abort signal", async () => {
  const failing = new ScriptedModel({ replies: [{ error: "rate limited" }] });
  await assert.rejects(
    generateText({ model: failing, prompt: "x", maxRetries: 0 }),
    /scripted model error: rate limited/,
  );
  const slow = new ScriptedModel({ replies: [{ text: "late", delayMs: 5_000 }] });
  const t = performance.now();
  await assert.rejects(
    generateText({ model: slow, prompt: "x", abortSignal: AbortSignal.timeout(30), maxRetries: 0 }),
  );
  assert.ok(performance.now() - t < 1_000);
});
