import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { parseModelSpec } from "./parse-model-spec.ts";

describe("parseModelSpec", () => {
  const good: [string, Record<string, unknown>][] = [
    ["openai:gpt-4.1-mini", { provider: "openai", model: "gpt-4.1-mini", external: true }],
    ["anthropic:claude-sonnet-4-5", { provider: "anthropic", model: "claude-sonnet-4-5", external: true }],
    ["ollama:llama3.1", { provider: "ollama", model: "llama3.1", external: false }],
    ["ollama:llama3.1:8b", { provider: "ollama", model: "llama3.1:8b", external: false }],
    [
      "bedrock:anthropic.claude-3-5-haiku-20241022-v1:0",
      { provider: "bedrock", model: "anthropic.claude-3-5-haiku-20241022-v1:0", external: true },
    ],
    ["google:gemini-2.5-flash", { provider: "google", model: "gemini-2.5-flash", external: true }],
    ["azure:my-gpt4o-deployment", { provider: "azure", model: "my-gpt4o-deployment", external: true }],
    ["scripted:echo", { provider: "scripted", model: "echo", external: false }],
    [
      "openai-compatible:qwen2.5@http://127.0.0.1:8000/v1",
      {
        provider: "openai-compatible",
        model: "qwen2.5",
        baseURL: "http://127.0.0.1:8000/v1",
        external: false,
      },
    ],
    [
      "openai-compatible:meta-llama/Llama-3.1-8B@https://vllm.internal.example:8443/v1",
      {
        provider: "openai-compatible",
        model: "meta-llama/Llama-3.1-8B",
        baseURL: "https://vllm.internal.example:8443/v1",
        external: true,
      },
    ],
    [
      "ollama:llama3.1@http://gpu-box:11434/v1",
      { provider: "ollama", model: "llama3.1", baseURL: "http://gpu-box:11434/v1", external: true },
    ],
    ["  OpenAI:gpt-4o  ", { provider: "openai", model: "gpt-4o", external: true }],
  ];
  for (const [text, expected] of good) {
    it(`parses ${text.trim()}`, () => {
      assert.deepEqual(parseModelSpec(text), expected);
    });
  }

  it("lists the known providers for an unknown one", () => {
    assert.throws(
      () => parseModelSpec("mistral:large"),
      (error: unknown) => {
        assert.ok(ArbiterError.is(error, ErrorCode.UnknownModel));
        assert.match(error.message, /Unknown model provider "mistral"/);
        assert.match(
          error.message,
          /openai, anthropic, bedrock, google, azure, openai-compatible, ollama, scripted/,
        );
        assert.deepEqual(error.details.knownProviders, [
          "openai",
          "anthropic",
          "bedrock",
          "google",
          "azure",
          "openai-compatible",
          "ollama",
          "scripted",
        ]);
        return true;
      },
    );
  });

  const bad: [string, RegExp][] = [
    ["gpt-4.1-mini", /no provider prefix/],
    [":gpt-4.1-mini", /no provider prefix/],
    ["openai:", /no model id/],
    ["openai:   ", /no model id/],
    ["openai-compatible:qwen2.5", /no base URL/],
    ["openai-compatible:@http://127.0.0.1:8000/v1", /no model id/],
    ["openai-compatible:qwen@http://", /baseURL must be an http\(s\) URL/],
  ];
  for (const [text, message] of bad) {
    it(`rejects "${text}" with invalid-argument and the accepted forms`, () => {
      assert.throws(
        () => parseModelSpec(text),
        (error: unknown) => {
          assert.ok(ArbiterError.is(error, ErrorCode.InvalidArgument), String(error));
          assert.match(error.message, message);
          assert.match(error.message, /provider:model/);
          return true;
        },
      );
    });
  }
});
