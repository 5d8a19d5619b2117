import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { z } from "zod";
import { defineProfile } from "../profile/load-profile.ts";
import { createSupervisor } from "../supervisor/supervisor.ts";
import { ScriptedModel } from "../testing/scripted-model.ts";
import { defineTool } from "../tools/tool.ts";
import { createRecognizerRegistry } from "./pii/recognizer-registry.ts";
import { createTokenizer } from "./pii/tokenizer.ts";
import { openVault } from "./pii/vault.ts";
import { createMemoryVaultStore } from "./pii/vault-store/memory/memory-vault-store.ts";
import { createPiiShield } from "./pii-shield.ts";

const CARD = "4111 1111 1111 1111";
const IBAN = "DE89 3704 0044 0532 0130 00";
const EMAIL = "dana@example.com";

async function shield() {
  const vault = await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) });
  return createPiiShield({ tokenizer: createTokenizer({ registry: createRecognizerRegistry(), vault }) });
}

test("no raw card, IBAN or e-mail reaches a model prompt or the journal; the tool gets the values back", async () => {
  const seenByTool: unknown[] = [];
  const refund = defineTool({
    name: "refund_to_iban",
    description: "refund to a bank account",
    input: z.object({ iban: z.string(), email: z.string() }),
    execute: async (input) => {
      seenByTool.push(input);
      return { ok: true, confirmationSentTo: input.email };
    },
  });
  // The model only ever sees tokens, so it answers with tokens; the runtime reveals them to the tool.
  const model = new ScriptedModel({
    rules: [
      (call) => {
        const iban = /<IBAN_\d+>/.exec(call.user)?.[0];
        const email = /<EMAIL_\d+>/.exec(call.user)?.[0];
        return call.step === 0
          ? { toolCalls: [{ name: "refund_to_iban", input: { iban, email } }] }
          : { object: { status: "ok", summary: `Refund sent; confirmation to ${email}.`, confidence: 0.9 } };
      },
    ],
  });
  const profile = defineProfile(
    {
      name: "p",
      models: { m: { provider: "scripted", model: "m", script: "x.yaml" } },
      workers: [
        {
          name: "billing",
          description: "refunds",
          tools: ["refund_to_iban"],
          model: "m",
          routing: { keywords: ["refund"] },
        },
      ],
    },
    { tools: [refund] },
  );
  const sup = createSupervisor({
    profile,
    shield: await shield(),
    models: {
      forWorker: () => ({ name: "m", model }),
      planner: () => undefined,
      synthesizer: () => undefined,
    },
  });
  const result = await sup.run({ message: `Refund me to ${IBAN}, I paid with card ${CARD}; mail ${EMAIL}` });
  assert.equal(result.status, "completed");
  const prompts = JSON.stringify(model.calls.map((c) => c.prompt));
  const journal = JSON.stringify(sup.journal.read(result.runId));
  for (const raw of [CARD, IBAN, EMAIL, CARD.replaceAll(" ", ""), IBAN.replaceAll(" ", "")]) {
    assert.ok(!prompts.includes(raw), `model prompt contains ${raw}`);
    assert.ok(!journal.includes(raw), `journal contains ${raw}`);
  }
  assert.match(prompts, /<CARD_1>/);
  assert.deepEqual(seenByTool, [{ iban: IBAN, email: EMAIL }]);
  // The requester sees the e-mail restored; card and IBAN tokens are never put back into an answer.
  assert.match(result.answer, /confirmation to dana@example\.com/);
  const decision = sup.journal.read(result.runId).find((e) => e.event.type === "input-guard");
  assert.deepEqual(decision?.event.type === "input-guard" && decision.event.dataClasses.sort(), [
    "BANK",
    "PCI",
    "PII",
  ]);
});

test("a token typed by the requester cannot pull a value that was not issued in this run", async () => {
  const s = await shield();
  const first = s.open("acme");
  const { text } = await first.protectText(`card ${CARD}`);
  assert.equal(text, "card <CARD_1>");
  const second = s.open("acme");
  const { value } = await second.revealValue({ card: "<CARD_1>" });
  assert.deepEqual(value, { card: "<CARD_1>" });
  const same = await first.revealValue({ card: "<CARD_1>" });
  assert.deepEqual(same, { value: { card: CARD }, dataClasses: ["PCI"] });
});
