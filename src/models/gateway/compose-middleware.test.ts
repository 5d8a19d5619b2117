import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LanguageModelV4CallOptions, LanguageModelV4Middleware } from "@ai-sdk/provider";
import { ScriptedModel } from "../../testing/scripted-model.ts";
import { composeMiddleware } from "./compose-middleware.ts";

const prompt: LanguageModelV4CallOptions["prompt"] = [
  { role: "user", content: [{ type: "text", text: "hello" }] },
];

/** A middleware that logs its passage and tags the parameters it transforms. */
function tracer(
  name: string,
  log: string[],
  options: { transform?: boolean } = {},
): LanguageModelV4Middleware {
  return {
    specificationVersion: "v4",
    ...(options.transform
      ? {
          transformParams: async ({ params, type }) => {
            log.push(`${name}:transform:${type}`);
            return { ...params, headers: { ...params.headers, [name]: "1" } };
          },
        }
      : {}),
    wrapGenerate: async ({ doGenerate, params }) => {
      log.push(`${name}:before:${Object.keys(params.headers ?? {}).join(",")}`);
      const result = await doGenerate();
      log.push(`${name}:after`);
      return result;
    },
    wrapStream: async ({ doStream }) => {
      log.push(`${name}:stream`);
      return doStream();
    },
  };
}

describe("composeMiddleware", () => {
  it("the first middleware is the outermost; each layer sees the parameters the outer layers transformed", async () => {
    const log: string[] = [];
    const model = new ScriptedModel({ rules: [{ reply: { text: "hi" } }] });
    const wrapped = composeMiddleware(model, [
      tracer("a", log, { transform: true }),
      tracer("b", log),
      tracer("c", log, { transform: true }),
    ]);
    const result = await wrapped.doGenerate({ prompt });
    assert.deepEqual(result.content, [{ type: "text", text: "hi" }]);
    assert.deepEqual(log, [
      "a:transform:generate",
      "a:before:a",
      "b:before:a",
      "c:transform:generate",
      "c:before:a,c",
      "c:after",
      "b:after",
      "a:after",
    ]);
    assert.equal(model.calls.length, 1);
  });

  it("streams go through wrapStream with the transformed parameters; a layer without hooks passes through", async () => {
    const log: string[] = [];
    const model = new ScriptedModel({ rules: [{ reply: { text: "streamed" } }] });
    const wrapped = composeMiddleware(model, [
      tracer("a", log, { transform: true }),
      { specificationVersion: "v4" },
      tracer("b", log),
    ]);
    const { stream } = await wrapped.doStream({ prompt });
    let text = "";
    for await (const part of stream) if (part.type === "text-delta") text += part.delta;
    assert.equal(text, "streamed");
    assert.deepEqual(log, ["a:transform:stream", "a:stream", "b:stream"]);
  });

  it("a failure anywhere reaches the caller as thrown, and the override hooks name the model", async () => {
    const model = new ScriptedModel({ provider: "p", modelId: "m", rules: [{ reply: { error: "boom" } }] });
    const wrapped = composeMiddleware(model, [
      { specificationVersion: "v4", overrideModelId: ({ model }) => `${model.modelId}+gw` },
      {
        specificationVersion: "v4",
        transformParams: async () => {
          throw new Error("refused before the call");
        },
      },
    ]);
    assert.equal(wrapped.modelId, "m+gw");
    assert.equal(wrapped.provider, "p");
    await assert.rejects(Promise.resolve(wrapped.doGenerate({ prompt })), /refused before the call/);
    assert.equal(model.calls.length, 0);
    const plain = composeMiddleware(model, [{ specificationVersion: "v4" }]);
    await assert.rejects(Promise.resolve(plain.doGenerate({ prompt })), /boom/);
  });
});
