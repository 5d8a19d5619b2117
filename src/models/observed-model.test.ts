import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LanguageModelV4CallOptions, LanguageModelV4Message } from "@ai-sdk/provider";
import { MemoryDurableEngine } from "../durable/memory/memory-durable.ts";
import type { RunEventInput } from "../journal/events.ts";
import { ScriptedModel } from "../testing/scripted-model.ts";
import { observeModel } from "./observed-model.ts";

/** A shield that replaces the digits of every string it sees, counting the contents it was given. */
function countingShield(failFirst = false) {
  const seen: unknown[] = [];
  let failures = failFirst ? 1 : 0;
  const scrub = (value: unknown): unknown =>
    typeof value === "string"
      ? value.replaceAll(/\d/g, "#")
      : Array.isArray(value)
        ? value.map(scrub)
        : value !== null && typeof value === "object"
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]))
          : value;
  return {
    seen,
    async protectValue<T>(value: T): Promise<T> {
      seen.push(value);
      if (failures > 0) {
        failures--;
        throw new Error("vault unavailable");
      }
      return scrub(value) as T;
    },
  };
}

function observed(shield: ReturnType<typeof countingShield>, model: ScriptedModel) {
  const events: RunEventInput[] = [];
  return {
    events,
    model: observeModel(model, {
      purpose: "worker",
      taskId: "t1",
      stepPrefix: "t1:1",
      durable: new MemoryDurableEngine().open("r1"),
      protect: shield,
      emit: (event) => events.push(event),
      onUsage: () => {},
    }),
  };
}

const call = (prompt: LanguageModelV4Message[]): LanguageModelV4CallOptions => ({ prompt: [...prompt] });

describe("observeModel with a shield", () => {
  it("sends only protected messages, and protects a message sent again only once", async () => {
    const shield = countingShield();
    const scripted = new ScriptedModel({ rules: [{ reply: { text: "ok" } }] });
    const { model, events } = observed(shield, scripted);
    // A tool loop's prompt: the same message objects again on every step, with new ones appended.
    const prompt: LanguageModelV4Message[] = [
      { role: "system", content: "agent 007" },
      { role: "user", content: [{ type: "text", text: "card 4111 1111 1111 1111" }] },
    ];
    await model.doGenerate(call(prompt));
    prompt.push(
      { role: "assistant", content: [{ type: "text", text: "call 555-0100" }] },
      { role: "user", content: [{ type: "text", text: "order 42" }] },
    );
    await model.doGenerate(call(prompt));

    assert.equal(shield.seen.length, 4, "each of the four messages is protected once");
    const sent = scripted.calls.map((c) => c.prompt);
    assert.equal(sent.length, 2);
    assert.doesNotMatch(JSON.stringify(sent), /\d/, "no digit reaches the model");
    assert.equal(sent[1]![0], sent[0]![0], "the protected copy of a message is sent again");
    assert.equal(events.filter((e) => e.type === "model-call-end").length, 2);
  });

  it("does not remember a failed protection: the next call protects the message again", async () => {
    const shield = countingShield(true);
    const scripted = new ScriptedModel({ rules: [{ reply: { text: "ok" } }] });
    const { model } = observed(shield, scripted);
    const prompt: LanguageModelV4Message[] = [{ role: "system", content: "agent 007" }];
    await assert.rejects(async () => model.doGenerate(call(prompt)), /vault unavailable/);
    assert.equal(scripted.callCount, 0, "nothing unprotected was sent");
    await model.doGenerate(call(prompt));
    assert.equal(shield.seen.length, 2);
    assert.equal(scripted.calls[0]!.system, "agent ###");
  });
});
