import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { APICallError, generateText, isStepCount, Output, RetryError, streamText, tool } from "ai";
import { z } from "zod";
import type { ProviderServer } from "./provider-server.ts";
import { startProviderServer } from "./provider-server.ts";
import { reply } from "./scripted-reply.ts";
import type { WireApi } from "./wire-format.ts";

let server: ProviderServer;
before(async () => {
  server = await startProviderServer();
});
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  assert.equal(server.pending(), 0, "the previous test left scripted replies unused");
});

const apis: { api: WireApi; path: string; model: () => LanguageModelV4 }[] = [
  {
    api: "openai-responses",
    path: "/v1/responses",
    model: () => createOpenAI({ baseURL: server.openaiBaseURL, apiKey: "sk-test-0001" })("gpt-4.1-mini"),
  },
  {
    api: "openai-chat",
    path: "/v1/chat/completions",
    model: () => createOpenAI({ baseURL: server.openaiBaseURL, apiKey: "sk-test-0002" }).chat("gpt-4.1-mini"),
  },
  {
    api: "anthropic-messages",
    path: "/v1/messages",
    model: () =>
      createAnthropic({ baseURL: server.anthropicBaseURL, apiKey: "sk-ant-0003" })("claude-sonnet-4-5"),
  },
];

const weather = tool({
  description: "Current weather for a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, celsius: 21 }),
});

/** Runs a stream to the end: its text, or what it threw. */
async function drain(result: ReturnType<typeof streamText>): Promise<{ text?: string; thrown?: unknown }> {
  try {
    return { text: await result.text };
  } catch (thrown) {
    return { thrown };
  }
}

