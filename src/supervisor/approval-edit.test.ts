import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import type { ApprovalSubject } from "../journal/events.ts";
import { checkEdit, checkToolEdit } from "./approval-edit.ts";

const call: ApprovalSubject = {
  kind: "tool-call",
  tool: "issue_credit",
  input: { customerId: "C-1001", amount: 80, reason: "asked" },
};

test("an edit of a held tool call changes its own arguments, keeping their JSON types", () => {
  checkEdit(call, "approved", { amount: 40 });
  checkEdit(call, "approved", { amount: 40, reason: "half now" });
  for (const [edit, said] of [
    [{ amount: "40" }, /"amount" of issue_credit is a number \(was 80\), not a string/],
    [{ amt: 40 }, /called with customerId, amount, reason; "amt" is not one of them/],
    [JSON.parse('{"__proto__": {"amount": 1}}'), /"__proto__" is not one of them/],
    [{ constructor: 1 }, /"constructor" is not one of them/],
    [{}, /as a JSON object/],
    [[40], /as a JSON object/],
    [40, /as a JSON object/],
  ] as const) {
    assert.throws(
      () => checkEdit(call, "approved", edit),
      (error: Error & { code?: string }) => said.test(error.message) && error.code === "invalid-argument",
    );
  }
  assert.throws(() => checkEdit(call, "denied", { amount: 40 }), /a denial takes no edit here/);
});

test("each kind of approval takes the edit that fits it", () => {
  const inDoubt: ApprovalSubject = {
    kind: "in-doubt",
    tool: "charge",
    input: {},
    idempotencyKey: "r:t/charge#0",
  };
  checkEdit(inDoubt, "denied", { receipt: "R-1" });
  assert.throws(() => checkEdit(inDoubt, "approved", { receipt: "R-1" }), /runs it again as it was/);
  checkEdit({ kind: "answer" }, "approved", { summary: "Credited $40." });
  checkEdit({ kind: "answer" }, "approved", { data: { amount: 40 } });
  assert.throws(
    () => checkEdit({ kind: "answer" }, "approved", { text: "x" }),
    /\{"summary": "<text>", "data"/,
  );
  checkEdit({ kind: "delegation", input: "credit me" }, "approved", "credit me $40");
  assert.throws(
    () => checkEdit({ kind: "delegation", input: "x" }, "approved", { input: "y" }),
    /JSON string/,
  );
  // A request journaled before subjects were (an older run): any edit, as before.
  checkEdit(undefined, "approved", { anything: true });
});

test("with the tool's input schema, an edited value the tool would refuse is refused; an untouched token is not", () => {
  const input = z.object({
    customerId: z.string().regex(/^C-\d{4}$/),
    amount: z.number().positive().max(1000),
    reason: z.string().min(3),
    email: z.string().email().optional(),
  });
  const held: ApprovalSubject = {
    kind: "tool-call",
    tool: "issue_credit",
    // As the journal holds it: personal data as tokens, which the schema alone would refuse.
    input: { customerId: "C-1001", amount: 80, reason: "asked", email: "<EMAIL_1>" },
  };
  checkToolEdit(held, { amount: 40 }, input);
  checkToolEdit(held, { email: "dana@example.com" }, input);
  for (const [edit, said] of [
    [
      { amount: -5 },
      /issue_credit would refuse "amount": Too small: expected number to be >0; nothing was recorded/,
    ],
    [{ amount: 5000 }, /"amount": Too big/],
    [{ amount: 40, reason: "x" }, /would refuse "reason": Too small/],
    [{ email: "not an address" }, /"email": Invalid email/],
  ] as const) {
    assert.throws(
      () => checkToolEdit(held, edit, input),
      (error: Error & { code?: string }) => said.test(error.message) && error.code === "invalid-argument",
    );
  }
});
