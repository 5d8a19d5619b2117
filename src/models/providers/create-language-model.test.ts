import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { APICallError, generateText, streamText } from "ai";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { ProviderServer } from "../../testing/provider-server/provider-server.ts";
import { startProviderServer } from "../../testing/provider-server/provider-server.ts";
import { reply } from "../../testing/provider-server/scripted-reply.ts";
import { createLanguageModel } from "./create-language-model.ts";
import type { ModelSpecInput } from "./model-spec.ts";
import { parseModelSpec } from "./parse-model-spec.ts";

let server: ProviderServer;
before(async () => {
  server = await startProviderServer();
});
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

const emptyEnv = {};

async function ask(model: LanguageModelV4): Promise<string> {
  const { text } = await generateText({ model, prompt: "Hello", maxRetries: 0 });
  return text;
}

describe("createLanguageModel: each provider talks to its endpoint", () => {
  it("openai uses the Responses API by default, with the key from OPENAI_API_KEY", async () => {
    server.enqueue(reply.text("hi from responses"));
    const model = createLanguageModel(
      { provider: "openai", model: "gpt-4.1-mini", baseURL: server.openaiBaseURL },
      { env: { OPENAI_API_KEY: "sk-env-aaaa" } },
    );

    assert.equal(await ask(model), "hi from responses");
    assert.equal(server.requests[0]?.path, "/v1/responses");
    assert.equal(server.requests[0]?.headers.authorization, "Bearer ****aaaa");
    assert.equal(server.requests[0]?.model, "gpt-4.1-mini");
  });

  it('openai with options.api "chat" uses Chat Completions; apiKeyEnv and headers apply', async () => {
    server.enqueue(reply.text("hi from chat"));
    const model = createLanguageModel(
      {
        provider: "openai",
        model: "gpt-4.1-mini",
        baseURL: server.openaiBaseURL,
        apiKeyEnv: "TEAM_OPENAI_KEY",
        headers: { "x-team": "billing" },
        options: { api: "chat", organization: "org-1" },
      },
      { env: { TEAM_OPENAI_KEY: "sk-team-bbbb", OPENAI_API_KEY: "sk-wrong-zzzz" } },
    );

    assert.equal(await ask(model), "hi from chat");
    const [request] = server.requests;
    assert.equal(request?.path, "/v1/chat/completions");
    assert.equal(request?.headers.authorization, "Bearer ****bbbb");
    assert.equal(request?.headers["x-team"], "billing");
    assert.equal(request?.headers["openai-organization"], "org-1");
  });

  it("anthropic sends x-api-key from ANTHROPIC_API_KEY to /v1/messages", async () => {
    server.enqueue(reply.text("hi from claude"));
    const model = createLanguageModel(
      { provider: "anthropic", model: "claude-sonnet-4-5", baseURL: server.anthropicBaseURL },
      { env: { ANTHROPIC_API_KEY: "sk-ant-cccc" } },
    );

    assert.equal(await ask(model), "hi from claude");
    assert.equal(server.requests[0]?.path, "/v1/messages");
    assert.equal(server.requests[0]?.headers["x-api-key"], "****cccc");
    assert.equal(server.requests[0]?.headers["anthropic-version"], "2023-06-01");
  });

  it("openai-compatible (parsed from a CLI spec) streams with usage and needs no key", async () => {
    server.enqueue(reply.text("hi from vllm", { usage: { inputTokens: 9, outputTokens: 3 } }));
    const model = createLanguageModel(parseModelSpec(`openai-compatible:qwen2.5@${server.openaiBaseURL}`), {
      env: emptyEnv,
    });
    const result = streamText({ model, prompt: "Hello", maxRetries: 0 });

    assert.equal(await result.text, "hi from vllm");
    assert.equal((await result.usage).inputTokens, 9, "includeUsage is on, so streamed usage arrives");
    const [request] = server.requests;
    assert.equal(request?.path, "/v1/chat/completions");
    assert.equal(request?.headers.authorization, undefined);
    assert.deepEqual((request?.body as { stream_options?: unknown } | undefined)?.stream_options, {
      include_usage: true,
    });
  });

  it("ollama reaches the given base URL without a key; apiKeyEnv adds one", async () => {
    server.enqueue(reply.text("hi from llama"), reply.text("hi with key"));
    const plain = createLanguageModel(parseModelSpec(`ollama:llama3.1:8b@${server.openaiBaseURL}`), {
      env: emptyEnv,
    });
    const keyed = createLanguageModel(
      { provider: "ollama", model: "llama3.1", baseURL: server.openaiBaseURL, apiKeyEnv: "OLLAMA_KEY" },
      { env: { OLLAMA_KEY: "ol-dddd" } },
    );

    assert.equal(await ask(plain), "hi from llama");
    assert.equal(await ask(keyed), "hi with key");
    assert.equal(server.requests[0]?.model, "llama3.1:8b");
    assert.equal(server.requests[0]?.headers.authorization, undefined);
    assert.equal(server.requests[1]?.headers.authorization, "Bearer ****dddd");
  });

  it("ollama defaults to 127.0.0.1:11434/v1", async () => {
    const urls: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return Response.json({ choices: [{ index: 0, message: { role: "assistant", content: "ok" } }] });
    };
    const model = createLanguageModel(parseModelSpec("ollama:llama3.1"), { env: emptyEnv, fetch });

    assert.equal(await ask(model), "ok");
    assert.deepEqual(urls, ["http://127.0.0.1:11434/v1/chat/completions"]);
  });

  it("azure with a baseURL sends the api-key header to <baseURL>/responses (or /chat/completions)", async () => {
    server.enqueue(reply.text("hi from azure"), reply.text("hi from azure chat"));
    const env = { AZURE_API_KEY: "az-eeee" };
    const responses = createLanguageModel(
      { provider: "azure", model: "my-gpt4o-deployment", baseURL: server.openaiBaseURL },
      { env },
    );
    const chat = createLanguageModel(
      {
        provider: "azure",
        model: "my-gpt4o-deployment",
        baseURL: server.openaiBaseURL,
        options: { api: "chat" },
      },
      { env },
    );

    assert.equal(await ask(responses), "hi from azure");
    assert.equal(await ask(chat), "hi from azure chat");
    assert.deepEqual(
      server.requests.map((request) => [request.path, request.headers["api-key"], request.model]),
      [
        ["/v1/responses", "****eeee", "my-gpt4o-deployment"],
        ["/v1/chat/completions", "****eeee", "my-gpt4o-deployment"],
      ],
    );
  });

  it("azure without a baseURL builds the resource URL from AZURE_RESOURCE_NAME", async () => {
    const urls: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return Response.json({ choices: [{ index: 0, message: { role: "assistant", content: "ok" } }] });
    };
    const model = createLanguageModel(
      { provider: "azure", model: "dep-1", options: { api: "chat" } },
      { env: { AZURE_API_KEY: "k", AZURE_RESOURCE_NAME: "contoso" }, fetch },
    );

    assert.equal(await ask(model), "ok");
    assert.deepEqual(urls, ["https://contoso.openai.azure.com/openai/v1/chat/completions?api-version=v1"]);
  });

  it("google sends x-goog-api-key to <baseURL>/models/<model>:generateContent", async () => {
    server.enqueue(
      reply.raw(
        JSON.stringify({
          candidates: [
            { content: { role: "model", parts: [{ text: "hi from gemini" }] }, finishReason: "STOP" },
          ],
          usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 3, totalTokenCount: 7 },
        }),
      ),
    );
    const model = createLanguageModel(
      { provider: "google", model: "gemini-2.5-flash", baseURL: `${server.url}/v1beta` },
      { env: { GOOGLE_GENERATIVE_AI_API_KEY: "g-ffff" } },
    );
    const result = await generateText({ model, prompt: "Hello", maxRetries: 0 });

    assert.equal(result.text, "hi from gemini");
    assert.equal(result.usage.outputTokens, 3);
    assert.equal(server.requests[0]?.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert.equal(server.requests[0]?.headers["x-goog-api-key"], "****ffff");
  });

  it("bedrock signs with SigV4 from the AWS_* variables and calls /model/<id>/converse", async () => {
    server.enqueue(
      reply.raw(
        JSON.stringify({
          output: { message: { role: "assistant", content: [{ text: "hi from bedrock" }] } },
          stopReason: "end_turn",
          usage: { inputTokens: 5, outputTokens: 4, totalTokens: 9 },
        }),
      ),
    );
    const model = createLanguageModel(
      { provider: "bedrock", model: "anthropic.claude-3-5-haiku-20241022-v1:0", baseURL: server.url },
      { env: { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "eu-west-1" } },
    );
    const result = await generateText({ model, prompt: "Hello", maxRetries: 0 });

    assert.equal(result.text, "hi from bedrock");
    assert.equal(result.usage.inputTokens, 5);
    const [request] = server.requests;
    assert.equal(request?.path, "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
    assert.match(request?.headers.authorization ?? "", /^AWS4-HMAC-SHA256 /);
  });

  it("bedrock uses AWS_BEARER_TOKEN_BEDROCK when it is set", async () => {
    server.enqueue(
      reply.raw(
        JSON.stringify({
          output: { message: { role: "assistant", content: [{ text: "bearer ok" }] } },
          stopReason: "end_turn",
          usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
        }),
      ),
    );
    const model = createLanguageModel(
      { provider: "bedrock", model: "amazon.nova-lite-v1:0", baseURL: server.url },
      { env: { AWS_BEARER_TOKEN_BEDROCK: "bedrock-gggg", AWS_REGION: "us-east-1" } },
    );

    assert.equal(await ask(model), "bearer ok");
    assert.equal(server.requests[0]?.headers.authorization, "Bearer ****gggg");
  });

  it("scripted specs are built by the injected factory", async () => {
    let seen: string | undefined;
    const scripted = (spec: { model: string }) => {
      seen = spec.model;
      return createLanguageModel(
        { provider: "openai", model: "gpt-4.1-mini", baseURL: server.openaiBaseURL },
        { env: { OPENAI_API_KEY: "k" } },
      );
    };
    createLanguageModel(parseModelSpec("scripted:echo"), { scripted });
    assert.equal(seen, "echo");
    assert.throws(
      () => createLanguageModel(parseModelSpec("scripted:echo")),
      (error: unknown) => ArbiterError.is(error, ErrorCode.InvalidArgument) && /scripted/.test(error.message),
    );
  });

  it("passes requests through the injected fetch", async () => {
    server.enqueue(reply.text("through fetch"));
    const seen: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      seen.push(String(input));
      return globalThis.fetch(input, init);
    };
    const model = createLanguageModel(
      { provider: "anthropic", model: "claude-haiku-4-5", baseURL: server.anthropicBaseURL },
      { env: { ANTHROPIC_API_KEY: "k" }, fetch },
    );

    assert.equal(await ask(model), "through fetch");
    assert.deepEqual(seen, [`${server.anthropicBaseURL}/messages`]);
  });
});