for (const { api, path, model } of apis) {
  describe(`provider server: ${api} through the real AI SDK provider`, () => {
    it("answers text with usage and records the request", async () => {
      server.enqueue(reply.text("Your bill is correct.", { usage: { inputTokens: 42, outputTokens: 7 } }));
      const result = await generateText({ model: model(), prompt: "Is my bill right?", maxRetries: 0 });

      assert.equal(result.text, "Your bill is correct.");
      assert.equal(result.finishReason, "stop");
      assert.equal(result.usage.inputTokens, 42);
      assert.equal(result.usage.outputTokens, 7);
      const [request] = server.requests;
      assert.equal(request?.path, path);
      assert.equal(request?.api, api);
      assert.equal(request?.stream, false);
      assert.match(JSON.stringify(request?.body), /Is my bill right\?/);
      const credential = request?.headers.authorization ?? request?.headers["x-api-key"];
      assert.match(credential ?? "", /^(Bearer )?\*\*\*\*000\d$/, "credentials are masked but identifiable");
    });

    it("streams text as several deltas with usage", async () => {
      server.enqueue(reply.text("Streaming works fine.", { usage: { inputTokens: 12, outputTokens: 4 } }));
      const result = streamText({ model: model(), prompt: "Stream please", maxRetries: 0 });
      const deltas: string[] = [];
      for await (const delta of result.textStream) deltas.push(delta);

      assert.equal(deltas.join(""), "Streaming works fine.");
      assert.ok(deltas.length > 1, "the answer arrived in more than one delta");
      assert.equal((await result.usage).inputTokens, 12);
      assert.equal((await result.usage).outputTokens, 4);
      assert.equal(await result.finishReason, "stop");
      assert.equal(server.requests[0]?.stream, true);
    });

    it("drives a tool-call round trip (generateText, stopWhen: isStepCount(3))", async () => {
      server.enqueue(
        reply.toolCall("weather", { city: "Lyon" }, { id: "call_w1" }),
        reply.text("It is 21 °C in Lyon."),
      );
      const result = await generateText({
        model: model(),
        prompt: "Weather in Lyon?",
        tools: { weather },
        stopWhen: isStepCount(3),
        maxRetries: 0,
      });

      assert.equal(result.text, "It is 21 °C in Lyon.");
      assert.equal(result.steps.length, 2);
      assert.deepEqual(
        result.steps[0]?.toolCalls.map((call) => [call.toolName, call.input]),
        [["weather", { city: "Lyon" }]],
      );
      assert.deepEqual(result.steps[0]?.toolResults[0]?.output, { city: "Lyon", celsius: 21 });
      // The second request carries the tool result back under the scripted call id.
      const second = JSON.stringify(server.requests[1]?.body);
      assert.match(second, /call_w1/);
      assert.match(second, /celsius/);
      assert.match(JSON.stringify(server.requests[0]?.body), /"weather"/, "the tool was declared");
    });

    it("drives a streamed tool-call round trip", async () => {
      server.enqueue(reply.toolCall("weather", { city: "Nice" }), reply.text("Sunny in Nice."));
      const result = streamText({
        model: model(),
        prompt: "Weather in Nice?",
        tools: { weather },
        stopWhen: isStepCount(3),
        maxRetries: 0,
      });

      assert.equal(await result.text, "Sunny in Nice.");
      const steps = await result.steps;
      assert.equal(steps.length, 2);
      assert.deepEqual(steps[0]?.toolCalls[0]?.input, { city: "Nice" });
    });

    it("answers structured output (Output.object), plain and streamed", async () => {
      const schema = z.object({ intent: z.string(), confidence: z.number() });
      server.enqueue(
        reply.json({ intent: "billing", confidence: 0.9 }),
        reply.json({ intent: "network", confidence: 0.7 }),
      );
      const plain = await generateText({
        model: model(),
        prompt: "Classify",
        output: Output.object({ schema }),
        maxRetries: 0,
      });
      const streamed = streamText({
        model: model(),
        prompt: "Classify",
        output: Output.object({ schema }),
        maxRetries: 0,
      });

      assert.deepEqual(plain.output, { intent: "billing", confidence: 0.9 });
      assert.deepEqual(await streamed.output, { intent: "network", confidence: 0.7 });
    });

    it("honours Retry-After on 429: the SDK retries once, after the scripted delay, and succeeds", async () => {
      server.enqueue(reply.rateLimited(0.05), reply.text("after the rate limit"));
      const started = performance.now();
      const result = await generateText({ model: model(), prompt: "Hi", maxRetries: 1 });
      const elapsed = performance.now() - started;

      assert.equal(result.text, "after the rate limit");
      assert.equal(server.requests.length, 2);
      // The SDK's own backoff starts at 2 s; finishing well below it shows Retry-After was used.
      assert.ok(elapsed >= 45 && elapsed < 1500, `retried after ${elapsed} ms`);
    });

    it("surfaces a 500 as a retryable APICallError with status and body", async () => {
      server.enqueue(reply.serverError(500, "upstream exploded"));
      const error = await generateText({ model: model(), prompt: "Hi", maxRetries: 0 }).catch(
        (e: unknown) => e,
      );

      assert.ok(APICallError.isInstance(error), String(error));
      assert.equal(error.statusCode, 500);
      assert.equal(error.isRetryable, true);
      assert.match(error.message, /upstream exploded/);
      assert.match(error.responseBody ?? "", /upstream exploded/);
    });

    it("lets an AbortSignal cut a slow response short, and the server sees the client leave", async () => {
      server.enqueue(reply.text("too late", { delayMs: 10_000 }));
      const started = performance.now();
      const error = await generateText({
        model: model(),
        prompt: "Hi",
        maxRetries: 2,
        abortSignal: AbortSignal.timeout(50),
      }).catch((e: unknown) => e);

      assert.ok(performance.now() - started < 2000);
      assert.equal((error as Error).name, "TimeoutError", "aborts are not retried and keep their reason");
      assert.equal(server.requests.length, 1);
      await waitFor(() => server.requests[0]?.clientAborted === true);
    });

    it("turns a malformed JSON body into an error, not an empty answer", async () => {
      server.enqueue(reply.text("never parsed", { fault: "malformed-json" }));
      const error = await generateText({ model: model(), prompt: "Hi", maxRetries: 0 }).catch(
        (e: unknown) => e,
      );

      assert.ok(APICallError.isInstance(error), String(error));
      assert.equal(error.statusCode, 200);
      assert.equal(error.message, "Invalid JSON response");
      assert.equal(error.isRetryable, false, "the SDK does not retry it by itself");
    });

    it("reports a malformed event inside a stream through onError", async () => {
      server.enqueue(reply.text("partly parsed", { fault: "malformed-json" }));
      const errors: unknown[] = [];
      const outcome = await drain(
        streamText({
          model: model(),
          prompt: "Hi",
          maxRetries: 0,
          onError: ({ error }) => void errors.push(error),
        }),
      );

      assert.equal(errors.length, 1);
      assert.equal((errors[0] as Error).name, "AI_JSONParseError");
      // The text around the bad event still arrives: callers must treat an error part as a failed call.
      assert.equal(outcome.text, "partly parsed");
    });

    it("fails a truncated JSON body and a truncated stream", async () => {
      server.enqueue(
        reply.text("cut", { fault: "truncated" }),
        reply.text("cut in the middle", { fault: "truncated" }),
      );
      const error = await generateText({ model: model(), prompt: "Hi", maxRetries: 0 }).catch(
        (e: unknown) => e,
      );
      const errors: unknown[] = [];
      const outcome = await drain(
        streamText({
          model: model(),
          prompt: "Hi",
          maxRetries: 0,
          onError: ({ error }) => void errors.push(error),
        }),
      );

      assert.ok(APICallError.isInstance(error), String(error));
      assert.equal(error.isRetryable, true);
      assert.equal((outcome.thrown as Error | undefined)?.name, "AI_NoOutputGeneratedError");
      assert.ok(
        errors.some((e) => APICallError.isInstance(e)),
        "the cut connection is reported",
      );
      assert.ok(
        server.requests.every((request) => !request.clientAborted),
        "a cut by the server is not a client abort",
      );
    });

    it("fails a JSON request answered with an HTML page", async () => {
      server.enqueue(reply.text("html", { fault: "wrong-content-type" }));
      const error = await generateText({ model: model(), prompt: "Hi", maxRetries: 0 }).catch(
        (e: unknown) => e,
      );

      assert.ok(APICallError.isInstance(error), String(error));
      assert.match(error.responseBody ?? "", /<html>/);
    });

    it("marks a stream that ends without its final event as interrupted", async () => {
      server.enqueue(reply.text("almost done", { fault: "no-finish" }));
      const result = streamText({ model: model(), prompt: "Hi", maxRetries: 0 });

      assert.equal(await result.text, "almost done");
      assert.equal(await result.finishReason, "interrupted");
    });
  });
}

