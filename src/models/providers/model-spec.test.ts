import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLoopbackURL, modelSpecSchema } from "./model-spec.ts";

describe("modelSpecSchema", () => {
  it("accepts a full catalog entry and keeps every field", () => {
    const entry = {
      provider: "openai",
      model: "gpt-4.1-mini",
      baseURL: "https://proxy.example/v1",
      apiKeyEnv: "TEAM_OPENAI_KEY",
      price: { inputPerMTok: 0.4, outputPerMTok: 1.6 },
      contextWindow: 1_047_576,
      latencyObjectiveMs: 1500,
      external: true,
      headers: { "x-team": "billing" },
      options: { api: "chat" },
    };
    assert.deepEqual(modelSpecSchema.parse(entry), entry);
  });

  it("defaults external to true for cloud providers and false for local models", () => {
    const external = (input: Record<string, unknown>) => modelSpecSchema.parse(input).external;
    assert.equal(external({ provider: "anthropic", model: "claude-sonnet-4-5" }), true);
    assert.equal(external({ provider: "ollama", model: "llama3.1" }), false);
    assert.equal(
      external({ provider: "ollama", model: "llama3.1", baseURL: "http://gpu.example:11434/v1" }),
      true,
    );
    assert.equal(
      external({ provider: "openai-compatible", model: "m", baseURL: "http://localhost:8000/v1" }),
      false,
    );
    assert.equal(
      external({ provider: "openai-compatible", model: "m", baseURL: "http://10.0.0.5:8000/v1" }),
      true,
    );
    assert.equal(external({ provider: "scripted", model: "echo" }), false);
    // An explicit value wins: an on-premises vLLM can be declared internal.
    assert.equal(
      external({
        provider: "openai-compatible",
        model: "m",
        baseURL: "http://10.0.0.5:8000/v1",
        external: false,
      }),
      false,
    );
    assert.equal(external({ provider: "ollama", model: "llama3.1", external: true }), true);
  });

  it("rejects bad entries with the path of each problem", () => {
    const issues = (input: unknown) => {
      const result = modelSpecSchema.safeParse(input);
      assert.equal(result.success, false);
      return result.error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) ?? [];
    };
    assert.match(issues({ provider: "mistral", model: "x" }).join(), /provider: .*"openai"/);
    assert.match(issues({ provider: "openai", model: "" }).join(), /model: model must not be empty/);
    assert.match(
      issues({ provider: "openai-compatible", model: "m" }).join(),
      /baseURL: openai-compatible models need/,
    );
    assert.match(
      issues({ provider: "openai", model: "m", baseURL: "ftp://x" }).join(),
      /baseURL: baseURL must be/,
    );
    assert.match(issues({ provider: "openai", model: "m", apiKeyEnv: "not a name" }).join(), /apiKeyEnv/);
    assert.match(
      issues({ provider: "openai", model: "m", price: { inputPerMTok: -1, outputPerMTok: 1 } }).join(),
      /price\.inputPerMTok/,
    );
    assert.match(issues({ provider: "openai", model: "m", contextWindow: 1.5 }).join(), /contextWindow/);
    assert.match(issues({ provider: "openai", model: "m", apiKey: "sk-secret" }).join(), /apiKey/);
  });
});

describe("isLoopbackURL", () => {
  it("recognises this machine only", () => {
    for (const url of [
      "http://localhost:1/v1",
      "http://127.0.0.1/v1",
      "http://127.1.2.3",
      "http://[::1]:8000",
    ]) {
      assert.equal(isLoopbackURL(url), true, url);
    }
    for (const url of [
      "http://10.0.0.1",
      "https://api.openai.com/v1",
      "http://localhost.evil.com",
      "not a url",
    ]) {
      assert.equal(isLoopbackURL(url), false, url);
    }
  });
});