describe("createLanguageModel: credentials are checked eagerly", () => {
  const cases: { spec: ModelSpecInput; env: Record<string, string>; missing: string[] }[] = [
    { spec: { provider: "openai", model: "gpt-4.1-mini" }, env: {}, missing: ["OPENAI_API_KEY"] },
    { spec: { provider: "anthropic", model: "claude-sonnet-4-5" }, env: {}, missing: ["ANTHROPIC_API_KEY"] },
    {
      spec: { provider: "google", model: "gemini-2.5-flash" },
      env: {},
      missing: ["GOOGLE_GENERATIVE_AI_API_KEY"],
    },
    { spec: { provider: "azure", model: "dep" }, env: {}, missing: ["AZURE_API_KEY", "AZURE_RESOURCE_NAME"] },
    {
      spec: { provider: "azure", model: "dep", baseURL: "https://x.example/v1" },
      env: {},
      missing: ["AZURE_API_KEY"],
    },
    {
      spec: { provider: "bedrock", model: "amazon.nova-lite-v1:0" },
      env: { AWS_ACCESS_KEY_ID: "id" },
      missing: ["AWS_SECRET_ACCESS_KEY", "AWS_REGION"],
    },
    {
      spec: { provider: "openai", model: "gpt-4.1-mini", apiKeyEnv: "TEAM_KEY" },
      env: { OPENAI_API_KEY: "present but not the one asked for" },
      missing: ["TEAM_KEY"],
    },
    {
      spec: {
        provider: "openai-compatible",
        model: "m",
        baseURL: "http://127.0.0.1:1/v1",
        apiKeyEnv: "VLLM_KEY",
      },
      env: {},
      missing: ["VLLM_KEY"],
    },
    {
      spec: { provider: "openai", model: "gpt-4.1-mini" },
      env: { OPENAI_API_KEY: "  " },
      missing: ["OPENAI_API_KEY"],
    },
  ];

  for (const { spec, env, missing } of cases) {
    it(`${spec.provider}:${spec.model}${spec.apiKeyEnv ? ` (apiKeyEnv ${spec.apiKeyEnv})` : ""} names ${missing.join(", ")}`, () => {
      assert.throws(
        () => createLanguageModel(spec, { env }),
        (error: unknown) => {
          assert.ok(ArbiterError.is(error, ErrorCode.MissingCredentials), String(error));
          assert.deepEqual(error.details.variables, missing);
          for (const name of missing) assert.match(error.message, new RegExp(`export .*${name}=`));
          assert.ok(error.isInputError);
          return true;
        },
      );
    });
  }

  it("does not read process.env when an env is injected", () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = "sk-from-process";
    try {
      assert.throws(
        () => createLanguageModel({ provider: "openai", model: "gpt-4.1-mini" }, { env: {} }),
        /OPENAI_API_KEY/,
      );
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it("rejects invalid specs and options with invalid-argument", () => {
    assert.throws(
      () => createLanguageModel({ provider: "openai-compatible", model: "m" }, { env: {} }),
      (error: unknown) => ArbiterError.is(error, ErrorCode.InvalidArgument) && /baseURL/.test(error.message),
    );
    assert.throws(
      () =>
        createLanguageModel(
          { provider: "openai", model: "gpt-4.1-mini", options: { api: "completions" } },
          { env: { OPENAI_API_KEY: "k" } },
        ),
      (error: unknown) =>
        ArbiterError.is(error, ErrorCode.InvalidArgument) && /options\.api/.test(error.message),
    );
  });
});

describe("createLanguageModel: content-type guard", () => {
  it("turns an HTML page answering a stream into a retryable APICallError instead of an empty answer", async () => {
    server.enqueue(reply.text("html instead of events", { fault: "wrong-content-type" }));
    const model = createLanguageModel(
      { provider: "openai", model: "gpt-4.1-mini", baseURL: server.openaiBaseURL },
      { env: { OPENAI_API_KEY: "k" } },
    );
    const errors: unknown[] = [];
    const failed = streamText({
      model,
      prompt: "Hi",
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    });
    await Promise.resolve(failed.text).catch(() => undefined);

    const [error] = errors;
    assert.ok(APICallError.isInstance(error), String(error));
    assert.equal(error.statusCode, 200);
    assert.equal(error.isRetryable, true);
    assert.match(error.message, /text\/html/);
    assert.match(error.responseBody ?? "", /<html>/);

    // Because it is retryable, the SDK's own retry reaches the next scripted answer.
    server.enqueue(
      reply.text("html again", { fault: "wrong-content-type", headers: { "retry-after-ms": "0" } }),
      reply.text("recovered"),
    );
    server.requests.length = 0;
    const retried = await generateText({ model, prompt: "Hi", maxRetries: 1 }).catch((e: unknown) => e);
    assert.equal(server.requests.length, 2);
    assert.equal((retried as { text?: string }).text, "recovered");
  });

  it("rejects JSON where an event stream was asked for", async () => {
    server.enqueue(reply.raw(JSON.stringify({ id: "x", choices: [] })));
    const model = createLanguageModel(
      { provider: "openai", model: "gpt-4.1-mini", baseURL: server.openaiBaseURL, options: { api: "chat" } },
      { env: { OPENAI_API_KEY: "k" } },
    );
    const errors: unknown[] = [];
    const result = streamText({
      model,
      prompt: "Hi",
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    });
    await Promise.resolve(result.text).catch(() => undefined);

    assert.ok(APICallError.isInstance(errors[0]), String(errors[0]));
    assert.match((errors[0] as Error).message, /application\/json.*event stream/);
  });
});