describe("provider server: script handling", () => {
  it("answers an unexpected call with a clear 500 that SDK retries do not wait on", async () => {
    const model = createOpenAI({ baseURL: server.openaiBaseURL, apiKey: "sk-test" }).chat("gpt-4.1-mini");
    const started = performance.now();
    const error = await generateText({ model, prompt: "Hi" }).catch((e: unknown) => e);

    assert.ok(RetryError.isInstance(error), String(error));
    assert.equal(server.requests.length, 3, "the default two retries reached the server");
    assert.ok(APICallError.isInstance(error.lastError));
    assert.equal(error.lastError.statusCode, 500);
    assert.match(error.lastError.message, /script exhausted: no scripted reply for request #3/);
    assert.ok(performance.now() - started < 1500, "retry-after-ms: 0 skipped the 2 s backoff");
  });

  it("lets onRequest answer instead of the queue, per request", async () => {
    const local = await startProviderServer({
      script: [reply.text("from the queue")],
      onRequest: (request) => (request.model === "fast-model" ? reply.text("from onRequest") : undefined),
    });
    try {
      const openai = createOpenAI({ baseURL: local.openaiBaseURL, apiKey: "sk-test" });
      const fast = await generateText({ model: openai.chat("fast-model"), prompt: "Hi", maxRetries: 0 });
      const other = await generateText({ model: openai.chat("other-model"), prompt: "Hi", maxRetries: 0 });

      assert.equal(fast.text, "from onRequest");
      assert.equal(other.text, "from the queue");
      assert.deepEqual(
        local.requests.map((request) => request.model),
        ["fast-model", "other-model"],
      );
      assert.equal(local.pending(), 0);
    } finally {
      await local.close();
    }
  });

  it("answers the forced json tool when Anthropic asks for structured output through it", async () => {
    server.enqueue(reply.json({ intent: "upgrade" }));
    const model = createAnthropic({ baseURL: server.anthropicBaseURL, apiKey: "sk-ant" })(
      "claude-sonnet-4-5",
    );
    const result = await generateText({
      model,
      prompt: "Classify",
      output: Output.object({ schema: z.object({ intent: z.string() }) }),
      providerOptions: { anthropic: { structuredOutputMode: "jsonTool" } },
      maxRetries: 0,
    });

    assert.deepEqual(result.output, { intent: "upgrade" });
    const body = server.requests[0]?.body as { tools?: { name: string }[] };
    assert.deepEqual(
      body.tools?.map((t) => t.name),
      ["json"],
    );
  });

  it("serves raw replies byte for byte, with status and headers", async () => {
    server.enqueue(
      reply.raw("not a model answer", { status: 418, headers: { "content-type": "text/plain" } }),
    );
    const response = await fetch(`${server.url}/anything`, { method: "POST", body: "x" });

    assert.equal(response.status, 418);
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.equal(await response.text(), "not a model answer");
    assert.equal(server.requests[0]?.api, undefined);
    assert.equal(server.requests[0]?.rawBody, "x");
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
